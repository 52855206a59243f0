/**
 * A grammar thread: one xgrammar instance, its compiled grammars (LRU, COMPILED_CACHE entries) and one
 * matcher per constrained sequence, with that sequence's UTF-8 state. Compiles run here, off the
 * scheduler's event loop; a compile blocks only this thread's fills. Served in order, one at a time.
 */
import { parentPort } from 'node:worker_threads';
import { at } from '@loom/common';
import { GrammarCompilers, Utf8Guard, type XG } from '@loom/structured-output';
import type { GrammarReply, GrammarRequest, MatcherInit, SeqError } from './grammar-protocol.js';

/** Compiled grammars kept per thread; matchers outlive their grammar's eviction (xgrammar refcounts it). */
const COMPILED_CACHE = 256;

interface Seq {
  matcher: XG.GrammarMatcher;
  vocabKey: string;
  utf8: number;
  stopIds: readonly number[];
}

const compilers = new GrammarCompilers();
const compiled = new Map<string, XG.CompiledGrammar>();
const seqs = new Map<string, Seq>();
const port = parentPort!;
/** Generation of `compilers` the maps above belong to; a replaced instance empties them. */
let generation = compilers.generation;
const stopIdsByVocab = new Map<string, number[]>();

function checkLost(): boolean {
  if (compilers.generation === generation) return false;
  generation = compilers.generation;
  compiled.clear();
  seqs.clear();
  return true;
}

async function grammarFor(init: MatcherInit, compileMs: number[]): Promise<XG.CompiledGrammar> {
  const key = `${init.vocabKey}\n${init.specKey}`;
  let g = compiled.get(key);
  if (g) {
    compiled.delete(key);
    compiled.set(key, g);
    return g;
  }
  const t0 = performance.now();
  g = await compilers.compile(init.vocabKey, init.spec);
  compileMs.push(performance.now() - t0);
  compiled.set(key, g);
  if (compiled.size > COMPILED_CACHE) {
    const [oldest, old] = compiled.entries().next().value!;
    compiled.delete(oldest);
    old.dispose();
  }
  return g;
}

/** A fresh matcher for `init`, its tokens replayed; throws if the grammar refuses one of them. */
async function open(init: MatcherInit, compileMs: number[]): Promise<void> {
  seqs.get(init.seqId)?.matcher.dispose();
  seqs.delete(init.seqId);
  const grammar = await grammarFor(init, compileMs);
  const matcher = await compilers.xgrammar.GrammarMatcher.createGrammarMatcher(grammar);
  const seq: Seq = {
    matcher,
    vocabKey: init.vocabKey,
    utf8: Utf8Guard.START,
    stopIds: stopIdsByVocab.get(init.vocabKey)!,
  };
  seqs.set(init.seqId, seq);
  advance(init.seqId, seq, init.tokens);
}

function advance(seqId: string, seq: Seq, tokens: readonly number[]): void {
  const utf8 = compilers.utf8Guard(seq.vocabKey);
  for (const t of tokens) {
    if (!seq.matcher.acceptToken(t))
      throw new Error(`the grammar does not accept token ${t} of sequence ${seqId} (the output left the grammar)`);
    seq.utf8 = utf8.advance(seq.utf8, t);
  }
}

async function serve(m: GrammarRequest): Promise<GrammarReply | undefined> {
  switch (m.op) {
    case 'model':
      compilers.addModel(m.vocabKey, m.card);
      stopIdsByVocab.set(m.vocabKey, [...m.card.eosTokenIds]);
      return undefined;
    case 'close':
      for (const id of m.seqIds) {
        seqs.get(id)?.matcher.dispose();
        seqs.delete(id);
      }
      return undefined;
    case 'open': {
      const errors: SeqError[] = [];
      const compileMs: number[] = [];
      let lost = false;
      for (const init of m.seqs) {
        try {
          await open(init, compileMs);
        } catch (err) {
          errors.push({ seqId: init.seqId, message: (err as Error).message });
        }
        lost = checkLost() || lost;
      }
      return { op: 'open', id: m.id, errors, compileMs, lost };
    }
    case 'fill': {
      const errors: SeqError[] = [];
      const failed = new Set<string>();
      let lost = false;
      for (const init of m.init) {
        try {
          await open(init, []);
        } catch (err) {
          errors.push({ seqId: init.seqId, message: (err as Error).message });
          failed.add(init.seqId);
        }
        lost = checkLost() || lost;
      }
      for (const a of m.advance) {
        const seq = seqs.get(a.seqId);
        if (!seq || failed.has(a.seqId)) continue;
        try {
          advance(a.seqId, seq, a.tokens);
        } catch (err) {
          errors.push({ seqId: a.seqId, message: (err as Error).message });
          failed.add(a.seqId);
        }
      }
      const words = m.words;
      const out = new Int32Array(m.seqIds.length * words);
      for (let i = 0; i < m.seqIds.length; i++) {
        const id = at(m.seqIds, i);
        const row = out.subarray(i * words, (i + 1) * words);
        const seq = seqs.get(id);
        if (!seq || failed.has(id)) {
          if (!failed.has(id)) errors.push({ seqId: id, message: `no grammar state for sequence ${id}` });
          row.fill(-1);
          continue;
        }
        if (seq.matcher.isTerminated()) {
          // Past the end of its grammar (the stop token was accepted): only a stop token may follow.
          for (const s of seq.stopIds) {
            const word = row[s >>> 5]; // undefined: a stop id past this vocabulary's mask, no token of it
            if (word !== undefined) row[s >>> 5] = word | (1 << (s & 31));
          }
          continue;
        }
        compilers.xgrammar.nextTokenBitmaskInto(seq.matcher, row);
        compilers.utf8Guard(seq.vocabKey).apply(seq.utf8, row);
      }
      return { op: 'fill', id: m.id, words: out.buffer, errors, lost };
    }
  }
}

let chain: Promise<void> = Promise.resolve();
port.on('message', (m: GrammarRequest) => {
  chain = chain.then(async () => {
    const reply = await serve(m);
    if (reply?.op === 'fill') port.postMessage(reply, [reply.words]);
    else if (reply) port.postMessage(reply);
  });
});
