import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { StructuredOutputSpec } from '@loom/common';
import { seededRandom } from '@loom/testing';
import { Tokenizer } from '@loom/tokenizer';
import { SUPPORTED_FORMATS } from './check-json-schema.js';
import { choiceToEbnf, ebnfString, regexToEbnf } from './compile-spec.js';
import { GrammarCompilers } from './grammar-compilers.js';
import { randomWalk } from './testing/random-walk.js';
import { STORIES_GGUF, vocabCardFromGguf } from './testing/vocab-card.js';
import { loadXGrammar } from './xgrammar-module.js';

const card = vocabCardFromGguf(STORIES_GGUF);
const tok = Tokenizer.fromData(card.tokenizer);
const text = (ids: number[]) => tok.decode(ids, { stripLeadingSpace: false });
const ajv = new Ajv2020({ strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);

/** Random walks through `spec`'s grammar over the demo model's real vocabulary; returns the finished texts. */
async function walks(spec: StructuredOutputSpec, n: number, seed: number): Promise<string[]> {
  const compilers = new GrammarCompilers();
  compilers.addModel('stories', card);
  const compiled = await compilers.compile('stories', spec);
  const rand = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = await randomWalk(
      compilers.xgrammar,
      compiled,
      compilers.utf8Guard('stories'),
      card.eosTokenIds,
      (id) => tok.tokenToPiece(id),
      rand,
    );
    if (!w.terminated) continue;
    const t = text(w.tokens);
    assert.ok(!t.includes('\uFFFD'), `invalid UTF-8 in ${JSON.stringify(t)}`);
    out.push(t);
  }
  assert.ok(out.length >= n / 2, `only ${out.length} of ${n} walks finished`);
  return out;
}

const schemas: Record<string, object> = {
  person: {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 12 },
      age: { type: 'integer', minimum: 0, maximum: 120 },
      pet: { enum: ['cat', 'dog', 'bird'] },
      tags: { type: 'array', items: { type: 'string', maxLength: 5 }, maxItems: 3 },
      nick: { anyOf: [{ type: 'string', maxLength: 4 }, { type: 'null' }] },
    },
    required: ['name', 'age', 'pet'],
    additionalProperties: false,
  },
  nested: {
    $defs: {
      point: { type: 'object', properties: { x: { type: 'integer' }, y: { type: 'integer' } }, required: ['x', 'y'] },
    },
    type: 'object',
    properties: { from: { $ref: '#/$defs/point' }, to: { $ref: '#/$defs/point' }, ok: { type: 'boolean' } },
    required: ['from', 'to', 'ok'],
  },
  // Long unconstrained-ish strings: where raw control characters and invalid UTF-8 byte runs showed up.
  longString: { type: 'object', properties: { s: { type: 'string', maxLength: 60 } }, required: ['s'] },
  tuple: { type: 'array', prefixItems: [{ type: 'integer' }, { const: 'x' }], items: false },
  code: {
    type: 'object',
    properties: { id: { type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' }, day: { type: 'string', format: 'date' } },
    required: ['id', 'day'],
  },
};

for (const [name, schema] of Object.entries(schemas)) {
  for (const strict of [true, false]) {
    test(`json_schema '${name}' (strict ${strict}): every finished random walk parses and validates`, async () => {
      const texts = await walks(
        { type: 'json_schema', schema: JSON.stringify(schema), strict },
        16,
        name.length * 7 + Number(strict),
      );
      const validate = ajv.compile(schema);
      for (const t of texts) assert.ok(validate(JSON.parse(t)), `${t}: ${JSON.stringify(validate.errors)}`);
    });
  }
}

test('every supported string format: each finished walk validates with ajv-formats (full mode)', async () => {
  for (const format of SUPPORTED_FORMATS) {
    const schema = { type: 'object', properties: { v: { type: 'string', format } }, required: ['v'] };
    const validate = ajv.compile(schema);
    for (const t of await walks(
      { type: 'json_schema', schema: JSON.stringify(schema), strict: true },
      40,
      format.length,
    ))
      assert.ok(validate(JSON.parse(t)), `${format}: ${t} ${JSON.stringify(validate.errors)}`);
  }
});

test('json_object: any JSON object; one line by default, any whitespace when asked', async () => {
  for (const anyWhitespace of [false, true]) {
    for (const t of await walks({ type: 'json_object', anyWhitespace }, 12, 3)) {
      const v = JSON.parse(t) as unknown;
      assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), t);
      // JSON strings cannot hold a raw newline: one outside them is layout, which the default has none of.
      if (!anyWhitespace) assert.ok(!/[\n\t]/.test(t), `one line: ${JSON.stringify(t)}`);
    }
  }
});

test('regex: every walk fully matches the pattern', async () => {
  const pattern = '(cat|dog)s? [0-9]{2,3}!';
  for (const t of await walks({ type: 'regex', pattern }, 12, 5)) assert.match(t, new RegExp(`^(?:${pattern})$`));
});

test('choice: every walk is one of the choices, quotes and newlines included', async () => {
  const choices = ['yes', 'no', 'say "hi"\n', 'back\\slash'];
  for (const t of await walks({ type: 'choice', choices }, 12, 9)) assert.ok(choices.includes(t), JSON.stringify(t));
});

test('grammar: an EBNF grammar (llama.cpp GBNF style) constrains the walk', async () => {
  const grammar = 'root ::= expr\nexpr ::= term ([-+] term)*\nterm ::= [0-9]{1,3}\n';
  for (const t of await walks({ type: 'grammar', grammar }, 12, 11)) assert.match(t, /^[0-9]{1,3}([-+][0-9]{1,3})*$/);
});

test("regexToEbnf reads xgrammar's own regex conversion (pinned shape)", async () => {
  const xg = loadXGrammar();
  assert.equal(await regexToEbnf(xg, '\\d{3}-\\d{4}'), 'root ::= [0-9]{3} "-" [0-9]{4}\n');
  assert.equal(await regexToEbnf(xg, '^(cat|dog)s?$'), 'root ::= ( "c" "a" "t" | "d" "o" "g" ) "s"?\n');
});

test('choices become escaped EBNF string literals', () => {
  assert.equal(ebnfString('a"b\\c\n\t\x01'), '"a\\"b\\\\c\\n\\t\\x01"');
  assert.equal(choiceToEbnf(['x', '']), 'root ::= "x" | ""\n');
});
