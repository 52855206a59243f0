import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { configFromEnv } from '@loom/common';
import { startGateway, type RunningGateway } from './gateway.js';
import { FakeBackend, scriptedText } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { openAiSchemaValidator } from './testing/openai-schema.js';
import { OPENAI_SPEC, STORIES_GGUF } from './testing/spec-path.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
const MODEL = 'stories260K';

/** One malformed request: where it goes, its raw body, and the parameter the error must name (when one is at fault). */
interface Case {
  route: '/v1/completions' | '/v1/chat/completions';
  body: string;
  param?: string;
}

const finite = (c: fc.DoubleConstraints = {}) => fc.double({ noNaN: true, noDefaultInfinity: true, ...c });
/** Values that are not numbers at all (null is excluded: it means "not given"). */
const notNumber = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);
const notBool = fc.oneof(fc.string(), fc.integer(), fc.array(fc.boolean(), { maxLength: 2 }));
const nonInt = finite({ min: -1e6, max: 1e6 }).filter((x) => !Number.isInteger(x));
/** Numbers outside [min, max] as the server will read them (fast-check's -0 is below 0, but JSON sends it as 0). */
const outside = (min: number, max: number) =>
  fc
    .oneof(finite({ max: min, maxExcluded: true, min: -1e9 }), finite({ min: max, minExcluded: true, max: 1e9 }))
    .filter((x) => {
      const sent = JSON.parse(JSON.stringify(x)) as number;
      return sent < min || sent > max;
    });

/** field → values that must be refused, whichever endpoint. */
const shared: Record<string, fc.Arbitrary<unknown>> = {
  model: fc.oneof(fc.constant(''), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 })),
  temperature: fc.oneof(notNumber, outside(0, 2)),
  top_p: fc.oneof(notNumber, outside(0, 1), fc.constant(0)),
  top_k: fc.oneof(notNumber, nonInt, fc.integer({ max: -2 })),
  min_p: fc.oneof(notNumber, outside(0, 1)),
  n: fc.oneof(notNumber, nonInt, fc.integer({ max: 0 }), fc.integer({ min: 129 })),
  max_tokens: fc.oneof(notNumber, nonInt, fc.integer({ max: 0 })),
  stop: fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.array(fc.oneof(fc.integer(), fc.boolean()), { minLength: 1, maxLength: 3 }),
    fc.array(fc.string(), { minLength: 65, maxLength: 70 }),
  ),
  stop_token_ids: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.array(fc.integer({ max: -1 }), { minLength: 1, maxLength: 3 }),
    fc.array(fc.integer({ min: card.vocabSize, max: 1e6 }), { minLength: 1, maxLength: 3 }),
  ),
  seed: fc.oneof(fc.string(), fc.boolean(), nonInt),
  min_tokens: fc.oneof(notNumber, fc.integer({ max: -1 })),
  presence_penalty: fc.oneof(notNumber, outside(-2, 2)),
  frequency_penalty: fc.oneof(notNumber, outside(-2, 2)),
  repetition_penalty: fc.oneof(notNumber, outside(0, 10), fc.constant(0)),
  logit_bias: fc.oneof(
    fc.string(),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), finite({ min: -100, max: 100 }), { minKeys: 1, maxKeys: 2 }),
    fc.dictionary(fc.integer({ min: 0, max: 500 }).map(String), outside(-100, 100), { minKeys: 1, maxKeys: 2 }),
    fc.dictionary(fc.integer({ min: card.vocabSize, max: 1e6 }).map(String), finite({ min: -100, max: 100 }), {
      minKeys: 1,
      maxKeys: 2,
    }),
  ),
  stream: notBool,
  stream_options: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.record({ include_usage: notBool }),
    fc.record({ continuous_usage_stats: notBool }),
  ),
  ignore_eos: notBool,
  user: fc.oneof(fc.integer(), fc.boolean()),
  priority: fc.oneof(fc.string(), nonInt),
};

const completionOnly: Record<string, fc.Arbitrary<unknown>> = {
  prompt: fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant([]),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 }),
    fc.array(fc.integer({ max: -1 }), { minLength: 1, maxLength: 3 }),
    fc.array(fc.integer({ min: card.vocabSize, max: 1e6 }), { minLength: 1, maxLength: 3 }),
    fc.tuple(fc.string(), fc.integer()),
    fc.array(fc.string(), { minLength: 65, maxLength: 66 }),
  ),
  echo: notBool,
  logprobs: fc.oneof(notNumber, nonInt, fc.integer({ min: 21 }), fc.integer({ max: -1 })),
  best_of: fc.oneof(fc.integer({ min: 2, max: 100 }), fc.integer({ max: 0 }), nonInt),
  suffix: fc.oneof(fc.string({ minLength: 1 }), fc.integer()),
};

const chatOnly: Record<string, fc.Arbitrary<unknown>> = {
  messages: fc.oneof(
    fc.constant([]),
    fc.string(),
    fc.array(fc.record({ role: fc.constantFrom('wizard', 'USER', '', 'function'), content: fc.string() }), {
      minLength: 1,
      maxLength: 2,
    }),
    fc.array(
      fc.record({
        role: fc.constant('user'),
        content: fc.oneof(
          fc.integer(),
          fc.boolean(),
          fc.array(fc.record({ type: fc.constant('image_url'), image_url: fc.constant({}) }), {
            minLength: 1,
            maxLength: 1,
          }),
        ),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    fc.array(fc.record({ content: fc.string() }), { minLength: 1, maxLength: 2 }),
  ),
  max_completion_tokens: fc.oneof(notNumber, nonInt, fc.integer({ max: 0 })),
  top_logprobs: fc.oneof(notNumber, fc.integer({ min: 21 }), fc.integer({ max: -1 })),
  logprobs: fc.oneof(fc.string(), fc.integer()),
  tools: fc.oneof(
    fc.array(fc.record({ type: fc.constant('function') }), { minLength: 1, maxLength: 2 }),
    fc.array(fc.record({ type: fc.constant('function'), function: fc.record({ name: fc.constant('no spaces!') }) }), {
      minLength: 1,
      maxLength: 2,
    }),
    fc.constant(Array.from({ length: 129 }, (_, i) => ({ type: 'function', function: { name: `f${i}` } }))),
  ),
  tool_choice: fc.oneof(
    fc.constantFrom('required', 'sometimes', ''),
    fc.constant({ type: 'function', function: { name: 'f' } }),
    fc.integer(),
  ),
  parallel_tool_calls: fc.oneof(fc.string(), fc.integer()),
  reasoning_effort: fc.constantFrom('extreme', '', 'LOW'),
};

/** A valid body with exactly one field replaced by a refused value: the error must name that field. */
function oneBadField(
  route: Case['route'],
  base: object,
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Case> {
  return fc.oneof(
    ...Object.entries(fields).map(([name, bad]) =>
      bad.map((v) => ({ route, body: JSON.stringify({ ...base, [name]: v }), param: name })),
    ),
  );
}

const cases: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 4,
    arbitrary: oneBadField('/v1/completions', { model: MODEL, prompt: 'Once' }, { ...shared, ...completionOnly }),
  },
  {
    weight: 4,
    arbitrary: oneBadField(
      '/v1/chat/completions',
      { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
      { ...shared, ...chatOnly },
    ),
  },
  // An unknown model is a 404 naming `model`.
  {
    weight: 1,
    arbitrary: fc
      .stringMatching(/^[a-z0-9-]{1,20}$/)
      .filter((m) => m !== MODEL)
      .map((m) => ({
        route: '/v1/completions' as const,
        body: JSON.stringify({ model: m, prompt: 'x' }),
        param: 'model',
      })),
  },
  // Whatever JSON, and text that is mostly not JSON at all: a 4xx, no param promised.
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('/v1/completions' as const, '/v1/chat/completions' as const),
        fc.jsonValue({ maxDepth: 3 }),
      )
      .map(([route, v]) => ({ route, body: JSON.stringify(v) ?? 'null' })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('/v1/completions' as const, '/v1/chat/completions' as const), fc.string({ maxLength: 40 }))
      .map(([route, body]) => ({ route, body })),
  },
);

describe('fuzz: malformed bodies against the real HTTP server', () => {
  const backend = new FakeBackend([card], scriptedText(['x']));
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent' }), {
      backend,
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
