/**
 * Worker-thread side of GrammarChecker: compiles each spec it is sent for the model's vocabulary and
 * answers whether that worked and how long it took. One message at a time (the checker waits for the
 * answer before sending the next); the thread may be terminated at any moment (timeout).
 */
import { parentPort } from 'node:worker_threads';
import { GrammarCompilers } from './grammar-compilers.js';
import type { CheckReply, CheckRequest } from './grammar-checker.js';

const compilers = new GrammarCompilers();
const port = parentPort!;

port.on('message', (m: CheckRequest) => {
  void (async () => {
    let reply: CheckReply;
    try {
      if (m.card) compilers.addModel(m.vocabKey, m.card);
      const t0 = performance.now();
      const compiled = await compilers.compile(m.vocabKey, m.spec);
      reply = { id: m.id, ok: true, compileMs: performance.now() - t0 };
      compiled.dispose();
    } catch (err) {
      reply = { id: m.id, ok: false, message: (err as Error).message };
    }
    port.postMessage(reply);
  })();
});
