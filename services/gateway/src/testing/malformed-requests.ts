import fc from 'fast-check';

/** One malformed request: where it goes, its raw body, and the parameter the error must name (when one is at fault). */
export interface MalformedCase {
  route: '/v1/completions' | '/v1/chat/completions' | '/v1/responses';
  body: string;
  param?: string;
}

/**
 * Malformed OpenAI requests for fuzzing a gateway serving `model` (a vocabulary of `vocabSize` ids):
 * a valid body with one field replaced by a value the API must refuse (the error must name that
 * field), an unknown model, arbitrary JSON and text that is not JSON. The gateway's fuzz test and the
 * chaos suite (against a real cluster) draw from it.
 */
export function malformedRequests(model: string, vocabSize: number): fc.Arbitrary<MalformedCase> {
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
      fc.array(fc.integer({ min: vocabSize, max: 1e6 }), { minLength: 1, maxLength: 3 }),
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
      fc.dictionary(fc.integer({ min: vocabSize, max: 1e6 }).map(String), finite({ min: -100, max: 100 }), {
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
      fc.array(fc.integer({ min: vocabSize, max: 1e6 }), { minLength: 1, maxLength: 3 }),
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

  /** The Responses API has no n, max_tokens or chat's stream_options. */
  const { n: _n, max_tokens: _mt, stream_options: _so, ...sharedForResponses } = shared;
  const responsesOnly: Record<string, fc.Arbitrary<unknown>> = {
    input: fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.array(fc.record({ role: fc.constantFrom('wizard', 'USER', ''), content: fc.string() }), {
        minLength: 1,
        maxLength: 2,
      }),
      fc.constant([{ type: 'item_reference', id: 'x' }]),
      fc.constant([{ role: 'user', content: [{ type: 'input_image', image_url: 'http://x' }] }]),
      fc.constant([{ type: 'function_call_output', output: 'no call id' }]),
    ),
    instructions: fc.oneof(fc.integer(), fc.boolean()),
    max_output_tokens: fc.oneof(notNumber, nonInt, fc.integer({ max: 0 })),
    text: fc.oneof(
      fc.string(),
      fc.constant({ format: { type: 'xml' } }),
      fc.constant({ format: { type: 'json_schema' } }),
    ),
    tools: fc.oneof(
      fc.constant([{ type: 'web_search' }]),
      fc.constant([{ type: 'function', name: 'no spaces!' }]),
      fc.constant(Array.from({ length: 129 }, (_, i) => ({ type: 'function', name: `f${i}` }))),
    ),
    tool_choice: fc.oneof(fc.constantFrom('sometimes', ''), fc.integer(), fc.constant({ type: 'file_search' })),
    reasoning: fc.oneof(fc.string(), fc.constant({ effort: 'extreme' })),
    background: fc.constant(true),
    include: fc.constant(['reasoning.encrypted_content']),
    previous_response_id: fc.oneof(fc.constant(''), fc.integer(), fc.constant('resp_none')),
    store: notBool,
    metadata: fc.oneof(fc.string(), fc.integer()),
  };

  /** A valid body with exactly one field replaced by a refused value: the error must name that field. */
  function oneBadField(
    route: MalformedCase['route'],
    base: object,
    fields: Record<string, fc.Arbitrary<unknown>>,
  ): fc.Arbitrary<MalformedCase> {
    return fc.oneof(
      ...Object.entries(fields).map(([name, bad]) =>
        bad.map((v) => ({ route, body: JSON.stringify({ ...base, [name]: v }), param: name })),
      ),
    );
  }

  return fc.oneof(
    {
      weight: 4,
      arbitrary: oneBadField('/v1/completions', { model: model, prompt: 'Once' }, { ...shared, ...completionOnly }),
    },
    {
      weight: 4,
      arbitrary: oneBadField(
        '/v1/chat/completions',
        { model: model, messages: [{ role: 'user', content: 'hi' }] },
        { ...shared, ...chatOnly },
      ),
    },
    {
      weight: 3,
      arbitrary: oneBadField(
        '/v1/responses',
        { model: model, input: 'hi' },
        { ...sharedForResponses, ...responsesOnly },
      ),
    },
    // An unknown model is a 404 naming `model`.
    {
      weight: 1,
      arbitrary: fc
        .stringMatching(/^[a-z0-9-]{1,20}$/)
        .filter((m) => m !== model)
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
          fc.constantFrom('/v1/completions' as const, '/v1/chat/completions' as const, '/v1/responses' as const),
          fc.jsonValue({ maxDepth: 3 }),
        )
        .map(([route, v]) => ({ route, body: JSON.stringify(v) ?? 'null' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom('/v1/completions' as const, '/v1/chat/completions' as const),
          fc.string({ maxLength: 40 }),
        )
        .map(([route, body]) => ({ route, body })),
    },
  );
}
