import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/api-error.js';
import { chatMessages, inputItems } from './response-items.js';

test('items become chat turns: reasoning, text and calls of one assistant turn join; outputs are tool messages', () => {
  const items = inputItems([
    { role: 'developer', content: 'Be terse.' },
    {
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: 'Weather' },
        { type: 'input_text', text: '?' },
      ],
    },
    { type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'a call' }] },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
    { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a": 1}' },
    { type: 'function_call', call_id: 'c2', name: 'g', arguments: '{}' },
    { type: 'function_call_output', call_id: 'c1', output: '1' },
    { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: '2' }] },
    { role: 'assistant', content: 'Done.' },
  ]);
  assert.ok(items.every((i) => i.id.length > 4));
  assert.deepEqual(chatMessages(items, 'Instructions.'), [
    { role: 'system', content: 'Instructions.' },
    { role: 'developer', content: 'Be terse.' },
    { role: 'user', content: 'Weather?' },
    {
      role: 'assistant',
      content: 'Checking.',
      reasoning_content: 'a call',
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a": 1}' } },
        { id: 'c2', type: 'function', function: { name: 'g', arguments: '{}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'c1', content: '1' },
    { role: 'tool', tool_call_id: 'c2', content: '2' },
    { role: 'assistant', content: 'Done.' },
  ]);
});

test('a string is one user message; bad items are a 400 naming the field under input[i]', () => {
  assert.deepEqual(chatMessages(inputItems('hi')), [{ role: 'user', content: 'hi' }]);
  const param = (input: Record<string, unknown>[]) => {
    try {
      inputItems(input);
    } catch (e) {
      assert.ok(e instanceof ApiError && e.status === 400);
      return e.param;
    }
    assert.fail('accepted');
  };
  assert.equal(
    param([
      { role: 'user', content: 'x' },
      { role: 'robot', content: 'x' },
    ]),
    'input[1].role',
  );
  assert.equal(param([{ type: 'function_call_output', output: 'x' }]), 'input[0].call_id');
  assert.equal(param([{ type: 'web_search_call' }]), 'input[0].type');
  assert.equal(param([{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }]), 'input[0].content[0].type');
});
