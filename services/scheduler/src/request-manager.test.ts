import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SAMPLING, type OutputEvent, type RequestJob, at } from '@loom/common';
import { tokenizerDataFromGguf, Tokenizer } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import type { OutputLog, StreamedSoFar } from './output-log.js';
import { RequestManager } from './request-manager.js';
import { seqIdOf } from './seq-spec.js';

/** A scored prompt token as a worker reports it. */
const tok = (tokenId: number, logprob = -tokenId / 10) => ({ tokenId, logprob, top: [{ tokenId: 1, logprob: -0.1 }] });

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tokenizer = Tokenizer.fromData(
  tokenizerDataFromGguf(
    readGgufMetadata(path.join(repoRoot, '..', 'shared', 'models', 'stories260K', 'stories260K-f32.gguf')),
  ),
);
const PROMPT = tokenizer.encode('Once upon a time', { addSpecial: true });

/** An in-memory stand-in for the Redis output stream (named as such: no Redis in this unit test). */
class InMemoryOutputLog {
  readonly events: OutputEvent[] = [];
  constructor(private readonly soFar?: Partial<StreamedSoFar>) {}
  appendMany(items: { events: OutputEvent[] }[]): Promise<unknown> {
    for (const { events } of items) this.events.push(...structuredClone(events));
    return Promise.resolve();
  }
  reads = 0;
  /** A stream nobody wrote (OutputLog.start). */
  start(_requestId: string, n: number): StreamedSoFar {
    const fill = <T>(v: T) => new Array<T>(n).fill(v);
    return {
      tokenIds: Array.from({ length: n }, () => []),
      emittedChars: fill(0),
      finished: fill(false),
      promptLogprobs: fill(false),
      errored: false,
    };
  }
  read(requestId: string, n: number): Promise<StreamedSoFar> {
    this.reads += 1;
    return Promise.resolve({ ...this.start(requestId, n), ...this.soFar });
  }
}

const job = (promptLogprobs: number | null): RequestJob => ({
  requestId: 'r1',
  model: 'm',
  promptTokenIds: PROMPT,
  sampling: { ...DEFAULT_SAMPLING, promptLogprobs },
  n: 1,
  priority: 0,
  acceptedAt: 0,
});
const served = { tokenizer, eosTokenIds: [2], contextLength: 512 };
const scored = (from: number, to: number) => ({
  requestId: seqIdOf('r1', 0),
  startPosition: from,
  tokens: PROMPT.slice(from, to).map((id) => tok(id)),
});

test('RequestManager: the prompt_logprobs event is written once, before the first token event', async () => {
  const log = new InMemoryOutputLog();
  const m = new RequestManager(log as unknown as OutputLog);
  const { seqs } = (await m.open(job(2), served))!;
  assert.equal(at(seqs, 0).sampling.promptLogprobs, 2);
  m.apply([], [scored(1, 3)]); // a first prefill chunk: nothing to write yet
  assert.equal(log.events.length, 0);
  m.apply([{ seqId: at(seqs, 0).seqId, newTokenIds: [at(PROMPT, 1)] }], [scored(3, PROMPT.length)]);
  assert.deepEqual(
    log.events.map((e) => e.type),
    ['prompt_logprobs', 'token'],
  );
  const ev = log.events[0] as Extract<OutputEvent, { type: 'prompt_logprobs' }>;
  assert.deepEqual(
    ev.logprobs.map((e) => e?.tokenId ?? null),
    [null, ...PROMPT.slice(1)],
  );
  // The prompt scored again (a preemption): nothing more is written.
  m.apply([{ seqId: at(seqs, 0).seqId, newTokenIds: [at(PROMPT, 1)] }], [scored(1, PROMPT.length)]);
  assert.deepEqual(
    log.events.map((e) => e.type),
    ['prompt_logprobs', 'token', 'token'],
  );
});

test('RequestManager: a resume whose stream already holds the event neither asks for prompt logprobs nor writes them', async () => {
  const log = new InMemoryOutputLog({ tokenIds: [[at(PROMPT, 1)]], promptLogprobs: [true] });
  const m = new RequestManager(log as unknown as OutputLog);
  const { seqs } = (await m.open(job(2), served))!;
  assert.equal(at(seqs, 0).sampling.promptLogprobs, null);
  m.apply([{ seqId: at(seqs, 0).seqId, newTokenIds: [at(PROMPT, 2)] }], [scored(1, PROMPT.length)]);
  assert.deepEqual(
    log.events.map((e) => e.type),
    ['token'],
  );
});

test('RequestManager: no prompt_logprobs asked, none written', async () => {
  const log = new InMemoryOutputLog();
  const m = new RequestManager(log as unknown as OutputLog);
  const { seqs } = (await m.open(job(null), served))!;
  m.apply([{ seqId: at(seqs, 0).seqId, newTokenIds: [at(PROMPT, 1)] }], [scored(1, PROMPT.length)]);
  assert.deepEqual(
    log.events.map((e) => e.type),
    ['token'],
  );
});

test('RequestManager: the token that ends a choice (EOS or a stop id) is counted, its text not output, special tokens kept or not', async () => {
  for (const [stopTokenIds, stopReason] of [
    [[], undefined],
    [[at(PROMPT, 2)], at(PROMPT, 2)],
  ] as const) {
    const log = new InMemoryOutputLog();
    const m = new RequestManager(log as unknown as OutputLog);
    const j = job(null);
    j.sampling = { ...j.sampling, skipSpecialTokens: false, stopTokenIds: [...stopTokenIds] };
    const { seqs } = (await m.open(j, served))!;
    const last = stopReason ?? 2; // EOS is id 2, '</s>'
    m.apply(
      [{ seqId: at(seqs, 0).seqId, newTokenIds: [at(PROMPT, 1), last], finished: { reason: 'stop', stopReason } }],
      [],
    );
    const text = log.events.map((e) => (e.type === 'token' ? e.text : '')).join('');
    assert.equal(text, tokenizer.tokenToPiece(at(PROMPT, 1)), `stop by ${String(stopReason ?? 'EOS')}`);
    const fin = log.events.at(-1) as Extract<OutputEvent, { type: 'finish' }>;
    assert.equal(fin.completionTokens, 2);
  }
});

test('RequestManager: a cancel before the job is opened, or while it is being opened, wins', async () => {
  // The chaos suite's abandoned-streams scenario found the second case: a cancel that landed while
  // open() read the output stream found nothing to cancel, and the request ran for nobody.
  const log = new InMemoryOutputLog();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const read = log.read.bind(log);
  log.read = async (id: string, n: number) => {
    await gate;
    return read(id, n);
  };
  const m = new RequestManager(log as unknown as OutputLog);
  const opening = m.open(job(null), served);
  assert.deepEqual(m.cancel('r1'), [], 'nothing open to abort yet');
  release();
  assert.equal(await opening, null, 'cancelled while being opened: not run');
  assert.equal(m.has('r1'), false);

  const early = new RequestManager(new InMemoryOutputLog() as unknown as OutputLog);
  early.cancel('r1');
  assert.equal(await early.open(job(null), served), null, 'cancelled before its job was taken: not run');
  const other = await early.open({ ...job(null), requestId: 'r2' }, served);
  assert.ok(other, 'another request opens as usual');
});

test('RequestManager: a job delivered again while it runs here is not run twice', async () => {
  // BullMQ re-delivers a job whose lock lapsed; if this scheduler was only starved, not dead, it
  // still runs the request. The second delivery must neither start it again nor orphan the first.
  const log = new InMemoryOutputLog();
  const m = new RequestManager(log as unknown as OutputLog);
  const [a, b] = await Promise.all([m.open(job(null), served), m.open(job(null), served)]);
  assert.equal(a!.seqs.length, 1);
  assert.deepEqual(b!.seqs, [], 'a delivery while opening: no second sequence');
  const c = await m.open(job(null), served);
  assert.deepEqual(c!.seqs, [], 'a delivery while running: no second sequence');
  let settled = 0;
  for (const o of [a, b, c]) void o!.done.then(() => settled++);
  m.apply([{ seqId: seqIdOf('r1', 0), newTokenIds: [5], finished: { reason: 'length' } }]);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(settled, 3, 'every delivery ends with the request');
  assert.equal(log.events.filter((e) => e.type === 'finish').length, 1, 'one finish event');
});

test('RequestManager: the finish event reports the first admission prefix-cache hit, at most the prompt', async () => {
  const finishOf = (log: InMemoryOutputLog) => log.events.at(-1) as Extract<OutputEvent, { type: 'finish' }>;
  const log = new InMemoryOutputLog();
  const m = new RequestManager(log as unknown as OutputLog);
  const { seqs } = (await m.open(job(null), served))!;
  const seqId = at(seqs, 0).seqId;
  m.apply([{ seqId, newTokenIds: [at(PROMPT, 1)], cachedTokens: 4 }]);
  // Recomputed on another worker, whose hit reaches past the prompt: the first admission's count stands.
  m.apply([{ seqId, newTokenIds: [at(PROMPT, 2)], cachedTokens: PROMPT.length + 8, finished: { reason: 'length' } }]);
  assert.equal(finishOf(log).cachedTokens, 4);

  const recomputed = new InMemoryOutputLog();
  const m2 = new RequestManager(recomputed as unknown as OutputLog);
  const s2 = at((await m2.open(job(null), served))!.seqs, 0).seqId;
  m2.apply([
    { seqId: s2, newTokenIds: [at(PROMPT, 1)], cachedTokens: PROMPT.length + 8, finished: { reason: 'length' } },
  ]);
  assert.equal(finishOf(recomputed).cachedTokens, PROMPT.length);

  // Cancelled before any output: nothing known, nothing claimed.
  const cancelled = new InMemoryOutputLog();
  const m3 = new RequestManager(cancelled as unknown as OutputLog);
  await m3.open(job(null), served);
  m3.cancel('r1');
  assert.equal(finishOf(cancelled).cachedTokens, undefined);
});

test('RequestManager: a first delivery is not read from its stream; a later one is, and resumes', async () => {
  // A stream is written only by a scheduler that took the job: on BullMQ's first delivery it is
  // empty, and reading it would put a round trip in front of the admission.
  const first = new InMemoryOutputLog({ tokenIds: [[5, 6]], emittedChars: [2] });
  const a = await new RequestManager(first as unknown as OutputLog).open(job(null), served, true);
  assert.equal(first.reads, 0);
  assert.deepEqual(at(a!.seqs, 0).outputTokenIds, []);
  const again = new InMemoryOutputLog({ tokenIds: [[5, 6]], emittedChars: [2] });
  const b = await new RequestManager(again as unknown as OutputLog).open(job(null), served);
  assert.equal(again.reads, 1);
  assert.deepEqual(at(b!.seqs, 0).outputTokenIds, [5, 6], 'resumed from what the stream holds');
});
