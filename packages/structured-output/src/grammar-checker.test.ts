import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { GrammarChecker, MAX_QUEUED } from './grammar-checker.js';
import { STORIES_GGUF, vocabCardFromGguf } from './testing/vocab-card.js';

const card = vocabCardFromGguf(STORIES_GGUF);
const checker = new GrammarChecker();
after(() => checker.close());

test('a good spec compiles in the checker thread once; the second time it is known good', async () => {
  const spec = {
    type: 'json_schema' as const,
    schema: '{"type":"object","properties":{"a":{"type":"integer"}}}',
    strict: true,
  };
  const first = await checker.check('stories@1', card, spec);
  assert.ok(first.ok && first.compileMs > 0, JSON.stringify(first));
  assert.deepEqual(await checker.check('stories@1', card, spec), { ok: true, compileMs: 0 });
});

test("xgrammar's own message comes back for what it rejects, and the checker keeps working after", async () => {
  const bad = await checker.check('stories@1', card, { type: 'json_schema', schema: '{"type":"foo"}', strict: true });
  assert.deepEqual(bad, { ok: false, message: 'Unsupported type "foo"' });
  const ebnf = await checker.check('stories@1', card, { type: 'grammar', grammar: 'root ::= "a" | ' });
  assert.ok(!ebnf.ok && /EBNF parser error at line 1/.test(ebnf.message), JSON.stringify(ebnf));
  const noRoot = await checker.check('stories@1', card, { type: 'grammar', grammar: 'main ::= "a"' });
  assert.ok(!noRoot.ok && /root rule/.test(noRoot.message), JSON.stringify(noRoot));
  // Many errors in a row: each replaces the thread's xgrammar instance, so none wears it out.
  for (let i = 0; i < 30; i++)
    assert.equal((await checker.check('stories@1', card, { type: 'regex', pattern: `(a${i}` })).ok, false);
  const ok = await checker.check('stories@1', card, { type: 'choice', choices: ['x', 'y'] });
  assert.ok(ok.ok, JSON.stringify(ok));
});

test('a compile past the time limit is stopped and refused; checks queued behind it still run', async () => {
  const slow = new GrammarChecker(1);
  try {
    const spec = { type: 'grammar' as const, grammar: 'root ::= "a"{1,100}' };
    const results = await Promise.all([
      slow.check('s@1', card, spec),
      slow.check('s@1', card, { type: 'json_object' }),
    ]);
    for (const r of results) assert.ok(!r.ok && /did not compile within 0.001 s/.test(r.message), JSON.stringify(r));
  } finally {
    await slow.close();
  }
});

test('past MAX_QUEUED waiting checks a new one is refused as busy, not queued', async () => {
  const c = new GrammarChecker();
  try {
    const waiting = Array.from({ length: MAX_QUEUED + 1 }, (_, i) =>
      c.check('s@1', card, { type: 'choice', choices: [`c${i}`] }),
    );
    const refused = await c.check('s@1', card, { type: 'choice', choices: ['late'] });
    assert.ok(!refused.ok && refused.busy, JSON.stringify(refused));
    assert.ok((await Promise.all(waiting)).every((r) => r.ok));
  } finally {
    await c.close();
  }
});
