import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tokenizer } from '@loom/tokenizer';
import { assertValid } from './testing/assert-valid.js';
import { echoNullsFilled } from './testing/echo-nulls-filled.js';
import { FakeBackend } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { STORIES_GGUF } from './testing/spec-path.js';
import { parseSse } from './testing/sse-parse.js';
import { useFakeGateway } from './testing/use-fake-gateway.js';

const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');

/** Response bodies are checked against the spec, then read freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();

/** Logprobs through the gateway: what the job asks for, and how the backend's numbers come back, streamed and not. */
describe('gateway logprobs against a FakeBackend', () => {
  const backend = new FakeBackend([card]);
  const gw = useFakeGateway({ backend, keepAliveMs: 40, bodyLimit: 64 * 1024 });
  const { post } = gw;

  test('logprobs: requested top-N reaches the job; token texts, alternatives and offsets come back', async () => {
    const tok = Tokenizer.fromData(card.tokenizer);
    const [a, b] = tok.encode(' Once upon', { addSpecial: false });
    backend.script = (job) => [
      {
        event: {
          type: 'token',
          index: 0,
          tokenIds: [a!],
          text: tok.tokenToPiece(a!),
          logprobs: [
            {
              tokenId: a!,
              logprob: -0.5,
              top: [
                { tokenId: a!, logprob: -0.5 },
                { tokenId: b!, logprob: -1.5 },
                { tokenId: 5, logprob: -9 },
              ],
            },
          ],
        },
      },
      {
        event: {
          type: 'token',
          index: 0,
          tokenIds: [b!],
          text: tok.tokenToPiece(b!),
          logprobs: [{ tokenId: b!, logprob: -0.25, top: [{ tokenId: b!, logprob: -0.25 }] }],
        },
      },
      {
        event: {
          type: 'finish',
          index: 0,
          finishReason: 'stop',
          promptTokens: job.promptTokenIds.length,
          completionTokens: 2,
        },
      },
    ];
    const res = await post('/v1/completions', { model: 'stories260K', prompt: 'x', logprobs: 2 });
    const body = await json(res);
    assertValid('CreateCompletionResponse', body);
    assert.equal(backend.submitted.at(-1)!.sampling.logprobs, 2);
    const lp = body.choices[0].logprobs;
    assert.deepEqual(lp.tokens, [tok.tokenToPiece(a!), tok.tokenToPiece(b!)]);
    assert.deepEqual(lp.token_logprobs, [-0.5, -0.25]);
    assert.equal(Object.keys(lp.top_logprobs[0]).length, 2, 'only the top 2 alternatives');
    assert.deepEqual(lp.text_offset, [0, tok.tokenToPiece(a!).length]);

    const chat = await post('/v1/chat/completions', {
      model: 'stories260K',
      messages: [{ role: 'user', content: 'hi' }],
      logprobs: true,
      top_logprobs: 1,
    });
    const cbody = await json(chat);
    assertValid('CreateChatCompletionResponse', cbody);
    assert.equal(backend.submitted.at(-1)!.sampling.logprobs, 1);
    const content = cbody.choices[0].logprobs.content;
    assert.deepEqual(
      content.map((c: { token: string }) => c.token),
      [tok.tokenToPiece(a!), tok.tokenToPiece(b!)],
    );
    assert.deepEqual(content[0].bytes, [...tok.tokenBytes(a!)]);
    assert.equal(content[0].top_logprobs.length, 1);

    const s = await post('/v1/chat/completions', {
      model: 'stories260K',
      messages: [{ role: 'user', content: 'hi' }],
      logprobs: true,
      stream: true,
    });
    const chunks = parseSse(await s.text())
      .data.slice(0, -1)
      .map((d) => JSON.parse(d));
    for (const c of chunks) assertValid('CreateChatCompletionStreamResponse', c);
    const streamed = chunks.flatMap((c) => c.choices[0].logprobs?.content ?? []);
    assert.deepEqual(
      streamed.map((c: { logprob: number }) => c.logprob),
      [-0.5, -0.25],
    );
    assert.deepEqual(streamed[0].top_logprobs, [], 'top_logprobs defaults to 0 alternatives');

    const noLp = await post('/v1/chat/completions', {
      model: 'stories260K',
      messages: [{ role: 'user', content: 'hi' }],
      top_logprobs: 2,
    });
    assert.equal(noLp.status, 400);
    assert.equal((await json(noLp)).error.param, 'top_logprobs');
  });

  test('echo + logprobs: prompt logprobs asked in the job; the prompt_logprobs event leads the logprobs, streaming and not', async () => {
    const tok = Tokenizer.fromData(card.tokenizer);
    const a = tok.encode('Once upon', { addSpecial: false }).at(-1);
    backend.script = (job) => [
      {
        event: {
          type: 'prompt_logprobs',
          index: 0,
          logprobs: job.promptTokenIds.map((id, i) =>
            i === 0 ? null : { tokenId: id, logprob: -i, top: [{ tokenId: id, logprob: -i }] },
          ),
        },
      },
      {
        event: {
          type: 'token',
          index: 0,
          tokenIds: [a!],
          text: tok.tokenToPiece(a!),
          logprobs: [{ tokenId: a!, logprob: -0.5, top: [] }],
        },
      },
      {
        event: {
          type: 'finish',
          index: 0,
          finishReason: 'length',
          promptTokens: job.promptTokenIds.length,
          completionTokens: 1,
        },
      },
    ];
    const req = { model: 'stories260K', prompt: 'Once', max_tokens: 1, echo: true, logprobs: 1 };
    const body = await json(await post('/v1/completions', req));
    assertValid('CreateCompletionResponse', echoNullsFilled(body));
    const job = backend.submitted.at(-1)!;
    assert.equal(job.sampling.promptLogprobs, 1);
    assert.equal(body.choices[0].text, 'Once' + tok.tokenToPiece(a!));
    const lp = body.choices[0].logprobs;
    assert.deepEqual(
      lp.tokens,
      [...job.promptTokenIds, a!].map((id) => tok.tokenToPiece(id)),
    );
    assert.deepEqual(lp.token_logprobs, [null, ...job.promptTokenIds.slice(1).map((_, i) => -(i + 1)), -0.5]);
    assert.equal(lp.top_logprobs[0], null);
    assert.deepEqual(lp.text_offset, [0, 0, 'Once'.length]);

    const chunks = parseSse(await (await post('/v1/completions', { ...req, stream: true })).text())
      .data.slice(0, -1)
      .map((d) => JSON.parse(d));
    assert.deepEqual(
      chunks.map((c) => c.choices[0].text),
      ['Once', tok.tokenToPiece(a!), ''],
    );
    assert.deepEqual(
      chunks.flatMap((c) => c.choices[0].logprobs?.token_logprobs ?? []),
      lp.token_logprobs,
    );
    assert.deepEqual(
      chunks.flatMap((c) => c.choices[0].logprobs?.text_offset ?? []),
      lp.text_offset,
    );

    // Without echo the prompt is not scored, whatever logprobs says.
    await json(await post('/v1/completions', { ...req, echo: false }));
    assert.equal(backend.submitted.at(-1)!.sampling.promptLogprobs, null);
  });
});
