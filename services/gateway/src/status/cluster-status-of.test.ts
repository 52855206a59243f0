import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import type { ModelCard, SchedulerStatus, WorkerRegistration, WorkerStatus } from '@loom/common';
import { clusterStatusOf, type StatusInputs } from './cluster-status-of.js';
import type { ClusterState } from './redis-cluster-state.js';

const reg = (workerId: string, address: string): WorkerRegistration => ({
  workerId,
  address,
  model: 'm',
  pid: 100,
  startedAt: 1_000,
});
const up = (workerId: string, address: string, over: Partial<WorkerStatus> = {}): WorkerStatus => ({
  workerId,
  address,
  model: 'm',
  state: 'up',
  device: { kernels: 'avx2', threads: 2, weightType: 'q8_0' },
  running: 3,
  waiting: 1,
  kvUsage: 0.25,
  numBlocks: 400,
  blockSize: 16,
  prefixQueriedTokens: 200,
  prefixHitTokens: 50,
  preemptions: 0,
  steps: 77,
  joinedAt: 2_000,
  ...over,
});
const sched = (holderId: string, leading: boolean, workers: WorkerStatus[] = []): SchedulerStatus => ({
  holderId,
  leading,
  fencingToken: leading ? 4 : null,
  startedAt: 500,
  termStartedAt: leading ? 1_500 : null,
  updatedAt: 9_000,
  acquisitions: leading ? 2 : 0,
  workers,
  parked: leading ? { m: 2 } : {},
});
const card = { modelId: 'm', contextLength: 2048 } as ModelCard;
const inputs = (state: Partial<ClusterState>): StatusInputs => ({
  state: { workers: [], schedulers: [], leaseHolder: null, terms: 0, queues: {}, ...state },
  cards: [card],
  gateway: { version: '0.1.0', uptime_s: 5, api_keys: false },
  latency: {
    window_s: 300,
    time_to_first_token: { count: 0, p50: null, p90: null, p99: null },
    inter_token_latency: { count: 0, p50: null, p90: null, p99: null },
    e2e_request_latency: { count: 0, p50: null, p90: null, p99: null },
  },
  now: 10_000,
});

test("registered workers take the leader's figures; a leader-only worker (Kubernetes discovery) is listed too", () => {
  const s = clusterStatusOf(
    inputs({
      workers: [reg('w1', '10.0.0.1:50051'), reg('w2', '10.0.0.2:50051')],
      schedulers: [
        sched('b:2:y', false),
        sched('a:1:x', true, [
          up('pod-1', '10.0.0.1:50051'),
          up('w2', '10.0.0.2:50051', { state: 'joining', device: undefined }),
          up('pod-3', '10.0.0.3:50051', { prefixQueriedTokens: 0, prefixHitTokens: 0 }),
        ]),
      ],
      leaseHolder: 'a:1:x',
      terms: 4,
      queues: { m: { waiting: 5, active: 7 } },
    }),
  );
  assert.deepEqual(
    s.workers.map((w) => [w.id, w.state, w.started_at, w.prefix_hit_rate]),
    [
      ['pod-3', 'up', null, null],
      ['w1', 'up', 1_000, 0.25], // matched by address
      ['w2', 'joining', 1_000, 0.25],
    ],
  );
  assert.deepEqual(at(s.workers, 1).device, { kernels: 'avx2', threads: 2, weight_type: 'q8_0' });
  assert.equal(at(s.workers, 2).device, null);
  assert.deepEqual(s.models, [{ id: 'm', max_model_len: 2048, queue: { waiting: 5, active: 7, parked: 2 } }]);
  assert.deepEqual(s.scheduler, {
    leader: 'a:1:x',
    leader_since: 1_500,
    terms: 4,
    instances: [
      { id: 'a:1:x', leading: true, started_at: 500, acquisitions: 2 },
      { id: 'b:2:y', leading: false, started_at: 500, acquisitions: 0 },
    ],
  });
});

test('without a leader, live workers are unscheduled; a record claiming leadership without the lease is not the leader', () => {
  const s = clusterStatusOf(
    inputs({
      workers: [reg('w1', 'h:1')],
      schedulers: [sched('old:1:x', true, [up('w1', 'h:1')])],
      leaseHolder: null,
      terms: 3,
    }),
  );
  assert.deepEqual(
    s.workers.map((w) => [w.id, w.state, w.running]),
    [['w1', 'unscheduled', 0]],
  );
  assert.equal(s.scheduler.leader, null);
  assert.equal(s.scheduler.leader_since, null);
  assert.equal(at(s.scheduler.instances, 0).leading, false);
  assert.deepEqual(at(s.models, 0).queue, { waiting: 0, active: 0, parked: 0 });
});
