// usage.prompt_tokens_details.cached_tokens (chat, completions) and usage.input_tokens_details.cached_tokens
// (Responses) through the real cluster: the prompt tokens the worker's prefix cache served, as the scheduler
// core counted them when it admitted the sequence. A prompt's first request computes it (0 cached); the same
// prompt again hits every full block before its last token (the core always computes that one), so the
// count is exact. Bodies and chunks are validated against OpenAI's spec.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { openAiSpec } from '../fixtures/openai-spec.js';

const BLOCK_SIZE = 16;
const STORY =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ' +
  'One day, she saw a big, red ball. She ran to the ball and kicked it very high into the sky.';

/** The prefix-cache hit of a prompt of `n` tokens whose blocks are all cached: every full block before the last token. */
const fullHit = (n: number) => Math.floor((n - 1) / BLOCK_SIZE) * BLOCK_SIZE;

describe('cached_tokens: prompt tokens served from the prefix cache', () => {
  let cluster: LocalCluster;
  let client: OpenAI;
  const { valid } = openAiSpec();

  before(async () => {
    cluster = await startLocalCluster({ env: { LOOM_BLOCK_SIZE: String(BLOCK_SIZE) } });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('completions: 0 the first time, every full block before the last token the second, streamed too', async () => {
    // Each test's prompt starts differently, so no test hits another's blocks.
    const prompt = `Tom said: ${STORY}`;
    const create = async () => {
      const res = await client.completions.create({ model: cluster.model, prompt, max_tokens: 4, temperature: 0 });
      valid('CreateCompletionResponse', res);
      return res.usage!;
    };
    const first = await create();
    assert.ok(first.prompt_tokens > 2 * BLOCK_SIZE, `a prompt of ${first.prompt_tokens} tokens spans blocks`);
    assert.equal(first.prompt_tokens_details?.cached_tokens, 0);
    const second = await create();
    assert.equal(second.prompt_tokens_details?.cached_tokens, fullHit(second.prompt_tokens));

    const stream = await client.completions.create({
      model: cluster.model,
      prompt,
      max_tokens: 4,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.equal(usage?.prompt_tokens_details?.cached_tokens, fullHit(usage!.prompt_tokens));
  });

  test('completions with two prompts: each prompt counted once, as in prompt_tokens', async () => {
    const a = `Ann said: ${STORY}`;
    const b = `Ben said: ${STORY}`;
    await client.completions.create({ model: cluster.model, prompt: a, max_tokens: 2, temperature: 0 });
    const res = await client.completions.create({
      model: cluster.model,
      prompt: [a, b],
      max_tokens: 2,
      temperature: 0,
      n: 2,
    });
    valid('CreateCompletionResponse', res);
    // a is cached from the request before, b is new: a's hit alone, whatever b's second choice reused.
    const one = await client.completions.create({ model: cluster.model, prompt: a, max_tokens: 1, temperature: 0 });
    assert.equal(res.usage!.prompt_tokens_details?.cached_tokens, fullHit(one.usage!.prompt_tokens));
  });

  test('chat: 0 the first time, a multiple of the block size the second, in the body and the usage chunk', async () => {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: `Sue said: ${STORY}` }];
    const first = await client.chat.completions.create({
      model: cluster.model,
      messages,
      max_tokens: 4,
      temperature: 0,
    });
    valid('CreateChatCompletionResponse', first);
    assert.equal(first.usage!.prompt_tokens_details?.cached_tokens, 0);

    const stream = await client.chat.completions.create({
      model: cluster.model,
      messages,
      max_tokens: 4,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      valid('CreateChatCompletionStreamResponse', chunk);
      if (chunk.usage) usage = chunk.usage;
    }
    const cached = usage?.prompt_tokens_details?.cached_tokens ?? -1;
    assert.ok(cached > 0 && cached % BLOCK_SIZE === 0, `cached_tokens ${cached}`);
    assert.equal(cached, fullHit(usage!.prompt_tokens));
  });

  test('responses: input_tokens_details.cached_tokens, 0 then the full blocks', async () => {
    const input = `Max said: ${STORY}`;
    const create = async () => {
      const res = await client.responses.create({ model: cluster.model, input, max_output_tokens: 4, temperature: 0 });
      valid('Response', res);
      return res.usage!;
    };
    const first = await create();
    assert.equal(first.input_tokens_details.cached_tokens, 0);
    const second = await create();
    assert.equal(second.input_tokens_details.cached_tokens, fullHit(second.input_tokens));
    assert.ok(second.input_tokens_details.cached_tokens > 0);
  });
});
