import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { at } from '@loom/common';
import type OpenAI from 'openai';
import { metricSum } from '../fixtures/prometheus-text.js';
import { useOpenAiCluster } from '../fixtures/use-openai-cluster.js';

/** From DESIGN.md: stories260K's greedy continuation of "Once upon a time". */
const GREEDY = ', there was a little girl named Lily. She loved to play outside in the park.';
const PROMPT = 'Once upon a time';

/**
 * Every parameter of issue 5 on the real stack (stories260K), each with an assertion that fails
 * when the parameter is ignored. Logprobs: openai-logprobs.test.ts; a client that leaves:
 * client-disconnect.test.ts.
 */
describe('the OpenAI surface end to end', () => {
  const s = useOpenAiCluster();
  const { complete, text, post, tokenize, valid, validChunk, schedulerMetrics } = s;

  test('max_tokens counts tokens; finish_reason length', async () => {
    const res = await complete({ prompt: PROMPT, max_tokens: 7, temperature: 0 });
    assert.equal(res.usage!.completion_tokens, 7);
    assert.equal(at(res.choices, 0).finish_reason, 'length');
    assert.ok(GREEDY.startsWith(at(res.choices, 0).text));
  });

  test('stop (string and list) cuts the text before the stop string', async () => {
    for (const stop of ['Lily', ['park', 'Lily']]) {
      const res = await complete({ prompt: PROMPT, max_tokens: 40, temperature: 0, stop });
      assert.equal(at(res.choices, 0).text, ', there was a little girl named ');
      assert.equal(at(res.choices, 0).finish_reason, 'stop');
    }
  });

  /** The id of `word` where it follows `context` (tokenizing the two texts and taking the difference). */
  const nextTokenId = async (context: string, word: string) =>
    at(await tokenize(context + word), (await tokenize(context)).length);

  test('stop_token_ids end the choice at that token', async () => {
    const lily = await nextTokenId(`${PROMPT}, there was a little girl named`, ' Lily');
    const res = await complete({ prompt: PROMPT, max_tokens: 40, temperature: 0, stop_token_ids: [lily] });
    assert.equal(at(res.choices, 0).finish_reason, 'stop');
    assert.ok(at(res.choices, 0).text.startsWith(', there was a little girl named'));
    assert.equal(
      res.usage!.completion_tokens,
      (await tokenize(`${PROMPT}, there was a little girl named Lily`)).length - (await tokenize(PROMPT)).length,
    );
  });

  test('the text of a stop_token_ids token is not part of the output (vLLM V1 skips the stop-terminating token)', async () => {
    const lily = await nextTokenId(`${PROMPT}, there was a little girl named`, ' Lily');
    const res = await complete({ prompt: PROMPT, max_tokens: 40, temperature: 0, stop_token_ids: [lily] });
    assert.equal(at(res.choices, 0).text, ', there was a little girl named');
  });

  // stories260K ends a story with BOS, never EOS, so EOS is forced with logit_bias to see ignore_eos at work.
  test('ignore_eos runs past EOS to max_tokens', async () => {
    const bias = { '2': 100 }; // stories260K's EOS id (llama2.c's SentencePiece vocabulary)
    const stopped = await complete({ prompt: PROMPT, max_tokens: 5, temperature: 0, logit_bias: bias });
    assert.deepEqual([at(stopped.choices, 0).finish_reason, stopped.usage!.completion_tokens], ['stop', 1]);
    const forced = await complete({
      prompt: PROMPT,
      max_tokens: 5,
      temperature: 0,
      logit_bias: bias,
      ignore_eos: true,
    });
    assert.deepEqual([at(forced.choices, 0).finish_reason, forced.usage!.completion_tokens], ['length', 5]);
  });

  test('seed reproduces; temperature > 0 differs across seeds; n = 2 gives two choices', async () => {
    const a = await text({ prompt: PROMPT, max_tokens: 30, temperature: 1, seed: 42 });
    const b = await text({ prompt: PROMPT, max_tokens: 30, temperature: 1, seed: 42 });
    const c = await text({ prompt: PROMPT, max_tokens: 30, temperature: 1, seed: 4242 });
    assert.equal(a, b);
    assert.notEqual(a, c);
    const two = await complete({ prompt: PROMPT, max_tokens: 30, temperature: 1, seed: 7, n: 2 });
    assert.deepEqual(
      two.choices.map((ch) => ch.index),
      [0, 1],
    );
    assert.notEqual(at(two.choices, 0).text, at(two.choices, 1).text, 'choices of one request sample independently');
    assert.equal(two.usage!.completion_tokens, 60);
  });

  test('top_k = 1, tiny top_p and min_p = 1 make temperature 1 greedy', async () => {
    const greedy = await text({ prompt: PROMPT, max_tokens: 30, temperature: 0 });
    for (const extra of [{ top_k: 1 }, { top_p: 0.001 }, { min_p: 1 }]) {
      for (const seed of [1, 2, 3])
        assert.equal(
          await text({ prompt: PROMPT, max_tokens: 30, temperature: 1, seed, ...extra }),
          greedy,
          JSON.stringify(extra),
        );
    }
  });

  test('presence, frequency and repetition penalties change greedy text', async () => {
    const greedy = await text({ prompt: PROMPT, max_tokens: 80, temperature: 0 });
    for (const extra of [{ presence_penalty: 2 }, { frequency_penalty: 2 }, { repetition_penalty: 2 }]) {
      assert.notEqual(
        await text({ prompt: PROMPT, max_tokens: 80, temperature: 0, ...extra }),
        greedy,
        JSON.stringify(extra),
      );
    }
  });

  test('logit_bias +100 forces a token; -100 bans the greedy first token', async () => {
    const word = await nextTokenId(`${PROMPT} the`, ' dog'); // whatever token ' dog' starts with
    const forced = await complete({
      prompt: PROMPT,
      max_tokens: 5,
      temperature: 0,
      logit_bias: { [String(word)]: 100 },
    });
    const promptIds = await tokenize(PROMPT);
    assert.deepEqual((await tokenize(PROMPT + at(forced.choices, 0).text)).slice(promptIds.length), [
      word,
      word,
      word,
      word,
      word,
    ]);
    const first = await nextTokenId(PROMPT, ',');
    const banned = await text({ prompt: PROMPT, max_tokens: 5, temperature: 0, logit_bias: { [String(first)]: -100 } });
    assert.ok(!banned.startsWith(','), banned);
  });

  test('min_tokens holds back stop_token_ids until that many tokens', async () => {
    const comma = await nextTokenId(PROMPT, ',');
    const early = await complete({ prompt: PROMPT, max_tokens: 20, temperature: 0, stop_token_ids: [comma] });
    assert.equal(at(early.choices, 0).finish_reason, 'stop');
    assert.ok(early.usage!.completion_tokens <= 1);
    const held = await complete({
      prompt: PROMPT,
      max_tokens: 20,
      temperature: 0,
      stop_token_ids: [comma],
      min_tokens: 5,
    });
    assert.ok(held.usage!.completion_tokens >= 5, `completion_tokens ${held.usage!.completion_tokens}`);
  });

  test('several prompts (strings and token ids) in one request: choices prompt-major, each its own greedy text', async () => {
    const prompts = [PROMPT, 'The little dog'];
    const alone = await Promise.all(prompts.map((p) => text({ prompt: p, max_tokens: 12, temperature: 0 })));
    const res = await complete({ prompt: prompts, max_tokens: 12, temperature: 0, n: 2 });
    assert.deepEqual(
      res.choices.map((c) => [c.index, c.text]),
      [
        [0, alone[0]],
        [1, alone[0]],
        [2, alone[1]],
        [3, alone[1]],
      ],
    );
    const ids = await Promise.all(prompts.map(tokenize));
    const byIds = await complete({ prompt: ids, max_tokens: 12, temperature: 0 });
    assert.deepEqual(
      byIds.choices.map((c) => c.text),
      alone,
    );
    assert.equal(byIds.usage!.prompt_tokens, at(ids, 0).length + at(ids, 1).length);
  });

  test('stream_options: include_usage ends with a usage chunk; continuous_usage_stats puts usage on every chunk', async () => {
    const stream = await s.client.completions.create({
      model: s.cluster.model,
      prompt: PROMPT,
      max_tokens: 10,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    } as OpenAI.CompletionCreateParamsStreaming);
    const chunks: OpenAI.Completion[] = [];
    for await (const c of stream) {
      validChunk(c);
      chunks.push(c);
    }
    assert.ok(
      chunks.every((c) => c.usage),
      'usage on every chunk',
    );
    const used = chunks.map((c) => c.usage!.completion_tokens);
    assert.deepEqual(
      used,
      [...used].sort((x, y) => x - y),
    );
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.equal(chunks.at(-1)!.usage!.completion_tokens, 10);
    const plain = await s.client.completions.create({
      model: s.cluster.model,
      prompt: PROMPT,
      max_tokens: 10,
      temperature: 0,
      stream: true,
    });
    const plainChunks: OpenAI.Completion[] = [];
    for await (const c of plain) plainChunks.push(c);
    assert.ok(
      plainChunks.every((c) => !c.usage),
      'no usage without include_usage',
    );
  });

  test('chat: every role, text parts, max_completion_tokens, logprobs + top_logprobs, streaming', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You tell stories.' },
      { role: 'developer', content: 'Keep it short.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Tell me ' },
          { type: 'text', text: 'a story.' },
        ],
      },
      { role: 'assistant', content: 'Once upon a time' },
      { role: 'user', content: 'Go on.' },
    ];
    const res = await s.client.chat.completions.create({
      model: s.cluster.model,
      messages,
      max_completion_tokens: 6,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
    });
    valid('CreateChatCompletionResponse', res);
    assert.equal(res.usage!.completion_tokens, 6);
    assert.equal(at(res.choices, 0).finish_reason, 'length');
    const content = at(res.choices, 0).logprobs!.content!;
    assert.equal(content.length, 6);
    assert.equal(content.map((c) => c.token).join(''), at(res.choices, 0).message.content);
    for (const c of content) assert.equal(c.top_logprobs.length, 2);
    const stream = await s.client.chat.completions.create({
      model: s.cluster.model,
      messages,
      max_completion_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamed = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      valid('CreateChatCompletionStreamResponse', chunk);
      streamed += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.equal(streamed, at(res.choices, 0).message.content);
    assert.equal(usage!.completion_tokens, 6);
  });

  test('chat: a tool message is accepted', async () => {
    const res = await post('/v1/chat/completions', {
      model: s.cluster.model,
      max_tokens: 3,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null },
        { role: 'tool', content: '42', tool_call_id: 'c1' },
      ],
    });
    const body = await res.json();
    assert.ok(res.status === 200 || res.status === 400, JSON.stringify(body));
    valid(res.status === 200 ? 'CreateChatCompletionResponse' : 'ErrorResponse', body);
  });

  test('cache_salt separates prefix caches (scheduler prefix-hit metric); user and priority are accepted', async () => {
    const long = `${PROMPT}, there was a little girl named Lily. She loved to play outside in the park. One day`;
    const hits = async () => metricSum(await schedulerMetrics(), 'loom_prefix_cache_hit_tokens_total');
    await text({ prompt: long, max_tokens: 1, temperature: 0, cache_salt: 'tenant-a', user: 'u1', priority: 3 });
    const h0 = await hits();
    await text({ prompt: long, max_tokens: 1, temperature: 0, cache_salt: 'tenant-b' });
    assert.equal(await hits(), h0, 'another salt reuses nothing');
    await text({ prompt: long, max_tokens: 1, temperature: 0, cache_salt: 'tenant-a' });
    assert.ok((await hits()) > h0, 'the same salt reuses the cached prefix');
  });

  test('best_of > 1 and suffix are refused naming the parameter', async () => {
    for (const [extra, param] of [
      [{ best_of: 2 }, 'best_of'],
      [{ suffix: 'The end.' }, 'suffix'],
    ] as const) {
      const res = await post('/v1/completions', { model: s.cluster.model, prompt: PROMPT, ...extra });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { param: string } };
      valid('ErrorResponse', body);
      assert.equal(body.error.param, param);
    }
  });

  test('X-Request-Id echoed; models/{id}, tokenize, detokenize, version, health, metrics', async () => {
    const res = await post(
      '/v1/completions',
      { model: s.cluster.model, prompt: PROMPT, max_tokens: 2 },
      { 'x-request-id': 'client-abc-1' },
    );
    assert.equal(res.headers.get('x-request-id'), 'client-abc-1');
    const root = s.root();
    const model = await (await fetch(`${s.cluster.baseURL}/models/${s.cluster.model}`)).json();
    valid('Model', model);
    assert.equal((model as { id: string }).id, s.cluster.model);
    assert.equal((await fetch(`${s.cluster.baseURL}/models/nope`)).status, 404);
    const ids = await tokenize(PROMPT);
    assert.ok(ids.length >= 4);
    const detok = (await (await post('/detokenize', { model: s.cluster.model, tokens: ids })).json()) as {
      prompt: string;
    };
    assert.ok(detok.prompt.endsWith(PROMPT));
    assert.match(((await (await fetch(`${root}/version`)).json()) as { version: string }).version, /^\d+\.\d+\.\d+/);
    assert.equal((await fetch(`${root}/health`)).status, 200);
    assert.match(await (await fetch(`${root}/metrics`)).text(), /loom_requests_accepted_total/);
  });
});
