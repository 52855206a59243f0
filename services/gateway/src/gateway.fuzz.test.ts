import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { malformedRequests } from './testing/malformed-requests.js';
import { configFromEnv } from '@loom/common';
import { startGateway, type RunningGateway } from './gateway.js';
import { FakeBackend, scriptedText } from './testing/fake-backend.js';
import { MemoryResponseStore } from './testing/memory-response-store.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { openAiSchemaValidator } from './testing/openai-schema.js';
import { OPENAI_SPEC, STORIES_GGUF } from './testing/spec-path.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
const MODEL = 'stories260K';

const cases = malformedRequests(MODEL, card.vocabSize);

describe('fuzz: malformed bodies against the real HTTP server', () => {
  const backend = new FakeBackend([card], scriptedText(['x']));
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent' }), {
      backend,
      responseStore: new MemoryResponseStore(),
      bodyLimit: 64 * 1024,
    });
  });
  after(() => gw.close());

  test('2000 malformed bodies: every answer a 4xx OpenAI error naming the parameter at fault; healthy afterwards', async () => {
    const submittedBefore = backend.submitted.length;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const res = await fetch(gw.url + c.route, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: c.body,
        });
        const text = await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `status ${res.status} for ${c.body}: ${text}`);
        const body = JSON.parse(text) as { error: { param: string | null } };
        assert.deepEqual(validate('ErrorResponse', body), [], text);
        if (c.param) {
          const p = body.error.param ?? '';
          assert.ok(
            p === c.param || p.startsWith(`${c.param}[`) || p.startsWith(`${c.param}.`),
            `param ${JSON.stringify(body.error.param)} for ${c.param} in ${c.body}`,
          );
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 120_000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    assert.equal(backend.submitted.length, submittedBefore, 'no malformed body reached the queue');
    const health = await fetch(gw.url + '/health');
    assert.equal(health.status, 200);
    const ok = await fetch(gw.url + '/v1/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'Once' }),
    });
    assert.equal(ok.status, 200);
  });
});
