import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { ClusterStatus } from '@loom/common';
import { statusText } from './status-text.js';

const now = 1_000_000_000;
const status: ClusterStatus = {
  object: 'cluster.status',
  time: now,
  gateway: { version: '0.1.0', uptime_s: 125, api_keys: false },
  models: [{ id: 'stories260K-f32', max_model_len: 512, queue: { waiting: 3, active: 12, parked: 0 } }],
  scheduler: {
    leader: 'vm:21997:f98b9790',
    leader_since: now - 65_000,
    terms: 2,
    instances: [
      { id: 'vm:21997:f98b9790', leading: true, started_at: now - 70_000, acquisitions: 1 },
      { id: 'vm:22001:0a1b2c3d', leading: false, started_at: now - 70_000, acquisitions: 0 },
    ],
  },
  workers: [
    {
      id: 'w0',
      address: '127.0.0.1:50051',
      model: 'stories260K-f32',
      state: 'up',
      device: { kernels: 'avx512', threads: 2, weight_type: 'f32' },
      running: 12,
      waiting: 0,
      kv_usage: 0.375,
      kv_blocks: 2048,
      block_size: 16,
      prefix_hit_rate: 0.5,
      prefix_queried_tokens: 1200,
      preemptions: 0,
      steps: 15321,
      started_at: now - 3_725_000,
      pid: 7,
    },
    {
      id: 'w1',
      address: '127.0.0.1:50052',
      model: 'stories260K-f32',
      state: 'joining',
      device: null,
      running: 0,
      waiting: 0,
      kv_usage: 0,
      kv_blocks: 0,
      block_size: 0,
      prefix_hit_rate: null,
      prefix_queried_tokens: 0,
      preemptions: 0,
      steps: 0,
      started_at: now - 2_000,
      pid: 8,
    },
  ],
  latency: {
    window_s: 300,
    time_to_first_token: { count: 40, p50: 0.0451, p90: 0.12, p99: 1.5 },
    inter_token_latency: { count: 1, p50: 0.0004, p90: 0.0004, p99: 0.0004 },
    e2e_request_latency: { count: 40, p50: 1, p90: 2, p99: 3 },
  },
};

test('loom status: summary lines, then aligned tables, the numbers right-aligned', () => {
  assert.equal(
    statusText(status, 'http://127.0.0.1:8000', now),
    `Loom cluster at http://127.0.0.1:8000 (gateway 0.1.0, up 2m 05s, API keys off)

  Workers              1 up  (2 listed)
  Queue                3 waiting  (12 in progress · 0 parked)
  Scheduler            vm:21997  (term 2 · leading 1m 05s · 1 standby)
  Time to first token  p50 45 ms  (p90 120 ms · p99 1.50 s · 40 samples)
  Inter-token latency  p50 400 µs  (p90 400 µs · p99 400 µs · 1 sample)
                       latencies: last 5 min, this gateway

Workers
  WORKER  STATE    MODEL            DEVICE                    RUNNING  WAITING  KV CACHE             PREFIX HITS        STEPS  UP
  w0      up       stories260K-f32  avx512 · 2 threads · f32       12        0  38% of 2,048 blocks  50% of 1,200 tok  15,321  1h 02m
  w1      joining  stories260K-f32  –                               0        0  –                    –                      0  2s

Models and queues
  MODEL            CONTEXT  WAITING  IN PROGRESS  PARKED
  stories260K-f32      512        3           12       0

Schedulers
  SCHEDULER          ROLE     UP      TERMS WON
  vm:21997:f98b9790  leader   1m 10s          1
  vm:22001:0a1b2c3d  standby  1m 10s          0
`,
  );
});
