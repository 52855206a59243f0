import { EventEmitter } from 'node:events';
import {
  DiscoveryV1Api,
  KubeConfig,
  makeInformer,
  type Informer,
  type ObjectCache,
  type V1EndpointSlice,
} from '@kubernetes/client-node';
import { readyEndpoints } from './ready-endpoints.js';

export interface EndpointSliceDiscoveryOptions {
  namespace: string;
  /** The workers' Service: slices are selected by kubernetes.io/service-name=<serviceName>. */
  serviceName: string;
  /** Name of the gRPC port in the Service. Default 'grpc'. */
  portName?: string;
  /** Restart delay after a failed list/watch, doubling per consecutive failure. Defaults 500 / 30 000. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told about each failed list/watch before the retry (logging). */
  onError?: (err: Error, retryInMs: number) => void;
}

interface DiscoveryEvents {
  added: [workerId: string, address: string];
  removed: [workerId: string];
}

/** Label the EndpointSlice controller puts on every slice of a Service. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * Worker discovery inside Kubernetes: list + watch of the worker Service's discovery.k8s.io/v1
 * EndpointSlices (client-node's informer), kept as the set of ready endpoints. Emits `removed`
 * then `added` for each change of that set (an address change is both), never a repeat.
 *
 * Recovery: a watch the server closes is resumed from the last resourceVersion; a 410 Gone (the
 * version was compacted) makes the informer re-list, and the re-list's differences (slices deleted
 * meanwhile) come out as events like any other; any other failure (API server down, 5xx, auth)
 * restarts list/watch after an exponential backoff, reset by the next successful list.
 */
export class EndpointSliceDiscovery extends EventEmitter<DiscoveryEvents> {
  private readonly informer: Informer<V1EndpointSlice> & ObjectCache<V1EndpointSlice>;
  private readonly portName: string;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private current = new Map<string, string>();
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: EndpointSliceDiscoveryOptions,
  ) {
    super();
    this.portName = options.portName ?? 'grpc';
    this.minBackoffMs = options.minBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    const api = kubeConfig.makeApiClient(DiscoveryV1Api);
    const labelSelector = `${SERVICE_NAME_LABEL}=${options.serviceName}`;
    const path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/endpointslices`;
    const list = async () => {
      const result = await api.listNamespacedEndpointSlice({ namespace: options.namespace, labelSelector });
      this.failures = 0;
      return result;
    };
    this.informer = makeInformer(kubeConfig, path, list, labelSelector);
    const sync = () => this.sync();
    this.informer.on('add', sync);
    this.informer.on('update', sync);
    this.informer.on('delete', sync);
    this.informer.on('error', (err: unknown) => this.failed(err));
  }

  /** In a pod: the service account (loadFromCluster); elsewhere: KUBECONFIG / ~/.kube/config. */
  static fromEnvironment(options: EndpointSliceDiscoveryOptions): EndpointSliceDiscovery {
    const kc = new KubeConfig();
    if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
    return new EndpointSliceDiscovery(kc, options);
  }

  /** Ready workers now: worker id → host:port. */
  get endpoints(): ReadonlyMap<string, string> {
    return this.current;
  }

  /** Resolves once the first list was applied and the watch is open (or the first attempt failed and a retry is scheduled). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  private sync(): void {
    const next = readyEndpoints(this.informer.list(), this.portName);
    const prev = this.current;
    this.current = next;
    for (const [id, address] of prev) if (next.get(id) !== address) this.emit('removed', id);
    for (const [id, address] of next) if (prev.get(id) !== address) this.emit('added', id, address);
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    const delay = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** this.failures);
    this.failures++;
    this.options.onError?.(err instanceof Error ? err : new Error(String(err)), delay);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.stopped) void this.informer.start().catch((e: unknown) => this.failed(e));
    }, delay);
    this.restartTimer.unref();
  }
}
