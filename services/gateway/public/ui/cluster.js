// The cluster view: GET /status every second while shown, rendered from cluster-view.js (the same
// strings `loom status` prints).
import { getJson } from './api.js';
import { clusterView, MODEL_COLUMNS, SCHEDULER_COLUMNS, WORKER_COLUMNS } from './cluster-view.js';
import { h, fill } from './dom.js';
import { span } from './format.js';

const REFRESH_MS = 1000;

export function createCluster(root) {
  const tiles = h('div', { class: 'tiles', id: 'cluster-summary' });
  const workers = h('tbody');
  const models = h('tbody');
  const schedulers = h('tbody');
  const banner = h('p', { class: 'banner', hidden: true, role: 'status' });
  const updated = h('span', { class: 'updated' });
  const latencyNote = h('span', { class: 'note' });
  const table = (id, columns, body) =>
    h(
      'table',
      { id },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      body,
    );

  fill(
    root,
    h('div', { class: 'cluster-head' }, h('h2', {}, 'Cluster'), updated),
    banner,
    tiles,
    latencyNote,
    h('h3', {}, 'Workers'),
    h('div', { class: 'scroll' }, table('cluster-workers', WORKER_COLUMNS, workers)),
    h(
      'div',
      { class: 'columns' },
      h('section', {}, h('h3', {}, 'Models and queues'), table('cluster-models', MODEL_COLUMNS, models)),
      h('section', {}, h('h3', {}, 'Schedulers'), table('cluster-schedulers', SCHEDULER_COLUMNS, schedulers)),
    ),
  );

  let timer;
  let lastOk = 0;
  let inFlight = false;

  async function refresh() {
    if (inFlight) return;
    inFlight = true;
    try {
      render(await getJson('/status'));
      lastOk = Date.now();
      banner.hidden = true;
    } catch (err) {
      banner.textContent = `Cannot read the cluster status: ${err.message}`;
      banner.hidden = false;
    } finally {
      inFlight = false;
      updated.textContent = lastOk ? `updated ${span(Date.now() - lastOk)} ago` : '';
    }
  }

  function render(status) {
    const view = clusterView(status);
    fill(
      tiles,
      view.summary.map((t) =>
        h(
          'div',
          { class: `tile ${t.tone}`, dataset: { key: t.key } },
          h('div', { class: 'label' }, t.label),
          h('div', { class: 'value' }, t.value),
          h('div', { class: 'detail' }, t.detail),
        ),
      ),
    );
    latencyNote.textContent = `Latencies: ${view.latencyWindow}. ${view.gateway}.`;
    fill(
      workers,
      view.workers.length
        ? view.workers.map((w) =>
            h(
              'tr',
              { dataset: { worker: w.id, state: w.state }, title: w.address },
              w.cells.map((c, i) =>
                i === 1
                  ? h('td', {}, h('span', { class: `pill ${w.state}` }, c))
                  : i === 6
                    ? h('td', {}, kvBar(w.kvUsage), c)
                    : h('td', {}, c),
              ),
            ),
          )
        : h('tr', {}, h('td', { colspan: WORKER_COLUMNS.length, class: 'none' }, 'No worker is alive.')),
    );
    fill(
      models,
      view.models.map((m) =>
        h(
          'tr',
          {},
          m.cells.map((c) => h('td', {}, c)),
        ),
      ),
    );
    fill(
      schedulers,
      view.schedulers.length
        ? view.schedulers.map((s) =>
            h(
              'tr',
              {},
              s.cells.map((c, i) => h('td', {}, i === 1 ? h('span', { class: `pill ${s.role}` }, c) : c)),
            ),
          )
        : h('tr', {}, h('td', { colspan: SCHEDULER_COLUMNS.length, class: 'none' }, 'No scheduler is running.')),
    );
  }

  /** The bar's width is set through CSSOM: the page's CSP allows no inline style attribute. */
  const kvBar = (ratio) => {
    const used = h('span');
    used.style.width = `${Math.round(Math.min(1, ratio) * 100)}%`;
    return h('span', { class: 'bar' }, used);
  };

  return {
    show() {
      void refresh();
      timer ??= setInterval(() => document.visibilityState === 'visible' && refresh(), REFRESH_MS);
    },
    hide() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
