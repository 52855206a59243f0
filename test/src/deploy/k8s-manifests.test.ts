import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { at } from '@loom/common';
import { COMPONENTS, K8S_DIR, OVERLAYS } from './deploy-paths.js';
import { byKind, kustomize, kustomizeInline, one, type K8sObject } from './kustomize.js';
import { typedManifestSource, validateWithSchema } from './manifest-models.js';
import { typecheckSource } from './typecheck.js';

/** Every render the repo offers: the base, each overlay, and each component on the base alone. */
function renders(): Map<string, K8sObject[]> {
  const out = new Map<string, K8sObject[]>();
  out.set('base', kustomize(path.join(K8S_DIR(), 'base')));
  for (const o of OVERLAYS) out.set(`overlays/${o}`, kustomize(path.join(K8S_DIR(), 'overlays', o)));
  for (const c of COMPONENTS) {
    const text =
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: loom\nresources: ["{0}"]\ncomponents: ["{1}"]\n';
    out.set(
      `base+components/${c}`,
      kustomizeInline(text, [path.join(K8S_DIR(), 'base'), path.join(K8S_DIR(), 'components', c)]),
    );
  }
  return out;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
const podSpecOf = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;
interface Container {
  name: string;
  image: string;
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean };
  serviceAccountName?: string;
}

describe('deploy/k8s renders and validates offline', () => {
  const all = renders();

  test('every render has objects and no unnamed or duplicate ones', () => {
    assert.equal(all.size, 1 + OVERLAYS.length + COMPONENTS.length);
    for (const [name, objs] of all) {
      assert.ok(objs.length > 0, `${name} renders nothing`);
      const ids = objs.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      assert.equal(new Set(ids).size, ids.length, `${name}: duplicate objects`);
    }
  });

  test('every namespaced object is in a namespace (components add objects after the base set it)', () => {
    for (const [name, objs] of all)
      for (const o of objs)
        if (!CLUSTER_SCOPED.has(o.kind))
          assert.ok(o.metadata.namespace, `${name}: ${o.kind}/${o.metadata.name} has no namespace`);
  });

  test('every object validates against its Kubernetes / KEDA / prometheus-operator schema', async () => {
    for (const [name, objs] of all)
      for (const o of objs)
        assert.equal(await validateWithSchema(o), undefined, `${name}: ${o.kind}/${o.metadata.name}`);
  });

  test('every object type-checks as its model, unknown fields included (excess-property check)', () => {
    const objs = [...all.values()].flat();
    const errors = typecheckSource(typedManifestSource(objs));
    assert.deepEqual(errors, [], 'type errors in rendered manifests');
  });

  test('a deliberately misspelled field fails both checks where each applies', async () => {
    const prod = all.get('overlays/prod-gpu')!;
    const deployment = structuredClone(one(prod, 'Deployment', 'worker'));
    const spec = deployment.spec as Record<string, unknown>;
    spec.replica = 1; // misspelled `replicas`: only the excess-property check can see it
    const podMonitor = structuredClone(one(prod, 'PodMonitor', 'loom'));
    at((podMonitor.spec as { podMetricsEndpoints: Record<string, unknown>[] }).podMetricsEndpoints, 0).intervall =
      '15s';
    const scaled = structuredClone(one(prod, 'ScaledObject', 'worker'));
    (scaled.spec as Record<string, unknown>).minReplicaCounts = 0;
    const errors = typecheckSource(typedManifestSource([deployment, podMonitor, scaled]));
    for (const [line, field] of [
      [2, 'replica'],
      [3, 'intervall'],
      [4, 'minReplicaCounts'],
    ] as const)
      assert.ok(
        errors.some((e) => e.startsWith(`${line}:`) && e.includes(`"${field}"`) && e.includes('known properties')),
        `no error for ${field}: ${errors.join(' | ')}`,
      );

    const wrongType = structuredClone(one(prod, 'Deployment', 'worker'));
    (wrongType.spec as Record<string, unknown>).minReadySeconds = 'ten';
    assert.match((await validateWithSchema(wrongType)) ?? '', /minReadySeconds/);
    const noTrigger = structuredClone(scaled);
    delete (noTrigger.spec as Record<string, unknown>).triggers;
    assert.match((await validateWithSchema(noTrigger)) ?? '', /triggers/);
  });

  test('KEDA scaleTargetRef follows a namePrefix, thanks to the nameReference configuration', () => {
    const text =
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: team-a-\nnamespace: loom\nresources: ["{0}"]\ncomponents: ["{1}"]\n';
    const base = path.join(K8S_DIR(), 'base');
    const keda = path.join(K8S_DIR(), 'components', 'autoscaling-keda');
    const objs = kustomizeInline(text, [base, keda]);
    assert.equal(byKind(objs, 'Deployment', 'team-a-worker').length, 1);
    const target = (one(objs, 'ScaledObject', 'team-a-worker').spec as { scaleTargetRef: { name: string } })
      .scaleTargetRef;
    assert.equal(target.name, 'team-a-worker');

    // The same component without its `configurations:` leaves the reference dangling: the test above
    // passes because of the configuration, not by accident.
    const broken = mkdtempSync(path.join(os.tmpdir(), 'loom-keda-'));
    try {
      cpSync(keda, broken, { recursive: true });
      const k = path.join(broken, 'kustomization.yaml');
      writeFileSync(k, readFileSync(k, 'utf8').replace(/^configurations:\n(\s+- .*\n)+/m, ''));
      const objs2 = kustomizeInline(text, [base, broken]);
      const target2 = (one(objs2, 'ScaledObject', 'team-a-worker').spec as { scaleTargetRef: { name: string } })
        .scaleTargetRef;
      assert.equal(target2.name, 'worker');
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  test('pods run non-root with a read-only root filesystem, resources set, and the right probes', () => {
    for (const [name, objs] of all) {
      for (const w of [...byKind(objs, 'Deployment'), ...byKind(objs, 'StatefulSet')]) {
        const pod = podSpecOf(w);
        assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: ${w.metadata.name} runAsNonRoot`);
        for (const c of pod.containers) {
          const where = `${name}: ${w.metadata.name}/${c.name}`;
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where} readOnlyRootFilesystem`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where} allowPrivilegeEscalation`);
          assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${where} requests`);
          assert.ok(c.resources?.limits?.memory, `${where} memory limit`);
          assert.ok(c.readinessProbe, `${where} readinessProbe`);
        }
      }
      const worker = at(podSpecOf(one(objs, 'Deployment', 'worker')).containers, 0);
      assert.deepEqual(worker.readinessProbe?.grpc, { port: 50051 }, `${name}: worker gRPC readiness`);
      assert.deepEqual(worker.livenessProbe?.grpc, { port: 50051 }, `${name}: worker gRPC liveness`);
      for (const svc of ['gateway', 'scheduler'])
        assert.equal(
          (at(podSpecOf(one(objs, 'Deployment', svc)).containers, 0).readinessProbe?.httpGet as { path: string }).path,
          '/health',
          `${name}: ${svc} HTTP probe`,
        );
    }
  });

  test('base: scheduler leader + standby with EndpointSlice RBAC; headless worker Service with a grpc port; gateway HPA; Redis AOF', () => {
    const base = all.get('base')!;
    const scheduler = one(base, 'Deployment', 'scheduler');
    assert.equal((scheduler.spec as { replicas: number }).replicas, 2);
    assert.equal(podSpecOf(scheduler).serviceAccountName, 'scheduler');
    const role = one(base, 'Role', 'scheduler-endpointslices') as unknown as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    assert.deepEqual(role.rules, [
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = one(base, 'RoleBinding', 'scheduler-endpointslices') as unknown as {
      subjects: { kind: string; name: string; namespace?: string }[];
    };
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'scheduler', namespace: 'loom' }]);
    const workerSvc = one(base, 'Service', 'worker').spec as { clusterIP: string; ports: { name: string }[] };
    assert.equal(workerSvc.clusterIP, 'None');
    assert.ok(workerSvc.ports.some((p) => p.name === 'grpc'));
    const hpa = one(base, 'HorizontalPodAutoscaler', 'gateway').spec as {
      scaleTargetRef: { name: string };
      metrics: { resource: { name: string } }[];
    };
    assert.equal(hpa.scaleTargetRef.name, 'gateway');
    assert.equal(at(hpa.metrics, 0).resource.name, 'cpu');
    const redis = podSpecOf(one(base, 'StatefulSet', 'redis')).containers[0] as Container & { args: string[] };
    assert.equal(redis.args[redis.args.indexOf('--appendonly') + 1], 'yes');
    assert.ok(
      one(base, 'StatefulSet', 'redis').spec &&
        (one(base, 'StatefulSet', 'redis').spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates.length ===
          1,
    );
    assert.ok(one(base, 'Secret', 'loom-api-keys'));
  });

  test('prod-gpu: KEDA from zero, PDBs, NetworkPolicy, GPUs, no Secret in the render, dashboards for the sidecar', () => {
    const prod = all.get('overlays/prod-gpu')!;
    const so = one(prod, 'ScaledObject', 'worker').spec as {
      minReplicaCount: number;
      triggers: { metadata: { activationThreshold: string } }[];
    };
    assert.equal(so.minReplicaCount, 0);
    assert.equal(at(so.triggers, 0).metadata.activationThreshold, '0');
    assert.equal(
      (one(prod, 'Deployment', 'worker').spec as { replicas?: number }).replicas,
      undefined,
      'KEDA owns worker replicas',
    );
    assert.deepEqual(
      byKind(prod, 'PodDisruptionBudget')
        .map((p) => p.metadata.name)
        .sort(),
      ['gateway', 'scheduler', 'worker'],
    );
    assert.ok(byKind(prod, 'NetworkPolicy', 'default-deny-ingress').length === 1);
    const gpu = at(podSpecOf(one(prod, 'Deployment', 'worker')).containers, 0);
    assert.equal(gpu.resources?.limits?.['nvidia.com/gpu'], '1');
    assert.equal(byKind(prod, 'Secret').length, 0);
    const dash = one(prod, 'ConfigMap', 'loom-dashboards');
    assert.equal(dash.metadata.labels?.grafana_dashboard, '1');
    assert.deepEqual(Object.keys(dash.data as object).sort(), [
      'loom-overview.json',
      'loom-scheduler.json',
      'loom-worker.json',
    ]);
  });

  test('dev-cpu: one worker on CPU with the model baked into the image, no model volume', () => {
    const dev = all.get('overlays/dev-cpu')!;
    assert.equal(byKind(dev, 'PersistentVolumeClaim').length, 0);
    assert.equal(
      (one(dev, 'ConfigMap', 'loom-config').data as Record<string, string>).LOOM_MODEL,
      '/opt/loom/models/stories260K-f32.gguf',
    );
    assert.equal(at(podSpecOf(one(dev, 'Deployment', 'worker')).containers, 0).image, 'loom:dev-cpu');
  });
});
