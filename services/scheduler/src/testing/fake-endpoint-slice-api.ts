import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * A FAKE Kubernetes API server (TEST HELPER) on 127.0.0.1 that speaks the list/watch protocol for
 * discovery.k8s.io/v1 EndpointSlices of one namespace, the way the real one does:
 *   GET .../endpointslices?labelSelector=k=v          → EndpointSliceList with metadata.resourceVersion
 *   GET .../endpointslices?watch=true&resourceVersion=R → 200, newline-delimited JSON events after R,
 *       then every later change, until the test drops the connection; if R was compacted away, one
 *       ERROR event carrying a 410 Status ("too old resource version") and the stream ends.
 * Resource versions are one increasing counter. `failNext(n)` answers the next n requests 500.
 */
export class FakeEndpointSliceApi {
  /** Method + path + query of every request, in order. */
  readonly requests: string[] = [];
  private readonly server: Server;
  private rv = 100;
  /** Watches may resume from any version >= this (older ones are "compacted"). */
  private oldestRv = 100;
  private readonly slices = new Map<string, V1EndpointSlice>();
  private readonly history: { rv: number; type: WatchEventType; object: V1EndpointSlice }[] = [];
  private readonly watches = new Set<{ res: ServerResponse; selector: string | null }>();
  private failures = 0;

  constructor(readonly namespace: string) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A KubeConfig pointing at this server (what loadFromCluster gives inside a pod). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: this.namespace }],
      currentContext: 'fake',
    });
    return kc;
  }

  /**
   * Applies a change: stores it under a new resourceVersion and streams it to matching watches
   * (unless `missed`: open watches do not see it, as when a watcher was partitioned away).
   */
  apply(type: WatchEventType, slice: V1EndpointSlice, missed = false): void {
    const object: V1EndpointSlice = structuredClone({
      ...slice,
      metadata: { ...slice.metadata, namespace: this.namespace, resourceVersion: String(++this.rv) },
    });
    const name = object.metadata!.name!;
    if (type === 'DELETED') this.slices.delete(name);
    else this.slices.set(name, object);
    this.history.push({ rv: this.rv, type, object });
    if (!missed)
      for (const w of this.watches)
        if (matches(object, w.selector)) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** Ends every open watch stream (as an API server restart or a load balancer timeout does). */
  dropWatches(): void {
    for (const w of this.watches) w.res.end();
    this.watches.clear();
  }

  /** Forgets the event history: a watch from any version before now gets 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.oldestRv = this.rv;
  }

  failNext(n: number): void {
    this.failures = n;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (this.failures > 0) {
      this.failures--;
      return void res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify(status(500, 'InternalError', 'injected failure')));
    }
    if (
      req.method !== 'GET' ||
      url.pathname !== `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`
    ) {
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify(status(404, 'NotFound', url.pathname)));
    }
    const selector = url.searchParams.get('labelSelector');
    if (url.searchParams.get('watch') !== 'true') {
      const items = [...this.slices.values()].filter((s) => matches(s, selector));
      const list = {
        kind: 'EndpointSliceList',
        apiVersion: 'discovery.k8s.io/v1',
        metadata: { resourceVersion: String(this.rv) },
        items,
      };
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
    }
    const from = Number(url.searchParams.get('resourceVersion') || this.rv);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the API server does: the client's watch() resolves on the headers
    if (from < this.oldestRv) {
      res.write(
        `${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.oldestRv})`) })}\n`,
      );
      return void res.end();
    }
    for (const e of this.history)
      if (e.rv > from && matches(e.object, selector))
        res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    const watch = { res, selector };
    this.watches.add(watch);
    req.on('close', () => this.watches.delete(watch));
  }
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** Equality-based label selectors ("k=v,k2=v2"), the only kind discovery uses. */
function matches(slice: V1EndpointSlice, selector: string | null): boolean {
  if (!selector) return true;
  const labels = slice.metadata?.labels ?? {};
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels[k!] === v;
  });
}
