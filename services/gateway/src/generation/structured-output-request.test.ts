import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatRequestSchema } from '../chat/chat-request.js';
import { completionRequestSchema } from '../completions/completion-request.js';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { structuredOutputOf } from './structured-output-request.js';

const chat = (extra: object) =>
  structuredOutputOf(
    parseOrThrow(chatRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra }),
  );
const completion = (extra: object) =>
  structuredOutputOf(parseOrThrow(completionRequestSchema, { model: 'm', prompt: 'x', ...extra }));

function rejects(fn: () => unknown, param: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.param, param);
    assert.match(e.message, message);
    return true;
  });
}

const schema = { type: 'object', properties: { a: { type: 'integer' } } };

test('every way of asking, on both endpoints, becomes one spec naming its parameter', () => {
  for (const parse of [chat, completion]) {
    assert.equal(parse({}), undefined);
    assert.equal(parse({ response_format: { type: 'text' } }), undefined);
    assert.deepEqual(parse({ response_format: { type: 'json_object' } }), {
      spec: { type: 'json_object' },
      param: 'response_format',
    });
    assert.deepEqual(
      parse({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } } }),
      {
        spec: { type: 'json_schema', schema: JSON.stringify(schema), strict: true },
        param: 'response_format',
      },
    );
    assert.deepEqual(parse({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } })!.spec, {
      type: 'json_schema',
      schema: JSON.stringify(schema),
      strict: false,
    });
    assert.deepEqual(parse({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } })!.spec, {
      type: 'json_object',
    });
    assert.deepEqual(parse({ guided_json: JSON.stringify(schema) }), {
      spec: { type: 'json_schema', schema: JSON.stringify(schema), strict: true },
      param: 'guided_json',
    });
    assert.deepEqual(parse({ guided_json: schema })!.spec, {
      type: 'json_schema',
      schema: JSON.stringify(schema),
      strict: true,
    });
    assert.deepEqual(parse({ guided_regex: '\\d+' }), {
      spec: { type: 'regex', pattern: '\\d+' },
      param: 'guided_regex',
    });
    assert.deepEqual(parse({ guided_choice: ['a', 'b'] })!.spec, { type: 'choice', choices: ['a', 'b'] });
    assert.deepEqual(parse({ guided_grammar: 'root ::= "a"' })!.spec, { type: 'grammar', grammar: 'root ::= "a"' });
    assert.deepEqual(parse({ structured_outputs: { json: schema } })!.param, 'structured_outputs.json');
    assert.deepEqual(parse({ structured_outputs: { regex: 'a' } })!.spec, { type: 'regex', pattern: 'a' });
    assert.deepEqual(parse({ structured_outputs: { choice: ['x'] } })!.spec, { type: 'choice', choices: ['x'] });
    assert.deepEqual(parse({ structured_outputs: { grammar: 'root ::= "a"' } })!.param, 'structured_outputs.grammar');
    assert.deepEqual(parse({ structured_outputs: { json_object: true } })!.spec, { type: 'json_object' });
    assert.equal(parse({ structured_outputs: { json_object: false } }), undefined);
    assert.deepEqual(parse({ guided_choice: ['a'], guided_decoding_backend: 'xgrammar' })!.param, 'guided_choice');
    assert.deepEqual(parse({ guided_json: schema, structured_outputs: { disable_any_whitespace: false } })!.spec, {
      type: 'json_schema',
      schema: JSON.stringify(schema),
      strict: true,
      anyWhitespace: true,
    });
    assert.deepEqual(parse({ structured_outputs: { json_object: true, disable_any_whitespace: true } })!.spec, {
      type: 'json_object',
    });
  }
});

test('two kinds at once, bad JSON, limits and unsupported options are 400s naming the parameter', () => {
  rejects(() => chat({ response_format: { type: 'json_object' }, guided_regex: 'a' }), 'guided_regex', /Only one kind/);
  rejects(() => completion({ guided_json: '{"type":', guided_choice: ['a'] }), 'guided_json', /not valid JSON/);
  rejects(() => chat({ guided_json: '{"type":' }), 'guided_json', /not valid JSON/);
  rejects(() => chat({ guided_choice: [] }), 'guided_choice', /no choices/);
  rejects(() => chat({ structured_outputs: { regex: 'a'.repeat(5000) } }), 'structured_outputs.regex', /at most 4096/);
  rejects(
    () =>
      chat({
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'x', schema: { type: 'integer', multipleOf: 2 } },
        },
      }),
    'response_format',
    /multipleOf/,
  );
  rejects(
    () =>
      chat({
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'number', maximum: 1.5 } } },
      }),
    'response_format',
    /integers only/,
  );
  rejects(
    () => chat({ response_format: { type: 'structural_tag', structures: [] } }),
    'response_format',
    /structural_tag/,
  );
  rejects(() => chat({ guided_whitespace_pattern: ' ' }), 'guided_whitespace_pattern', /not supported/);
  rejects(
    () => chat({ guided_regex: 'a', guided_decoding_backend: 'outlines' }),
    'guided_decoding_backend',
    /xgrammar/,
  );
  rejects(() => chat({ response_format: { type: 'yaml' } }), 'response_format.type', /./);
  rejects(
    () => chat({ response_format: { type: 'json_schema', json_schema: { schema } } }),
    'response_format.json_schema.name',
    /./,
  );
});
