import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { at } from '@loom/common';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { EndpointSliceDiscovery } from './endpoint-slice-discovery.js';
import { readyEndpoints } from './ready-endpoints.js';
import { FakeEndpointSliceApi } from '../testing/fake-endpoint-slice-api.js';

const NS = 'loom';
const SERVICE = 'loom-worker';

interface Ep {
  pod?: string;
  ip: string;
  ready?: boolean;
  terminating?: boolean;
}

function slice(
  name: string,
  eps: Ep[],
  opts: { service?: string; portName?: string; addressType?: string } = {},
): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': opts.service ?? SERVICE } },
    addressType: opts.addressType ?? 'IPv4',
    ports: [
      { name: 'metrics', port: 9100, protocol: 'TCP' },
      { name: opts.portName ?? 'grpc', port: 50051, protocol: 'TCP' },
    ],
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, terminating: e.terminating },
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: NS } } : {}),
    })),
  };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let api: FakeEndpointSliceApi;
let discovery: EndpointSliceDiscovery;
const events: string[] = [];
const errors: number[] = [];
const lists = () => api.requests.filter((r) => !r.includes('watch=true')).length;
const take = () => events.splice(0).sort();
const endpoints = () => Object.fromEntries([...discovery.endpoints].sort());

before(async () => {
  api = new FakeEndpointSliceApi(NS);
  await api.start();
  api.apply(
    'ADDED',
    slice('w-1', [
      { pod: 'worker-a', ip: '10.0.0.1' },
      { pod: 'worker-b', ip: '10.0.0.2', ready: true },
      { pod: 'worker-c', ip: '10.0.0.3', ready: false },
    ]),
  );
  api.apply('ADDED', slice('w-2', [{ pod: 'worker-d', ip: '10.0.1.4', ready: true }]));
  api.apply(
    'ADDED',
    slice('other-1', [{ pod: 'gateway-x', ip: '10.0.9.9', ready: true }], { service: 'loom-gateway' }),
  );
  discovery = new EndpointSliceDiscovery(api.kubeConfig(), {
    namespace: NS,
    serviceName: SERVICE,
    minBackoffMs: 50,
    onError: (_e, ms) => errors.push(ms),
  });
  discovery.on('added', (id, address) => events.push(`+${id}@${address}`));
  discovery.on('removed', (id) => events.push(`-${id}`));
});
after(async () => {
  await discovery.stop();
  await api.stop();
});

// The steps below run in order against one discovery, like a cluster's life.

test('initial list: ready endpoints of the service only, on the grpc port', async () => {
  await discovery.start();
  await waitFor('the watch', () => api.openWatches === 1);
  assert.deepEqual(take(), ['+worker-a@10.0.0.1:50051', '+worker-b@10.0.0.2:50051', '+worker-d@10.0.1.4:50051']);
  assert.equal(lists(), 1);
  assert.match(at(api.requests, 0), /labelSelector=kubernetes.io%2Fservice-name%3Dloom-worker/);
  assert.match(at(api.requests, 1), /watch=true.*resourceVersion=103|resourceVersion=103.*watch=true/);
});

test('ADDED slice with a ready endpoint → added', async () => {
  api.apply('ADDED', slice('w-3', [{ pod: 'worker-e', ip: '10.0.2.5', ready: true }]));
  api.apply(
    'ADDED',
    slice('other-2', [{ pod: 'gateway-y', ip: '10.0.9.8', ready: true }], { service: 'loom-gateway' }),
  );
  await waitFor('worker-e', () => events.length >= 1);
  assert.deepEqual(take(), ['+worker-e@10.0.2.5:50051']);
});

test('MODIFIED: an endpoint turning not-ready → removed; becoming ready again → added', async () => {
  api.apply(
    'MODIFIED',
    slice('w-1', [
      { pod: 'worker-a', ip: '10.0.0.1', ready: false },
      { pod: 'worker-b', ip: '10.0.0.2', ready: true },
      { pod: 'worker-c', ip: '10.0.0.3', ready: false },
    ]),
  );
  await waitFor('worker-a gone', () => events.length >= 1);
  assert.deepEqual(take(), ['-worker-a']);
  api.apply(
    'MODIFIED',
    slice('w-1', [
      { pod: 'worker-b', ip: '10.0.0.2', ready: true },
      { pod: 'worker-c', ip: '10.0.0.3', ready: true },
    ]),
  );
  await waitFor('worker-c', () => events.length >= 1);
  assert.deepEqual(take(), ['+worker-c@10.0.0.3:50051']);
});

test('DELETED slice → its endpoints removed', async () => {
  api.apply('DELETED', slice('w-2', [{ pod: 'worker-d', ip: '10.0.1.4', ready: true }]));
  await waitFor('worker-d gone', () => events.length >= 1);
  assert.deepEqual(take(), ['-worker-d']);
  assert.deepEqual(endpoints(), {
    'worker-b': '10.0.0.2:50051',
    'worker-c': '10.0.0.3:50051',
    'worker-e': '10.0.2.5:50051',
  });
});

test('watch dropped by the server → resumed from the last resourceVersion, without a re-list', async () => {
  const watchesBefore = api.requests.length;
  api.dropWatches();
  await waitFor('a new watch', () => api.openWatches === 1);
  assert.match(at(api.requests, watchesBefore), /watch=true/);
  // 108 = the w-2 deletion, the last change of OUR service (109+ do not exist yet; 105 was the gateway's).
  assert.match(at(api.requests, watchesBefore), /resourceVersion=108&/);
  api.apply('ADDED', slice('w-4', [{ pod: 'worker-f', ip: '10.0.3.6' }]));
  await waitFor('worker-f', () => events.length >= 1);
  assert.deepEqual(take(), ['+worker-f@10.0.3.6:50051']);
  assert.equal(lists(), 1);
});

test('410 Gone after missed changes → re-list; the differences come out as events', async () => {
  api.apply('DELETED', slice('w-3', []), true); // missed by the open watch
  api.apply('ADDED', slice('w-5', [{ pod: 'worker-g', ip: '10.0.4.7', ready: true }]), true);
  api.compact();
  api.dropWatches(); // the re-watch asks for a compacted version
  await waitFor('re-list events', () => events.length >= 2);
  assert.deepEqual(take(), ['+worker-g@10.0.4.7:50051', '-worker-e']);
  assert.equal(lists(), 2);
  await waitFor('the watch', () => api.openWatches === 1);
  assert.deepEqual(errors, []); // 410 is routine: no backoff
});

test('API server errors → retried with exponential backoff, then the watch resumes', async () => {
  api.failNext(2);
  api.dropWatches();
  await waitFor('recovery', () => api.openWatches === 1);
  assert.deepEqual(errors, [50, 100]);
  api.apply(
    'MODIFIED',
    slice('w-1', [
      { pod: 'worker-b', ip: '10.0.0.22', ready: true },
      { pod: 'worker-c', ip: '10.0.0.3', ready: true },
    ]),
  );
  await waitFor('worker-b moved', () => events.length >= 2);
  assert.deepEqual(events.splice(0), ['-worker-b', '+worker-b@10.0.0.22:50051']); // removed before added
});

test('readyEndpoints: Kubernetes conventions', () => {
  const got = readyEndpoints(
    [
      slice('a', [
        { pod: 'p1', ip: '10.0.0.1' },
        { ip: '10.0.0.2', ready: true },
        { pod: 'p3', ip: '10.0.0.3', ready: true, terminating: true },
      ]),
      slice('b', [{ pod: 'p6', ip: 'fd00::6', ready: true }], { addressType: 'IPv6' }),
      slice('c', [{ pod: 'p7', ip: '10.0.0.7', ready: true }], { portName: 'http' }),
      slice('d', [{ pod: 'p1', ip: '10.9.9.9', ready: true }]),
    ],
    'grpc',
  );
  assert.deepEqual(Object.fromEntries(got), {
    p1: '10.0.0.1:50051',
    '10.0.0.2': '10.0.0.2:50051',
    p6: '[fd00::6]:50051',
  });
});
