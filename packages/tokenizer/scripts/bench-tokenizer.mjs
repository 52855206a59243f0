#!/usr/bin/env node
// Encode speed of Loom's tokenizer against llama.cpp's (node-llama-cpp, the same tree's binary, one
// tokenize call per text), on llama.cpp's vocab files. Rounds interleave Loom and llama.cpp; Loom's
// tokenizer is rebuilt (outside the timing) every round so its word cache starts cold.
//   npx tsc -b packages/tokenizer && node packages/tokenizer/scripts/bench-tokenizer.mjs [rounds] [vocab...]
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLlama } from 'node-llama-cpp';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { readGgufMetadata } = await import(join(dist, 'gguf-metadata.js'));
const { tokenizerDataFromGguf } = await import(join(dist, 'tokenizer-data.js'));
const { Tokenizer } = await import(join(dist, 'tokenizer.js'));
const { llamaCppFile } = await import(join(dist, 'llama-cpp-source.js'));

const rounds = Number(process.argv[2] ?? 5);
const vocabs = process.argv.slice(3).length
  ? process.argv.slice(3)
  : ['llama-spm', 'llama-bpe', 'qwen2', 'gemma-4', 'bert-bge', 'nomic-bert-moe'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// ~0.5 MB of prose, code and markdown plus every vocab test string: many distinct words.
const base = [
  'README.md',
  'docs/architecture.md',
  'packages/tokenizer/src/tokenizer.ts',
  'services/worker/engine/README.md',
]
  .map((f) => readFileSync(join(root, f), 'utf8'))
  .join('\n');
const vectors = readFileSync(llamaCppFile('models/ggml-vocab-qwen35.gguf.inp'), 'utf8').replaceAll(
  '__ggml_vocab_test__',
  '',
);
const texts = Array.from({ length: 8 }, (_, i) => `${i} ${base}\n${vectors}`);
const chars = texts.reduce((n, t) => n + t.length, 0);

const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
console.log(
  `${new Date().toISOString()}  ${cpus()[0].model}  load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log(`${texts.length} texts, ${(chars / 1e6).toFixed(2)} M chars per round, ${rounds} rounds interleaved`);
for (const name of vocabs) {
  const file = llamaCppFile(`models/ggml-vocab-${name}.gguf`);
  const data = tokenizerDataFromGguf(readGgufMetadata(file));
  const model = await llama.loadModel({ modelPath: file, vocabOnly: true });
  const loom = [];
  const peer = [];
  let tokens = 0;
  for (let r = 0; r < rounds; r++) {
    const tok = Tokenizer.fromData(data);
    let t = performance.now();
    tokens = 0;
    for (const x of texts) tokens += tok.encode(x, { addSpecial: false }).length;
    loom.push(performance.now() - t);
    t = performance.now();
    for (const x of texts) model.tokenize(x, false);
    peer.push(performance.now() - t);
  }
  await model.dispose();
  const ratio = loom.map((l, i) => l / peer[i]);
  const f = (xs) => `${q(xs, 0.5).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  console.log(
    `${name.padEnd(15)} ${String(tokens).padStart(8)} tok  loom ${f(loom)}  llama.cpp ${f(peer)}  ` +
      `loom/llama.cpp ${q(ratio, 0.5).toFixed(2)} ` +
      `(${Math.min(...ratio).toFixed(2)}-${Math.max(...ratio).toFixed(2)})`,
  );
}
await llama.dispose();
