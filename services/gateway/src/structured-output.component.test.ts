import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { configFromEnv } from '@loom/common';
import { startGateway, type RunningGateway } from './gateway.js';
import { FakeBackend, scriptedText } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { openAiSchemaValidator } from './testing/openai-schema.js';
import { OPENAI_SPEC, STORIES_GGUF } from './testing/spec-path.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');

describe('structured outputs at the gateway (FakeBackend)', () => {
  const backend = new FakeBackend([card]);
  let gw: RunningGateway;
  const post = (path: string, body: unknown) =>
    fetch(gw.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const chat = (extra: object) =>
    post('/v1/chat/completions', { model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], ...extra });

  before(async () => {
    gw = await startGateway(configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent' }), { backend });
  });
  after(() => gw.close());

  /** A 400 in OpenAI's error shape naming `param`, its message matching `message`; nothing was queued. */
  async function refused(res: Response, param: string, message: RegExp): Promise<void> {
    const before = backend.submitted.length;
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { param: string; message: string } };
    assert.deepEqual(validate('ErrorResponse', body), []);
    assert.equal(body.error.param, param);
    assert.match(body.error.message, message);
    assert.equal(backend.submitted.length, before);
  }

  test('a checked constraint travels in the job as its normalised spec', async () => {
    backend.script = scriptedText(['{"a": 1}'], 'stop');
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] };
    const res = await chat({
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(validate('CreateChatCompletionResponse', await res.json()), []);
    assert.deepEqual(backend.submitted.at(-1)!.sampling.structuredOutput, {
      type: 'json_schema',
      schema: JSON.stringify(schema),
      strict: true,
    });
    const c = await post('/v1/completions', { model: 'stories260K', prompt: 'x', guided_choice: ['a', 'b'] });
    assert.equal(c.status, 200);
    assert.deepEqual(backend.submitted.at(-1)!.sampling.structuredOutput, { type: 'choice', choices: ['a', 'b'] });
    await post('/v1/completions', { model: 'stories260K', prompt: 'x' });
    assert.equal(backend.submitted.at(-1)!.sampling.structuredOutput, undefined);
  });

  test("a schema xgrammar rejects is a 400 naming response_format, with xgrammar's reason", async () => {
    await refused(
      await chat({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'foo' } } } }),
      'response_format',
      /Unsupported type "foo"/,
    );
    await refused(
      await post('/v1/completions', { model: 'stories260K', prompt: 'x', guided_grammar: 'root ::= "a" | ' }),
      'guided_grammar',
      /EBNF parser error/,
    );
    await refused(await chat({ guided_regex: '(ab' }), 'guided_regex', /./);
    await refused(
      await chat({
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { $ref: '#/$defs/nope' } } },
      }),
      'response_format',
      /defs/,
    );
  });
});
