import path from 'node:path';
import { repoRoot } from '../harness/index.js';

/** deploy/k8s and its parts. */
export const K8S_DIR = (): string => path.join(repoRoot(), 'deploy', 'k8s');
export const OVERLAYS = ['dev-cpu', 'prod-gpu'] as const;
export const COMPONENTS = [
  'monitoring',
  'autoscaling-keda',
  'autoscaling-hpa',
  'dashboards',
  'alerts',
  'gpu-nvidia',
  'cpu',
] as const;
export const DASHBOARDS_DIR = (): string => path.join(K8S_DIR(), 'components', 'dashboards');
export const ALERTS_FILE = (): string => path.join(K8S_DIR(), 'components', 'alerts', 'loom-alerts.yaml');
export const ALERT_TESTS_FILE = (): string =>
  path.join(K8S_DIR(), 'components', 'alerts', 'tests', 'loom-alerts.test.yaml');
export const KEDA_SCALED_OBJECT = (): string =>
  path.join(K8S_DIR(), 'components', 'autoscaling-keda', 'worker-scaledobject.yaml');
export const ADAPTER_RULES = (): string =>
  path.join(K8S_DIR(), 'components', 'autoscaling-hpa', 'prometheus-adapter-rules.yaml');
