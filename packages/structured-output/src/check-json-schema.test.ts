import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkJsonSchema } from './check-json-schema.js';
import { jsonUnsafePatternReason } from './json-safe-pattern.js';
import { structuredOutputProblem } from './spec-problem.js';

test('schemas xgrammar enforces pass', () => {
  for (const s of [
    true,
    {},
    {
      type: 'object',
      properties: { a: { type: 'integer', minimum: 1 }, b: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
    },
    { $defs: { x: { type: 'string', format: 'date-time' } }, type: 'array', items: { $ref: '#/$defs/x' }, maxItems: 3 },
    { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' },
    { allOf: [{ type: 'string' }] },
  ])
    assert.equal(checkJsonSchema(s), null, JSON.stringify(s));
});

test('what xgrammar would ignore or get wrong is refused, with where', () => {
  const cases: [unknown, string, RegExp][] = [
    [{ type: 'object', properties: { a: { oneOf: [{ type: 'integer' }] } } }, '/properties/a/oneOf', /oneOf/],
    [{ not: { type: 'string' } }, '/not', /not/],
    [{ type: 'array', uniqueItems: true }, '/uniqueItems', /uniqueItems/],
    [{ type: 'integer', multipleOf: 3 }, '/multipleOf', /multipleOf/],
    [{ allOf: [{ type: 'string' }, { maxLength: 3 }] }, '/allOf', /allOf/],
    [{ type: 'string', format: 'bogus' }, '/format', /bogus/],
    [{ type: 'string', pattern: 'a+', maxLength: 3 }, '', /minLength/],
    [{ type: 'string', pattern: 'a+', format: 'date' }, '', /'pattern' together with 'format'/],
    [{ type: 'number', minimum: 0.5 }, '/minimum', /integers only/],
    [{ $ref: 'https://example.com/s.json' }, '/$ref', /local/],
    [{ type: 'array', items: [{ type: 'string' }] }, '/items', /prefixItems/],
    [{ type: 'string', pattern: 'a.c' }, '/pattern', /'\.'/],
    [{ properties: { x: 3 } }, '/properties/x', /not a schema/],
    [{ properties: { 'a/b': { if: {} } } }, '/properties/a~1b/if', /if/],
  ];
  for (const [schema, pointer, message] of cases) {
    const p = checkJsonSchema(schema);
    assert.ok(p, JSON.stringify(schema));
    assert.equal(p.pointer, pointer, JSON.stringify(schema));
    assert.match(p.message, message);
  }
  let deep: unknown = { type: 'string' };
  for (let i = 0; i < 70; i++) deep = { type: 'array', items: deep };
  assert.match(checkJsonSchema(deep)!.message, /deeper than 64/);
});

test('patterns that could need JSON escapes are refused; spelled-out ones pass', () => {
  for (const ok of [
    '^[A-Z]{3}-\\d{4}$',
    '[a-z_]+',
    '(cat|dog)s?',
    '\\w+@\\w+\\.com',
    '[-a]',
    '[a-]',
    '[!#-\\[\\]-~]+',
    '\\u00e9+',
  ])
    assert.equal(jsonUnsafePatternReason(ok), null, ok);
  for (const bad of [
    '.*',
    '[^x]',
    '\\s',
    '\\S+',
    '"',
    '\\\\',
    '[ -~]',
    '[!#-~]',
    '[\\x00-z]',
    '\\n',
    'a\\',
    '[abc',
    '\\x2',
  ])
    assert.ok(jsonUnsafePatternReason(bad), bad);
});

test('size limits are checked before anything compiles', () => {
  assert.match(structuredOutputProblem({ type: 'choice', choices: [] })!, /no choices/);
  assert.match(structuredOutputProblem({ type: 'choice', choices: new Array(1025).fill('a') })!, /1025 choices/);
  assert.match(structuredOutputProblem({ type: 'regex', pattern: 'a'.repeat(5000) })!, /at most 4096/);
  assert.match(structuredOutputProblem({ type: 'grammar', grammar: '  ' })!, /empty/);
  assert.match(structuredOutputProblem({ type: 'json_schema', schema: '{', strict: true })!, /not valid JSON/);
  assert.match(
    structuredOutputProblem({ type: 'json_schema', schema: JSON.stringify({ a: 'x'.repeat(70000) }), strict: true })!,
    /at most 65536/,
  );
  assert.equal(structuredOutputProblem({ type: 'json_object' }), null);
});
