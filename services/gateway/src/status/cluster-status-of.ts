import type { ClusterStatus, ClusterWorker, ModelCard, WorkerRegistration, WorkerStatus } from '@loom/common';
import type { ClusterState } from './redis-cluster-state.js';

export interface StatusInputs {
  state: ClusterState;
  cards: readonly ModelCard[];
  gateway: ClusterStatus['gateway'];
  latency: ClusterStatus['latency'];
  now: number;
}

/**
 * `GET /status` from what Redis holds. The leader is whoever holds the lease; its record tells how each
 * worker is doing. A worker is listed when its registration is alive or the leader steps it (workers
 * found through Kubernetes need not register); the two are matched by id, else by address.
 */
export function clusterStatusOf({ state, cards, gateway, latency, now }: StatusInputs): ClusterStatus {
  const live = state.schedulers;
  const leader = live.find((s) => s.leading && s.holderId === state.leaseHolder);
  const seen = new Set<WorkerStatus>();
  const workers: ClusterWorker[] = state.workers.map((reg) => {
    const ws = leader?.workers.find((w) => w.workerId === reg.workerId || w.address === reg.address);
    if (ws) seen.add(ws);
    return workerOf(reg, ws, leader !== undefined);
  });
  for (const ws of leader?.workers ?? []) if (!seen.has(ws)) workers.push(workerOf(undefined, ws, true));
  workers.sort((a, b) => a.id.localeCompare(b.id));
  return {
    object: 'cluster.status',
    time: now,
    gateway,
    models: cards.map((c) => {
      const q = state.queues[c.modelId] ?? { waiting: 0, active: 0 };
      return {
        id: c.modelId,
        max_model_len: c.contextLength,
        queue: { waiting: q.waiting, active: q.active, parked: leader?.parked[c.modelId] ?? 0 },
      };
    }),
    scheduler: {
      leader: state.leaseHolder,
      leader_since: leader?.termStartedAt ?? null,
      terms: state.terms,
      instances: live
        .map((s) => ({
          id: s.holderId,
          leading: s.leading && s.holderId === state.leaseHolder,
          started_at: s.startedAt,
          acquisitions: s.acquisitions,
        }))
        .sort((a, b) => Number(b.leading) - Number(a.leading) || a.id.localeCompare(b.id)),
    },
    workers,
    latency,
  };
}

function workerOf(reg: WorkerRegistration | undefined, ws: WorkerStatus | undefined, led: boolean): ClusterWorker {
  return {
    id: reg?.workerId ?? ws!.workerId,
    address: reg?.address ?? ws!.address,
    model: reg?.model || ws?.model || '',
    state: !led ? 'unscheduled' : ws?.state === 'up' ? 'up' : 'joining',
    device: ws?.device
      ? { kernels: ws.device.kernels, threads: ws.device.threads, weight_type: ws.device.weightType }
      : null,
    running: ws?.running ?? 0,
    waiting: ws?.waiting ?? 0,
    kv_usage: ws?.kvUsage ?? 0,
    kv_blocks: ws?.numBlocks ?? 0,
    block_size: ws?.blockSize ?? 0,
    prefix_hit_rate: ws && ws.prefixQueriedTokens > 0 ? ws.prefixHitTokens / ws.prefixQueriedTokens : null,
    prefix_queried_tokens: ws?.prefixQueriedTokens ?? 0,
    preemptions: ws?.preemptions ?? 0,
    steps: ws?.steps ?? 0,
    started_at: reg?.startedAt ?? null,
    pid: reg?.pid ?? null,
  };
}
