// /v1/embeddings over HTTP against a FakeBackend (the cluster's part is the e2e test's): the job it queues (one job,
// one tokenized input per sequence, the model's pooling), the body in both encodings against OpenAI's spec, and
// every validation error as a 400 naming its parameter.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { at, configFromEnv, decodeEmbedding, encodeEmbedding, type RequestJob } from '@loom/common';
import { Tokenizer } from '@loom/tokenizer';
import { MAX_EMBEDDING_INPUTS } from './embeddings/embedding-request.js';
import { startGateway, type RunningGateway } from './gateway.js';
import { FakeBackend, type ScriptStep } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { openAiSchemaValidator } from './testing/openai-schema.js';
import { OPENAI_SPEC, STORIES_GGUF } from './testing/spec-path.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const card = { ...modelCardFromGguf(STORIES_GGUF, 'stories260K'), hiddenSize: 64, pooling: 'mean' as const };
const ranker = { ...card, modelId: 'ranker', pooling: 'rank' as const };
const tok = Tokenizer.fromData(card.tokenizer);

/** The "vector" of input i: [i, its token count, 0.1] (distinct per input, float32-exact where it matters). */
const vectorOf = (job: RequestJob, i: number) => [i, at(job.inputs ?? [], i).length, 0.1];

/** Answers every input, last one first (the body must still list them by index). */
function embedScript(job: RequestJob): ScriptStep[] {
  return [...job.inputs!.keys()].reverse().map((index) => ({
    event: {
      type: 'finish',
      index,
      finishReason: 'stop',
      promptTokens: at(job.inputs ?? [], index).length,
      completionTokens: 0,
      embedding: encodeEmbedding(vectorOf(job, index)),
    },
  }));
}

describe('/v1/embeddings against a FakeBackend', () => {
  const backend = new FakeBackend([card, ranker], embedScript);
  let gw: RunningGateway;
  const post = (body: unknown) =>
    fetch(gw.url + '/v1/embeddings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json = (res: Response): Promise<any> => res.json();

  before(async () => {
    gw = await startGateway(configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent' }), {
      backend,
      keepAliveMs: 40,
    });
  });
  after(async () => {
    await gw.close();
  });

  test('a list of strings: one job, each input tokenized as a prompt, vectors by index, usage', async () => {
    const input = ['Once upon a time', 'there was a girl', 'Lily'];
    const res = await post({ model: 'stories260K', input });
    const body = await json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(validate('CreateEmbeddingResponse', body), []);
    const job = backend.submitted.at(-1)!;
    const ids = input.map((t) => tok.encode(t, { addSpecial: true, parseSpecial: true }));
    assert.deepEqual(job.inputs, ids);
    assert.equal(at(ids, 0)[0], card.tokenizer.bosTokenId, 'BOS added as for a completion prompt');
    assert.deepEqual([job.n, job.promptTokenIds, job.pooling], [3, [], { type: 'mean', normalize: true }]);
    assert.equal(job.requestId, body.id);
    assert.match(body.id, /^embd-/);
    assert.equal(res.headers.get('x-request-id'), body.id);
    assert.deepEqual(
      body.data.map((d: { object: string; index: number; embedding: number[] }) => [d.object, d.index, d.embedding]),
      ids.map((p, i) => ['embedding', i, [i, p.length, Math.fround(0.1)]]),
    );
    const total = ids.reduce((s, p) => s + p.length, 0);
    assert.deepEqual(
      [body.object, body.model, body.usage],
      ['list', 'stories260K', { prompt_tokens: total, total_tokens: total }],
    );
  });

  test('base64 is the little-endian float32 bytes of the float answer', async () => {
    const float = await json(await post({ model: 'stories260K', input: 'Lily', encoding_format: 'float' }));
    const b64 = await json(await post({ model: 'stories260K', input: 'Lily', encoding_format: 'base64' }));
    assert.equal(typeof b64.data[0].embedding, 'string');
    assert.deepEqual([...decodeEmbedding(b64.data[0].embedding)], float.data[0].embedding);
    assert.deepEqual(
      validate('CreateEmbeddingResponse', { ...b64, data: [{ ...b64.data[0], embedding: float.data[0].embedding }] }),
      [],
    );
  });

  test('token-id inputs, add_special_tokens, dimensions, normalize and truncate_prompt_tokens reach the job', async () => {
    await post({ model: 'stories260K', input: [1, 403, 407] });
    assert.deepEqual(backend.submitted.at(-1)!.inputs, [[1, 403, 407]]);
    await post({ model: 'stories260K', input: [[1, 403], [407]], dimensions: 8, normalize: false });
    const job = backend.submitted.at(-1)!;
    assert.deepEqual([job.inputs, job.pooling], [[[1, 403], [407]], { type: 'mean', normalize: false, dimensions: 8 }]);
    await post({ model: 'stories260K', input: 'Lily', add_special_tokens: false });
    assert.deepEqual(backend.submitted.at(-1)!.inputs, [tok.encode('Lily', { addSpecial: false, parseSpecial: true })]);
    const long = Array.from({ length: card.contextLength + 10 }, (_, i) => 3 + (i % 400));
    await post({ model: 'stories260K', input: long, truncate_prompt_tokens: 5 });
    assert.deepEqual(backend.submitted.at(-1)!.inputs, [long.slice(-5)]);
    await post({ model: 'stories260K', input: long, truncate_prompt_tokens: -1 });
    assert.deepEqual(backend.submitted.at(-1)!.inputs, [long.slice(-card.contextLength)]);
  });

  test('bad bodies are 400s naming the parameter; nothing is queued', async () => {
    const before = backend.submitted.length;
    const cases: [unknown, string, RegExp | string][] = [
      [{ model: 'stories260K' }, 'input', 'missing_required_parameter'],
      [{ model: 'stories260K', input: '' }, 'input', /empty string/],
      [{ model: 'stories260K', input: [] }, 'input', /empty list/],
      [{ model: 'stories260K', input: ['a', ''] }, 'input', /input\[1\]' cannot be an empty string/],
      [{ model: 'stories260K', input: [[1], []] }, 'input', /empty token list/],
      [{ model: 'stories260K', input: ['a', [1]] }, 'input', /mixes/],
      [
        { model: 'stories260K', input: Array(MAX_EMBEDDING_INPUTS + 1).fill('a') },
        'input',
        /2049 inputs; at most 2048/,
      ],
      [{ model: 'stories260K', input: [1, 99999] }, 'input', /out of range/],
      [{ model: 'stories260K', input: Array(card.contextLength + 1).fill(5) }, 'input', 'context_length_exceeded'],
      [
        { model: 'stories260K', input: 'a', truncate_prompt_tokens: card.contextLength + 1 },
        'truncate_prompt_tokens',
        /between 1/,
      ],
      [{ model: 'stories260K', input: 'a', encoding_format: 'hex' }, 'encoding_format', 'invalid_value'],
      [{ model: 'stories260K', input: 'a', dimensions: 0 }, 'dimensions', 'invalid_value'],
      [{ model: 'stories260K', input: 'a', dimensions: 65 }, 'dimensions', /exceeds the model's embedding size \(64\)/],
      [{ model: 'ranker', input: 'a' }, 'model', /ranking/],
    ];
    for (const [body, param, what] of cases) {
      const res = await post(body);
      const err = (await json(res)).error;
      assert.equal(res.status, 400, JSON.stringify(err));
      assert.equal(err.param, param, JSON.stringify(err));
      if (typeof what === 'string') assert.equal(err.code, what, JSON.stringify(err));
      else assert.match(err.message, what);
    }
    assert.equal((await post({ model: 'nope', input: 'a' })).status, 404);
    assert.equal(backend.submitted.length, before);
  });

  test("the cluster's error is the client's; an aborted input is a 503 and the rest is cancelled", async () => {
    backend.script = () => [{ event: { type: 'error', status: 400, code: 'request_too_large', message: 'too big' } }];
    let res = await post({ model: 'stories260K', input: 'Lily' });
    assert.deepEqual([res.status, (await json(res)).error.code], [400, 'request_too_large']);
    backend.script = () => [
      { event: { type: 'finish', index: 0, finishReason: 'abort', promptTokens: 2, completionTokens: 0 } },
    ];
    const cancels = backend.cancels.length;
    res = await post({ model: 'stories260K', input: ['a', 'b'] });
    assert.equal(res.status, 503);
    assert.equal(backend.cancels.length, cancels + 1, 'the unfinished input is cancelled');
    backend.script = embedScript;
  });
});
