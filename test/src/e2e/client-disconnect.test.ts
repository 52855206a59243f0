import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { METRIC } from '@loom/common';
import type OpenAI from 'openai';
import { waitFor } from '../harness/index.js';
import { metricSum, scrape, seriesOf } from '../fixtures/prometheus-text.js';
import { useOpenAiCluster } from '../fixtures/use-openai-cluster.js';

const PROMPT = 'Once upon a time';

/** A client that leaves before its answer is complete: the request is cancelled, its KV blocks freed. */
describe('a client that hangs up', () => {
  const s = useOpenAiCluster();
  /** 480 tokens past EOS: long enough to be running when the client leaves. */
  const LONG = { prompt: PROMPT, max_tokens: 480, temperature: 0, ignore_eos: true };
  const cancelledByClient = async () =>
    seriesOf(await scrape(`${s.root()}/metrics`), METRIC.requestsCancelled)
      .filter((x) => x.labels.reason === 'client_disconnected')
      .reduce((sum, x) => sum + x.value, 0);
  const running = (metrics: string) => metricSum(metrics, METRIC.requestsRunning);
  /** Nothing running and no KV block held, within 10 s. */
  const allFreed = () =>
    waitFor(
      async () => {
        const m = await s.schedulerMetrics();
        return running(m) === 0 && metricSum(m, METRIC.kvUsageRatio) === 0;
      },
      { timeoutMs: 10_000 },
    );

  test('mid-stream: blocks freed, counter up', async () => {
    const cancelledBefore = await cancelledByClient();
    const stream = await s.client.completions.create({
      model: s.cluster.model,
      ...LONG,
      stream: true,
    } as OpenAI.CompletionCreateParamsStreaming);
    let seen = 0;
    // Leaving the loop aborts the SDK's fetch: the connection closes mid-stream.
    let busy = '';
    for await (const _ of stream) {
      if (++seen < 5) continue;
      busy = await s.schedulerMetrics();
      break;
    }
    assert.equal(seen, 5);
    assert.ok(
      running(busy) > 0 && metricSum(busy, METRIC.kvUsageRatio) > 0,
      'the request held blocks when the client left',
    );
    await allFreed();
    await waitFor(async () => (await cancelledByClient()) === cancelledBefore + 1, { timeoutMs: 5000 });
  });

  test('before a non-streaming answer: cancelled too', async () => {
    const cancelledBefore = await cancelledByClient();
    const ac = new AbortController();
    const pending = s.client.completions.create(
      { model: s.cluster.model, ...LONG } as OpenAI.CompletionCreateParamsNonStreaming,
      { signal: ac.signal },
    );
    await waitFor(async () => running(await s.schedulerMetrics()) > 0, { timeoutMs: 10_000 });
    ac.abort();
    await assert.rejects(pending);
    await allFreed();
    assert.equal(await cancelledByClient(), cancelledBefore + 1);
  });
});
