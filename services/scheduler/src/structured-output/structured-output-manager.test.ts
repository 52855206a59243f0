import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { at } from '@loom/common';
import type { ModelCard, StructuredOutputSpec } from '@loom/common';
import { allowedTokens } from '@loom/structured-output';
import { SHARED_DIR, seededRandom } from '@loom/testing';
import { Tokenizer, tokenizerDataFromGguf } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import { StructuredOutputManager } from './structured-output-manager.js';

const tokenizer = tokenizerDataFromGguf(
  readGgufMetadata(path.join(SHARED_DIR, 'models', 'stories260K', 'stories260K-f32.gguf')),
);
const card: ModelCard = {
  modelId: 'stories',
  architecture: 'llama',
  contextLength: 512,
  vocabSize: 512,
  eosTokenIds: [tokenizer.eosTokenId!],
  tokenizer,
  createdAt: 1,
};
const tok = Tokenizer.fromData(tokenizer);
/** Output tokens for ` ${word}` (SentencePiece adds the space: what a model writes after a prompt). */
const spaced = (word: string) => tok.encode(word, { addSpecial: false });
const EOS = tokenizer.eosTokenId!;
const CHOICES = [' yes', ' no', ' maybe so'];
const choice: StructuredOutputSpec = { type: 'choice', choices: CHOICES };
const manager = new StructuredOutputManager(2);
after(() => manager.shutdown());

const allowed = (m: Uint8Array) =>
  allowedTokens(new Int32Array(m.buffer.slice(m.byteOffset, m.byteOffset + m.byteLength)), 512);

/** Generates under the manager like the step loop: fill, pick an allowed token, append, repeat. */
async function generate(seqId: string, seed: number, output: number[] = []): Promise<number[]> {
  const rand = seededRandom(seed);
  for (let step = 0; step < 50; step++) {
    const { masks, errors } = await manager.fill([{ seqId, output: Int32Array.from(output) }]);
    assert.deepEqual(errors, []);
    const ok = allowed(masks.get(seqId)!);
    const pick = at(ok, Math.floor(rand() * ok.length));
    output.push(pick);
    if (manager.endsGrammar(seqId, pick)) return output;
  }
  throw new Error('no end in 50 steps');
}

test('open, fill and advance: every generated output is one of the choices, ended by EOS', async () => {
  for (let seed = 0; seed < 8; seed++) {
    const seqId = `r${seed}#0`;
    const r = await manager.open(card, choice, [{ seqId, outputTokenIds: [] }]);
    assert.equal(r.error, null);
    const out = await generate(seqId, seed);
    assert.equal(out.at(-1), EOS);
    assert.ok(CHOICES.includes(tok.decode(out.slice(0, -1), { stripLeadingSpace: false })));
    manager.close(seqId);
    assert.equal(manager.has(seqId), false);
  }
});

test('the mask depends on the output alone: a diverged output (failover, resume) rebuilds the matcher', async () => {
  const yes = spaced('yes');
  const maybe = spaced('maybe');
  await manager.open(card, choice, [
    { seqId: 'a#0', outputTokenIds: [] },
    { seqId: 'b#0', outputTokenIds: maybe },
  ]);
  const first = await manager.fill([{ seqId: 'a#0', output: Int32Array.from(yes) }]);
  assert.deepEqual(allowed(first.masks.get('a#0')!), [EOS], "after ' yes' only EOS");
  // Re-admitted with another output (what a worker failover or a scheduler resume hands over).
  manager.admitted('a#0');
  const rebuilt = await manager.fill([
    { seqId: 'a#0', output: Int32Array.from(maybe) },
    { seqId: 'b#0', output: Int32Array.from(maybe) },
  ]);
  assert.deepEqual(allowed(rebuilt.masks.get('a#0')!), allowed(rebuilt.masks.get('b#0')!));
  assert.ok(!allowed(rebuilt.masks.get('a#0')!).includes(EOS), "' maybe' is not a whole choice yet");
  // And the rebuilt state goes on from there.
  const done = await generate('a#0', 3, [...maybe]);
  assert.equal(tok.decode(done.slice(0, -1), { stripLeadingSpace: false }), ' maybe so');
});

test('an output that left the grammar is an error for that sequence only', async () => {
  await manager.open(card, choice, [
    { seqId: 'c#0', outputTokenIds: [] },
    { seqId: 'c#1', outputTokenIds: [] },
  ]);
  const bad = spaced('zebra');
  const r = await manager.fill([
    { seqId: 'c#0', output: Int32Array.from(bad) },
    { seqId: 'c#1', output: new Int32Array(0) },
  ]);
  assert.equal(r.errors.length, 1);
  assert.equal(at(r.errors, 0).seqId, 'c#0');
  assert.match(at(r.errors, 0).message, /does not accept token/);
  assert.ok(allowed(r.masks.get('c#1')!).length > 0);
});

test('a resumed request replays its output at open; a grammar that cannot compile is an error', async () => {
  const maybe = spaced('maybe');
  const r = await manager.open(card, choice, [{ seqId: 'd#0', outputTokenIds: maybe }]);
  assert.equal(r.error, null);
  const out = await generate('d#0', 1, [...maybe]);
  assert.equal(tok.decode(out.slice(0, -1), { stripLeadingSpace: false }), ' maybe so');
  const bad = await manager.open(card, { type: 'grammar', grammar: 'root ::= "a" | ' }, [
    { seqId: 'e#0', outputTokenIds: [] },
  ]);
  assert.match(bad.error!, /EBNF parser error/);
  assert.equal(manager.has('e#0'), false);
  // That error replaced its thread's xgrammar instance; sequences there are rebuilt from their output.
  const again = await generate('d#0', 2, [...maybe]);
  assert.equal(again.at(-1), EOS);
});
