import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { chatFormat } from '../chat/chat-format.js';
import { completionFormat } from '../completions/completion-format.js';
import { openAiSchemaValidator } from '../testing/openai-schema.js';
import { modelCardFromGguf } from '../testing/model-card.js';
import { echoNullsFilled } from '../testing/echo-nulls-filled.js';
import { OPENAI_SPEC, STORIES_GGUF } from '../testing/spec-path.js';
import { waitUntil } from '../testing/wait-until.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import { vllmPromptLogprobs } from './logprobs-format.js';
import { at } from '@loom/common';
import type { TokenLogprob } from '@loom/common';
import { usageOf, type ApiFinishReason, type ResponseContext, type ResponseFormat } from './response-format.js';
import { SseWriter } from './sse-writer.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);

/** The one chunk a text update makes (formats without parsers make exactly one). */
function delta(f: ResponseFormat, c: ResponseContext, index: number, text: string, logprobs?: TokenLogprob[]): object {
  const chunks = f.updateChunks(c, { kind: 'delta', index, text, tokens: 1, ...(logprobs ? { logprobs } : {}) });
  assert.equal(chunks.length, 1);
  return at(chunks, 0);
}

function finish(f: ResponseFormat, c: ResponseContext, index: number, finishReason: ApiFinishReason): object {
  return f.updateChunks(c, { kind: 'finish', index, finishReason }).at(-1)!;
}
const ctx = { id: 'cmpl-1', created: 1700000000, model: 'm', n: 2 };
const usage = usageOf(5, 7);

test('completion chunks and body follow the spec', () => {
  const f = completionFormat(1);
  assert.deepEqual(f.openingChunks(ctx), []);
  const chunk = delta(f, ctx, 1, ' there');
  assert.deepEqual(chunk, {
    id: 'cmpl-1',
    object: 'text_completion',
    created: 1700000000,
    model: 'm',
    choices: [{ index: 1, text: ' there', logprobs: null, finish_reason: null }],
  });
  for (const chunk of [finish(f, ctx, 0, 'length'), f.usageChunk(ctx, usage)])
    assert.deepEqual(validate('CreateCompletionResponse', chunk), []);
  const body = f.body(
    ctx,
    [
      { index: 0, text: 'a', finishReason: 'stop' },
      { index: 1, text: 'b', finishReason: 'length' },
    ],
    usage,
  ) as { choices: { text: string }[]; usage: object };
  assert.deepEqual(validate('CreateCompletionResponse', body), []);
  assert.deepEqual(body.usage, { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  const echoed = completionFormat(1, [{ text: 'Once', ids: [1, 2] }]);
  assert.equal(
    (echoed.body(ctx, [{ index: 0, text: ' upon', finishReason: 'stop' }], usage) as { choices: { text: string }[] })
      .choices[0]?.text,
    'Once upon',
  );
  assert.equal(echoed.openingChunks(ctx).length, 2);
});

test('echo + logprobs: the prompt tokens lead the logprobs (first null), offsets from 0 then the completion continuing them', () => {
  const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
  const toks = new ModelTokenizers();
  const lp = toks.logprobsOptions(card, 2);
  const prompt = 'Once upon a time';
  const ids = toks.encodePrompt(card, prompt);
  const entry = (tokenId: number, logprob: number) => ({
    tokenId,
    logprob,
    top: [
      { tokenId, logprob },
      { tokenId: 7, logprob: logprob - 1 },
    ],
  });
  const scored = [null, ...ids.slice(1).map((id, i) => entry(id, -1 - i))];
  const out = toks.encodePrompt(card, `${prompt}, there`).slice(ids.length);
  const completion = out.map((id) => entry(id, -0.5));
  const text = toks.decode(card, [...ids, ...out]).slice(prompt.length);
  type Legacy = {
    tokens: string[];
    token_logprobs: (number | null)[];
    top_logprobs: (object | null)[];
    text_offset: number[];
  };
  const check = (lps: Legacy, full: string) => {
    assert.equal(lps.tokens.length, ids.length + out.length);
    assert.deepEqual(lps.token_logprobs, [null, ...scored.slice(1).map((e) => e!.logprob), ...out.map(() => -0.5)]);
    assert.equal(lps.top_logprobs[0], null);
    assert.equal(Object.keys(at(lps.top_logprobs, 1) ?? {}).length, 2);
    // Each token (past BOS and the first word, whose leading space decode strips) sits at its offset in the choice's text.
    for (let i = 2; i < lps.tokens.length; i++)
      assert.equal(
        full.slice(lps.text_offset[i], at(lps.text_offset, i) + at(lps.tokens, i).length),
        lps.tokens[i],
        `token ${i}`,
      );
    assert.equal(lps.text_offset[ids.length], prompt.length);
  };
  const echo = [{ text: prompt, ids }];
  const body = completionFormat(1, echo, lp).body(
    ctx,
    [{ index: 0, text, finishReason: 'length', logprobs: completion, promptLogprobs: scored }],
    usage,
  ) as { choices: { text: string; logprobs: Legacy }[] };
  assert.equal(at(body.choices, 0).text, prompt + text);
  check(at(body.choices, 0).logprobs, prompt + text);
  assert.deepEqual(validate('CreateCompletionResponse', echoNullsFilled(body)), []);
  assert.notDeepEqual(validate('CreateCompletionResponse', body), [], 'the spec itself has no nulls there');

  // Streaming: the echo travels with the prompt's logprobs, before the first token; the chunks add up to the body.
  const f = completionFormat(1, echo, lp);
  const sctx = { ...ctx, n: 1 };
  const chunks = [
    ...f.openingChunks(sctx),
    at(f.updateChunks(sctx, { kind: 'prompt', index: 0, logprobs: scored }), 0),
    delta(f, sctx, 0, text, completion),
    finish(f, sctx, 0, 'length'),
  ] as { choices: { text: string; logprobs: Legacy | null }[] }[];
  assert.equal(chunks.length, 3);
  assert.equal(chunks.map((c) => at(c.choices, 0).text).join(''), prompt + text);
  const parts = chunks.map((c) => at(c.choices, 0).logprobs).filter((l): l is Legacy => l !== null);
  const joined = {
    tokens: parts.flatMap((l) => l.tokens),
    token_logprobs: parts.flatMap((l) => l.token_logprobs),
    top_logprobs: parts.flatMap((l) => l.top_logprobs),
    text_offset: parts.flatMap((l) => l.text_offset),
  };
  check(joined, prompt + text);
  for (const c of chunks)
    assert.deepEqual(
      validate('CreateCompletionResponse', echoNullsFilled(c)).filter((e) => !e.includes('/finish_reason')),
      [],
    );
});

test('echo + logprobs without a prompt_logprobs event: the echo still opens the choice, logprobs cover the completion', () => {
  const f = completionFormat(1, [{ text: 'Once', ids: [1, 2] }], {
    top: 1,
    tokenText: () => 'x',
    tokenBytes: () => new Uint8Array(),
    textOffsets: (ids) => ids.map(() => 0),
  });
  const sctx = { ...ctx, n: 1 };
  assert.deepEqual(f.openingChunks(sctx), []);
  const chunk = delta(f, sctx, 0, ' upon', [{ tokenId: 3, logprob: -1, top: [] }]) as {
    choices: { text: string; logprobs: { text_offset: number[] } }[];
  };
  assert.equal(at(chunk.choices, 0).text, 'Once upon');
  assert.deepEqual(at(chunk.choices, 0).logprobs.text_offset, [4]);
  assert.equal(
    (
      f.body(ctx, [{ index: 0, text: ' upon', finishReason: 'stop', logprobs: [] }], usage) as {
        choices: { text: string }[];
      }
    ).choices[0]?.text,
    'Once upon',
  );
});

test('chat chunks and body follow the spec', () => {
  const f = chatFormat();
  const opening = f.openingChunks(ctx) as { choices: { index: number; delta: object }[] }[];
  assert.deepEqual(
    opening.map((c) => [at(c.choices, 0).index, at(c.choices, 0).delta]),
    [
      [0, { role: 'assistant', content: '' }],
      [1, { role: 'assistant', content: '' }],
    ],
  );
  for (const chunk of [...opening, delta(f, ctx, 0, 'hi'), finish(f, ctx, 0, 'stop'), f.usageChunk(ctx, usage)]) {
    assert.deepEqual(validate('CreateChatCompletionStreamResponse', chunk), []);
  }
  const body = f.body(ctx, [{ index: 0, text: 'hello', finishReason: 'stop' }], usage);
  assert.deepEqual(validate('CreateChatCompletionResponse', body), []);
  assert.deepEqual((body as { choices: { message: object }[] }).choices[0]?.message, {
    role: 'assistant',
    content: 'hello',
    refusal: null,
  });
});

test('the schema validator rejects what the spec forbids', () => {
  assert.notDeepEqual(validate('CreateCompletionResponse', { id: 'x', created: 1, model: 'm', choices: [] }), []);
  assert.notDeepEqual(
    validate('CreateChatCompletionStreamResponse', {
      ...delta(chatFormat(), ctx, 0, 'x'),
      object: 'chat.completion',
    }),
    [],
  );
  assert.notDeepEqual(validate('ErrorResponse', { error: { message: 'm', type: 't' } }), []);
  assert.throws(() => validate('NoSuchSchema', {}), /NoSuchSchema/);
});

/** Just enough of a ServerResponse to record what SseWriter writes. */
function recorder() {
  const out: string[] = [];
  let head: [number, object] | undefined;
  const res = {
    writableEnded: false,
    destroyed: false,
    writeHead(status: number, headers: object) {
      head = [status, headers];
      return res;
    },
    flushHeaders() {},
    write(s: string) {
      out.push(s);
      return true;
    },
    end() {
      res.writableEnded = true;
    },
  };
  return { res: res as unknown as ServerResponse, out, head: () => head };
}

test('SseWriter: data events, keep-alive comments while idle, [DONE]', async () => {
  const r = recorder();
  const sse = new SseWriter(r.res, 20);
  sse.open({ 'x-request-id': 'abc' });
  assert.equal(r.head()![0], 200);
  assert.match(String((r.head()![1] as Record<string, string>)['content-type']), /^text\/event-stream/);
  assert.equal((r.head()![1] as Record<string, string>)['x-request-id'], 'abc');
  // Two keep-alives while nothing is sent; polled, since a loaded host delays 20 ms timers a lot.
  const keepAlives = () => r.out.filter((s) => s === ': keep-alive\n\n').length;
  await waitUntil(() => keepAlives() >= 2, 5000).catch(() =>
    assert.fail(`expected 2 keep-alives, got ${keepAlives()}`),
  );
  assert.ok(
    r.out.every((s) => s === ': keep-alive\n\n'),
    'only keep-alives while idle',
  );
  sse.send({ a: 1 });
  sse.done();
  assert.deepEqual(r.out.slice(-2), ['data: {"a":1}\n\n', 'data: [DONE]\n\n']);
  const n = r.out.length;
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(r.out.length, n, 'nothing is written after the end');
});

test('vLLM prompt_logprobs: own token and top N per position, ranks exact where knowable, null otherwise', () => {
  const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
  const lp = new ModelTokenizers().logprobsOptions(card, 2);
  const top = [
    { tokenId: 10, logprob: -0.1 },
    { tokenId: 11, logprob: -2 },
    { tokenId: 12, logprob: -3 },
  ];
  const [first, inTop, between, below] = vllmPromptLogprobs(
    [null, { tokenId: 11, logprob: -2, top }, { tokenId: 20, logprob: -1, top }, { tokenId: 21, logprob: -5, top }],
    lp,
  );
  assert.equal(first, null);
  assert.deepEqual(Object.keys(inTop!).sort(), ['10', '11'], 'top 2 only; the own token is one of them');
  assert.deepEqual([inTop?.['10']?.rank, inTop?.['11']?.rank], [1, 2]);
  assert.equal(between?.['20']?.rank, 2, 'likelier than the last alternative shown: its rank is known');
  assert.equal(below?.['21']?.rank, null, 'less likely than every alternative shown: somewhere past them');
  assert.equal(below?.['10']?.decoded_token, lp.tokenText(10));
});
