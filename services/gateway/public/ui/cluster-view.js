// `GET /status` (ClusterStatus, see services/gateway/README.md) turned into the strings both the page's
// cluster view and `loom status` show, so the two always say the same thing. No DOM, no Node.
import { DASH, count, latency, percent, span } from './format.js';

/** The whole view: summary tiles, then workers, models and schedulers as rows of display strings. */
export function clusterView(status, now = Date.now()) {
  const workers = status.workers.map((w) => workerRow(w, now));
  const up = status.workers.filter((w) => w.state === 'up').length;
  const queue = status.models.reduce(
    (q, m) => ({
      waiting: q.waiting + m.queue.waiting,
      active: q.active + m.queue.active,
      parked: q.parked + m.queue.parked,
    }),
    { waiting: 0, active: 0, parked: 0 },
  );
  const sched = status.scheduler;
  const standbys = sched.instances.filter((s) => !s.leading).length;
  const lat = status.latency;
  const tile = (key, label, value, detail, tone = 'normal') => ({ key, label, value, detail, tone });
  const percentiles = (l) =>
    `p90 ${latency(l.p90)} · p99 ${latency(l.p99)} · ${count(l.count)} sample${l.count === 1 ? '' : 's'}`;
  return {
    gateway: `gateway ${status.gateway.version}, up ${span(status.gateway.uptime_s * 1000)}, API keys ${status.gateway.api_keys ? 'on' : 'off'}`,
    summary: [
      tile(
        'workers',
        'Workers',
        `${up} up`,
        `${status.workers.length} listed`,
        up === 0 ? 'bad' : up < status.workers.length ? 'warn' : 'good',
      ),
      tile(
        'queue',
        'Queue',
        `${count(queue.waiting)} waiting`,
        `${count(queue.active)} in progress · ${count(queue.parked)} parked`,
        queue.parked > 0 ? 'warn' : 'normal',
      ),
      tile(
        'leader',
        'Scheduler',
        sched.leader ? shortHolder(sched.leader) : 'no leader',
        sched.leader
          ? `term ${count(sched.terms)} · leading ${span(sched.leader_since === null ? null : now - sched.leader_since)} · ${standbys} standby`
          : `${count(sched.terms)} terms so far`,
        sched.leader ? 'good' : 'bad',
      ),
      tile(
        'ttft',
        'Time to first token',
        `p50 ${latency(lat.time_to_first_token.p50)}`,
        percentiles(lat.time_to_first_token),
      ),
      tile(
        'itl',
        'Inter-token latency',
        `p50 ${latency(lat.inter_token_latency.p50)}`,
        percentiles(lat.inter_token_latency),
      ),
    ],
    latencyWindow: `last ${lat.window_s % 60 === 0 ? `${lat.window_s / 60} min` : span(lat.window_s * 1000)}, this gateway`,
    workers,
    models: status.models.map((m) => ({
      id: m.id,
      cells: [m.id, count(m.max_model_len), count(m.queue.waiting), count(m.queue.active), count(m.queue.parked)],
    })),
    schedulers: sched.instances.map((s) => ({
      id: s.id,
      role: s.leading ? 'leader' : 'standby',
      cells: [s.id, s.leading ? 'leader' : 'standby', span(now - s.started_at), count(s.acquisitions)],
    })),
  };
}

/** Column titles of the three tables, in the order of their rows' `cells`. */
export const WORKER_COLUMNS = [
  'Worker',
  'State',
  'Model',
  'Device',
  'Running',
  'Waiting',
  'KV cache',
  'Prefix hits',
  'Steps',
  'Up',
];
export const MODEL_COLUMNS = ['Model', 'Context', 'Waiting', 'In progress', 'Parked'];
export const SCHEDULER_COLUMNS = ['Scheduler', 'Role', 'Up', 'Terms won'];

function workerRow(w, now) {
  const d = w.device;
  const kvBlocks = w.kv_blocks ? ` of ${count(w.kv_blocks)} blocks` : '';
  return {
    id: w.id,
    state: w.state,
    kvUsage: w.kv_usage,
    address: w.address,
    cells: [
      w.id,
      w.state,
      w.model || DASH,
      d ? `${d.kernels} · ${d.threads} thread${d.threads === 1 ? '' : 's'} · ${d.weight_type}` : DASH,
      count(w.running),
      count(w.waiting),
      w.kv_blocks ? `${percent(w.kv_usage)}${kvBlocks}` : DASH,
      w.prefix_hit_rate === null ? DASH : `${percent(w.prefix_hit_rate)} of ${count(w.prefix_queried_tokens)} tok`,
      count(w.steps),
      w.started_at === null ? DASH : span(now - w.started_at),
    ],
  };
}

/** Holder ids are host:pid:nonce; the host and pid are what a person recognises. */
export function shortHolder(id) {
  const parts = id.split(':');
  return parts.length >= 3 ? parts.slice(0, -1).join(':') : id;
}
