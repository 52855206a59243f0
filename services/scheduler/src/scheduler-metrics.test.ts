import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { METRIC } from '@loom/common';
import { SchedulerMetrics } from './scheduler-metrics.js';

const depthLine = (text: string) => text.split('\n').find((l) => l.startsWith(`${METRIC.queueDepth}{`));

describe('SchedulerMetrics queue depth', () => {
  test('is read from its source at each scrape, not on a timer', async () => {
    const m = new SchedulerMetrics();
    let depth = 5;
    let reads = 0;
    m.setQueueDepthSource(async () => {
      reads += 1;
      m.setQueueDepth('tiny', depth);
    });
    assert.match(depthLine(await m.registry.metrics()) ?? '', / 5$/);
    depth = 0;
    assert.match(depthLine(await m.registry.metrics()) ?? '', / 0$/);
    assert.equal(reads, 2);
  });

  test('a source that does not answer (Redis away) leaves the last value and the scrape answers', async () => {
    const m = new SchedulerMetrics();
    m.setQueueDepth('tiny', 3);
    m.setQueueDepthSource(() => new Promise<void>(() => {}));
    const t0 = performance.now();
    const text = await m.registry.metrics();
    assert.ok(performance.now() - t0 < 2000, 'the scrape waited for the source');
    assert.match(depthLine(text) ?? '', / 3$/);
    m.setQueueDepthSource(undefined);
  });
});
