import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { at, entry } from '@loom/common';
import type OpenAI from 'openai';
import { echoNullsFilled } from '@loom/gateway/testing';
import { useOpenAiCluster } from '../fixtures/use-openai-cluster.js';

const PROMPT = 'Once upon a time';

/**
 * Logprobs on the real stack (stories260K): completions' logprobs and echo (the prompt's own), chat's
 * prompt_logprobs, streamed and not; the numbers are checked against what the model computes elsewhere.
 */
describe('logprobs end to end', () => {
  const s = useOpenAiCluster();
  const { complete, completeEcho, text, post, tokenize, valid, validChunk } = s;

  test('completions logprobs: tokens, top-N, text_offset; echo prepends the prompt', async () => {
    const res = await complete({ prompt: PROMPT, max_tokens: 8, temperature: 0, logprobs: 3 });
    const lp = at(res.choices, 0).logprobs!;
    assert.equal(lp.tokens!.length, 8);
    assert.equal(lp.tokens!.join(''), at(res.choices, 0).text);
    for (let i = 0; i < 8; i++) {
      const top = at(lp.top_logprobs!, i);
      assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 3);
      // Greedy picks the most likely token.
      assert.ok(Math.abs(at(lp.token_logprobs!, i) - Math.max(...Object.values(top))) < 1e-4);
      assert.ok(at(lp.token_logprobs!, i) <= 0);
    }
    assert.deepEqual(
      lp.text_offset,
      lp.tokens!.map((_, i) => lp.tokens!.slice(0, i).join('').length),
    );
    const echoed = await completeEcho({ prompt: PROMPT, max_tokens: 8, temperature: 0, echo: true, logprobs: 1 });
    assert.equal(at(echoed.choices, 0).text, PROMPT + at(res.choices, 0).text);
    // The prompt's tokens come first; the completion's offsets start where the echo ends.
    const promptLength = (await tokenize(PROMPT)).length;
    assert.equal(at(echoed.choices, 0).logprobs!.tokens!.length, promptLength + 8);
    assert.equal(at(echoed.choices, 0).logprobs!.text_offset![promptLength], PROMPT.length);
  });

  test("echo with logprobs returns the prompt tokens' logprobs (first null), the numbers the model computes", async () => {
    // A: the greedy continuation, with each generated token's logprob and top 2.
    const a = await complete({ prompt: PROMPT, max_tokens: 8, temperature: 0, logprobs: 2 });
    const aLp = at(a.choices, 0).logprobs!;
    // B: that continuation is now part of the prompt, so B scores the very tokens A generated, at the same positions.
    const promptB = PROMPT + at(a.choices, 0).text;
    const idsB = await tokenize(promptB);
    const p = idsB.length;
    const b = await completeEcho({ prompt: promptB, max_tokens: 5, temperature: 0, echo: true, logprobs: 2 });
    const lp = at(b.choices, 0).logprobs!;
    const full = at(b.choices, 0).text;
    assert.ok(full.startsWith(promptB));
    assert.equal(lp.tokens!.length, p + 5);
    assert.equal(lp.token_logprobs![0], null);
    assert.equal(lp.top_logprobs![0], null);
    for (let i = 1; i < p + 5; i++) {
      const v = at(lp.token_logprobs!, i);
      assert.ok(Number.isFinite(v) && v <= 0, `token_logprobs[${i}] = ${v}`);
      assert.ok(
        Object.keys(at(lp.top_logprobs!, i)).length >= 1 && Object.keys(at(lp.top_logprobs!, i)).length <= 2,
        `top_logprobs[${i}]`,
      );
    }
    // Offsets: non-decreasing, each token's text where its offset says (past BOS and the first word, whose leading
    // space decode strips), completion from the echo's end.
    const off = lp.text_offset!;
    for (let i = 1; i < off.length; i++) assert.ok(at(off, i) >= at(off, i - 1), `text_offset[${i}]`);
    assert.equal(off[0], 0);
    for (let i = 2; i < p + 5; i++)
      assert.equal(
        full.slice(at(off, i), at(off, i) + at(lp.tokens!, i).length),
        lp.tokens![i],
        `token ${i} at ${off[i]}`,
      );
    assert.equal(off[p], promptB.length);
    // The generated tokens of A are the last prompt tokens of B (same text, retokenized the same way)...
    const fromA = p - 8;
    assert.deepEqual(idsB.slice(0, fromA), await tokenize(PROMPT));
    assert.deepEqual(lp.tokens!.slice(fromA, p), aLp.tokens);
    for (let j = 0; j < 8; j++) {
      // ...so B's prompt logprob there is A's sampled logprob (prefill vs decode of the same model), top 2 included.
      assert.ok(
        Math.abs(at(lp.token_logprobs!, fromA + j) - at(aLp.token_logprobs!, j)) < 1e-4,
        `position ${fromA + j}: ${lp.token_logprobs![fromA + j]} vs ${aLp.token_logprobs![j]}`,
      );
      const [topA, topB] = [at(aLp.top_logprobs!, j), at(lp.top_logprobs!, fromA + j)];
      assert.deepEqual(Object.keys(topB).sort(), Object.keys(topA).sort(), `top at ${fromA + j}`);
      for (const k of Object.keys(topA))
        assert.ok(Math.abs(entry(topB, k) - entry(topA, k)) < 1e-4, `top ${JSON.stringify(k)} at ${fromA + j}`);
    }
    // B's own greedy continuation follows what it echoed, as A's longer greedy text does.
    const longer = await text({ prompt: PROMPT, max_tokens: 13, temperature: 0 });
    assert.equal(PROMPT + longer, full);

    // Streaming: the echo and the prompt's logprobs come first; the chunks add up to the same logprobs.
    const stream = await s.client.completions.create({
      model: s.cluster.model,
      prompt: promptB,
      max_tokens: 5,
      temperature: 0,
      echo: true,
      logprobs: 2,
      stream: true,
    });
    const chunks: OpenAI.Completion[] = [];
    for await (const c of stream) chunks.push(c);
    for (const c of chunks) validChunk(echoNullsFilled(c));
    assert.equal(at(at(chunks, 0).choices, 0).text, promptB);
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), full);
    const streamed = chunks.flatMap((c) => c.choices[0]?.logprobs?.token_logprobs ?? []);
    assert.equal(streamed.length, p + 5);
    streamed.forEach((v, i) =>
      assert.ok(i === 0 ? v === null : Math.abs(v! - at(lp.token_logprobs!, i)) < 1e-4, `streamed ${i}`),
    );
    assert.deepEqual(
      chunks.flatMap((c) => c.choices[0]?.logprobs?.text_offset ?? []),
      off,
    );
  });

  test("chat: vLLM's prompt_logprobs scores the rendered prompt (first null, own token + top N, ranks), streamed in a chunk before the tokens", async () => {
    const messages = [{ role: 'user', content: 'Tell me a story about a dog.' }];
    const ids = ((await (await post('/tokenize', { model: s.cluster.model, messages })).json()) as { tokens: number[] })
      .tokens;
    const res = (await (
      await post('/v1/chat/completions', {
        model: s.cluster.model,
        messages,
        max_tokens: 4,
        temperature: 0,
        prompt_logprobs: 2,
      })
    ).json()) as {
      prompt_logprobs: (Record<string, { logprob: number; rank: number | null; decoded_token: string }> | null)[];
      usage: { prompt_tokens: number };
    };
    valid('CreateChatCompletionResponse', res);
    const plp = res.prompt_logprobs;
    assert.equal(plp.length, ids.length);
    assert.equal(res.usage.prompt_tokens, ids.length);
    assert.equal(plp[0], null);
    for (let i = 1; i < ids.length; i++) {
      const position = plp[i];
      assert.ok(position, `position ${i} is scored`);
      const own = position[String(ids[i])];
      assert.ok(own, `position ${i}: the prompt's own token ${ids[i]} is scored`);
      assert.ok(
        Object.keys(position).length >= 1 && Object.keys(position).length <= 3,
        `position ${i}: own token + at most 2 alternatives`,
      );
      const entries = Object.values(position);
      for (const e of entries)
        assert.ok(Number.isFinite(e.logprob) && e.logprob <= 0 && typeof e.decoded_token === 'string');
      const best = Math.max(...entries.map((e) => e.logprob));
      assert.ok(
        entries.some((e) => e.rank === 1 && e.logprob === best),
        `position ${i}: rank 1 is the likeliest`,
      );
      if (own.rank !== null) assert.equal(own.rank, 1 + entries.filter((e) => e.logprob > own.logprob).length);
    }
    // Streamed: one chunk with no choices carries the same prompt_logprobs, before any token.
    const chunks: { choices: { delta: { content?: string } }[]; prompt_logprobs?: unknown }[] = [];
    const stream = await post('/v1/chat/completions', {
      model: s.cluster.model,
      messages,
      max_tokens: 4,
      temperature: 0,
      prompt_logprobs: 2,
      stream: true,
    });
    for (const line of (await stream.text()).split('\n')) {
      if (!line.startsWith('data: {')) continue;
      const chunk = JSON.parse(line.slice(6)) as (typeof chunks)[number];
      valid('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk);
    }
    const withPrompt = chunks.findIndex((c) => c.prompt_logprobs !== undefined);
    assert.deepEqual(at(chunks, withPrompt).prompt_logprobs, plp);
    assert.ok(chunks.findIndex((c) => c.choices[0]?.delta.content) > withPrompt, 'before the first token');
    assert.equal(chunks.filter((c) => c.prompt_logprobs !== undefined).length, 1);
  });
});
