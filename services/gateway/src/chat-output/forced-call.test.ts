import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Ajv as AjvClass, Options as AjvOptions } from 'ajv';
import { everyCharacter, parseInPieces } from '../testing/parse-in-pieces.js';
import { forcedCallParser, forcedCallSchema, type ForcedTool } from './forced-call.js';
import { at } from '@loom/common';

const Ajv = createRequire(import.meta.url)('ajv') as new (o: AjvOptions) => AjvClass;
const ajv = new Ajv({ strict: false });

const TOOLS: ForcedTool[] = [
  {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
  { name: 'get_time', parameters: { type: 'object', properties: {} } },
];

test('required: a list of calls to listed tools with their parameters; one without parallel calls', () => {
  const valid = ajv.compile(forcedCallSchema(TOOLS, { kind: 'required' }, true));
  assert.ok(valid([{ name: 'get_weather', parameters: { city: 'Paris' } }]));
  assert.ok(
    valid([
      { name: 'get_weather', parameters: { city: 'Paris' } },
      { name: 'get_time', parameters: {} },
    ]),
  );
  assert.ok(!valid([]), 'at least one call');
  assert.ok(!valid([{ name: 'get_stock', parameters: {} }]), 'only listed tools');
  assert.ok(!valid([{ name: 'get_weather', parameters: {} }]), "with that tool's parameters");
  assert.ok(!valid([{ name: 'get_time' }]), 'parameters required');
  const single = ajv.compile(forcedCallSchema(TOOLS, { kind: 'required' }, false));
  assert.ok(single([{ name: 'get_time', parameters: {} }]));
  assert.ok(
    !single([
      { name: 'get_time', parameters: {} },
      { name: 'get_time', parameters: {} },
    ]),
  );
  assert.deepEqual(forcedCallSchema(TOOLS, { kind: 'named', name: 'get_weather' }, true), at(TOOLS, 0).parameters);
});

test('forced outputs parse into calls, whole and one character at a time', () => {
  const cases: [Parameters<typeof forcedCallParser>[0], string, { name: string; arguments: string }[]][] = [
    [
      { kind: 'named', name: 'get_weather' },
      ' {"city": "Paris"}',
      [{ name: 'get_weather', arguments: '{"city": "Paris"}' }],
    ],
    [
      { kind: 'required' },
      '[{"name": "get_weather", "parameters": {"city": "Paris"}}, {"name": "get_time", "parameters": {}}]',
      [
        { name: 'get_weather', arguments: '{"city": "Paris"}' },
        { name: 'get_time', arguments: '{}' },
      ],
    ],
  ];
  for (const [mode, text, calls] of cases) {
    const whole = parseInPieces(() => forcedCallParser(mode), text).message;
    assert.deepEqual(whole, { content: '', reasoning: '', toolCalls: calls });
    assert.deepEqual(parseInPieces(() => forcedCallParser(mode), text, everyCharacter(text.length)).message, whole);
  }
});
