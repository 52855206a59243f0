import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenizerDataFromGguf, Tokenizer } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import { ChoiceOutput } from './choice-output.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tok = Tokenizer.fromData(
  tokenizerDataFromGguf(
    readGgufMetadata(path.join(repoRoot, '..', 'shared', 'models', 'stories260K', 'stories260K-f32.gguf')),
  ),
);
const prompt = tok.encode('Once upon a time');
// The output as the model would produce it: the tokens that follow the prompt in the whole text.
const whole = tok.encode('Once upon a time, there was a little girl named Lily. She loved to play');
assert.deepEqual(whole.slice(0, prompt.length), prompt);
const output = whole.slice(prompt.length);

function run(stops: string[], ids = output) {
  const c = new ChoiceOutput(0, tok, prompt, stops, true);
  const pieces: string[] = [];
  let stop: string | undefined;
  for (const id of ids) {
    const s = c.push([id]);
    pieces.push(s.event.text);
    if (s.stop !== undefined) {
      stop = s.stop;
      break;
    }
  }
  return { c, text: pieces.join(''), stop };
}

test('without stop strings, streamed pieces add up to the decoded output', () => {
  const { c, text } = run([]);
  assert.equal(text + c.flush(), ', there was a little girl named Lily. She loved to play');
  assert.equal(c.numTokens, output.length);
});

test('a stop string ends the choice and is never emitted, even split across tokens', () => {
  const { text, stop } = run(['Lily']);
  assert.equal(stop, 'Lily');
  assert.equal(text, ', there was a little girl named ');
});

test('text that could start a stop string is held back, then released at a non-stop finish', () => {
  const { c, text, stop } = run(['play outside']);
  assert.equal(stop, undefined);
  assert.ok(!text.endsWith('play'), 'the possible stop-string start is held back');
  assert.equal(text + c.flush(), ', there was a little girl named Lily. She loved to play');
});

test('replay after a failover continues without re-emitting text', () => {
  const half = Math.floor(output.length / 2);
  const first = run([], output.slice(0, half));
  const resumed = new ChoiceOutput(0, tok, prompt, [], true);
  resumed.replay(output.slice(0, half), first.text.length);
  let rest = '';
  for (const id of output.slice(half)) rest += resumed.push([id]).event.text;
  rest += resumed.flush();
  assert.equal(first.text + rest, ', there was a little girl named Lily. She loved to play');
  assert.equal(resumed.numTokens, output.length);
});

test('a stop token id counts as generated but its text is not output', () => {
  const c = new ChoiceOutput(0, tok, prompt, [], true);
  let text = '';
  for (const id of output.slice(0, -1)) text += c.push([id]).event.text;
  text += c.push([output.at(-1)!], undefined, true).event.text + c.flush();
  assert.equal(c.numTokens, output.length);
  assert.equal(
    text,
    tok.decode([...prompt, ...output.slice(0, -1)], { skipSpecial: true }).slice('Once upon a time'.length),
  );
});
