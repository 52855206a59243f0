// /v1/embeddings through the real cluster (gateway, Redis, scheduler, workers with the engine), driven by the
// official openai client's embeddings.create: vectors equal llama.cpp's for the same GGUF (last pooling for
// stories260K, which names none; mean for a copy whose llama.pooling_type says so), float and base64 agree,
// dimensions, token-id inputs, usage, the prefix cache, errors, and embeddings computed in the same steps as a
// chat generation without changing either's result.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { at } from '@loom/common';
import OpenAI from 'openai';
import { openAiSchemaValidator } from '@loom/gateway/testing';
import { relErr } from '@loom/testing';
import { copyGgufWithMetadata } from '@loom/gguf';
import { sharedDir } from '../harness/index.js';
import { llamaCppEmbedding } from '../fixtures/llama-cpp-oracle.js';
import { STORIES_F32, startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';

const INPUTS = [
  'Once upon a time',
  'Lily loved to play outside in the park with her big red ball and her little dog.',
  'The sun was shining.',
];

describe('/v1/embeddings end to end', () => {
  let cluster: LocalCluster;
  let client: OpenAI;
  let dir: string;
  let meanFile: string;
  const validate = openAiSchemaValidator(path.join(sharedDir(), 'specs', 'openai-openapi.json'));
  const root = () => cluster.baseURL.replace(/\/v1$/, '');
  const post = (route: string, body: unknown) =>
    fetch(root() + route, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const tokenize = async (model: string, prompt: string): Promise<number[]> =>
    ((await (await post('/tokenize', { model, prompt })).json()) as { tokens: number[] }).tokens;
  const vectors = (r: OpenAI.CreateEmbeddingResponse) => r.data.map((d) => Float32Array.from(d.embedding));
  const prefixHits = async () => {
    const text = await (await fetch(`http://127.0.0.1:${String(cluster.scheduler.ready!.metricsPort)}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('loom_prefix_cache_hit_tokens_total'))
      .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loom-e2e-embd-'));
    meanFile = path.join(dir, 'stories-mean.gguf');
    copyGgufWithMetadata(STORIES_F32(), meanFile, { 'llama.pooling_type': 1 });
    // One worker per model: stories260K-f32 (last pooling) and its copy that asks for mean pooling.
    cluster = await startLocalCluster({ models: [STORIES_F32(), meanFile] });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [model, file, pooling] of [
    ['stories260K-f32', STORIES_F32, 'last'],
    ['stories-mean', () => meanFile, 'mean'],
  ] as const) {
    test(`${model} (${pooling} pooling): == llama.cpp; float and base64 agree; the body is OpenAI's`, async () => {
      // The client asks for base64 unless told otherwise, and decodes it.
      const viaBase64 = await client.embeddings.create({ model, input: INPUTS });
      const res = await post('/v1/embeddings', { model, input: INPUTS, encoding_format: 'float' });
      const body = (await res.json()) as OpenAI.CreateEmbeddingResponse;
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.deepEqual(validate('CreateEmbeddingResponse', body), []);
      assert.deepEqual(vectors(viaBase64), vectors(body), 'base64 and float carry the same float32 values');
      const ids = await Promise.all(INPUTS.map((t) => tokenize(model, t)));
      const total = ids.reduce((s, p) => s + p.length, 0);
      assert.deepEqual(body.usage, { prompt_tokens: total, total_tokens: total });
      for (let i = 0; i < INPUTS.length; i++) {
        const v = at(vectors(body), i);
        assert.equal(v.length, 64, 'stories260K is 64 wide');
        assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6, 'unit length');
        const want = Float32Array.from(await llamaCppEmbedding(file(), at(ids, i)));
        // As the engine tests: llama.cpp rounds activations to f16 in places Loom keeps f32 (<= 8.5e-4 measured).
        const e = relErr(v, want);
        assert.ok(e < 3e-3, `input ${i}: ${e.toExponential(2)} from llama.cpp`);
      }
      // The other pooling would be far off: the model's pooling type is what was applied.
      const other = await llamaCppEmbedding(pooling === 'mean' ? STORIES_F32() : meanFile, at(ids, 1));
      assert.ok(relErr(at(vectors(body), 1), Float32Array.from(other)) > 3e-2);
    });
  }

  test('token-id inputs give the vectors of the same tokens as text; dimensions truncate then renormalise', async () => {
    const model = 'stories260K-f32';
    const ids = await Promise.all(INPUTS.map((t) => tokenize(model, t)));
    const text = vectors(await client.embeddings.create({ model, input: INPUTS, encoding_format: 'float' }));
    const lists = await client.embeddings.create({ model, input: ids });
    assert.deepEqual(vectors(lists), text);
    assert.deepEqual(vectors(await client.embeddings.create({ model, input: at(ids, 0) })), [text[0]]);
    const cut = vectors(await client.embeddings.create({ model, input: INPUTS, dimensions: 16 }));
    cut.forEach((v, i) => {
      assert.equal(v.length, 16);
      const head = at(text, i).subarray(0, 16);
      const norm = Math.hypot(...head);
      assert.ok(
        relErr(
          v,
          head.map((x) => x / norm),
        ) < 1e-6,
        `input ${i}: the renormalised head of the full vector`,
      );
    });
  });

  test('the prefix cache serves last pooling (the same vector again); mean pooling recomputes', async () => {
    const long = at(INPUTS, 1).repeat(3); // well past one 16-token block
    for (const model of ['stories260K-f32', 'stories-mean']) {
      const first = vectors(await client.embeddings.create({ model, input: long }));
      const hits = await prefixHits();
      const again = vectors(await client.embeddings.create({ model, input: long }));
      assert.deepEqual(again, first, `${model}: the same input, the same vector`);
      const grew = (await prefixHits()) - hits;
      if (model === 'stories-mean') assert.equal(grew, 0, 'mean pooling does not read the cache');
      else assert.ok(grew >= 16, `last pooling hit the cache (${grew} tokens)`);
    }
  });

  test('embeddings computed while a chat generates: in its steps, and neither result changes', async () => {
    const model = 'stories260K-f32';
    const chatBody = {
      model,
      messages: [{ role: 'user' as const, content: 'Tell me a story about a cat.' }],
      max_tokens: 150,
      temperature: 0,
      ignore_eos: true,
    };
    const alone = at((await client.chat.completions.create(chatBody)).choices, 0).message.content;
    const expected = vectors(await client.embeddings.create({ model, input: INPUTS }));
    const stream = await client.chat.completions.create({ ...chatBody, stream: true });
    let text = '';
    let finished = false;
    const during: Promise<{ v: Float32Array[]; whileGenerating: boolean }>[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      // From the first token on, the chat runs in every step of this worker: embeddings answered before it
      // finishes were computed in steps that also decoded it.
      if (during.length < 6 && text.length > 0)
        during.push(
          client.embeddings
            .create({ model, input: INPUTS })
            .then((r) => ({ v: vectors(r), whileGenerating: !finished })),
        );
      if (chunk.choices[0]?.finish_reason) finished = true;
    }
    const results = await Promise.all(during);
    assert.equal(text, alone, 'the chat is unchanged by the embeddings beside it');
    for (const r of results) assert.deepEqual(r.v, expected, 'the vectors are unchanged by the chat beside them');
    assert.ok(
      results.some((r) => r.whileGenerating),
      'some embedding was answered while the chat was still generating',
    );
  });

  test('bad input: a 400 naming the parameter, through the client', async () => {
    const rejects = async (body: Record<string, unknown>, param: string, status = 400) =>
      assert.rejects(
        client.embeddings.create({ model: 'stories260K-f32', ...body } as OpenAI.EmbeddingCreateParams),
        (err: InstanceType<typeof OpenAI.APIError>) => {
          assert.equal(err.status, status);
          assert.equal((err.error as { param?: string }).param, param, JSON.stringify(err.error));
          return true;
        },
      );
    await rejects({ input: '' }, 'input');
    await rejects({ input: Array(2049).fill('a') }, 'input');
    await rejects({ input: 'a '.repeat(600) }, 'input');
    await rejects({ input: 'a', dimensions: 65 }, 'dimensions');
    await rejects({ input: 'a', model: 'no-such-model' }, 'model', 404);
  });
});
