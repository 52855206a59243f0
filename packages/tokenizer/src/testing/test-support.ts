/**
 * Test-only helpers: the shared models (`../shared/models`: stories260K, llama-2-tiny-random) and
 * llama.cpp's own vocab files and vectors (llama-cpp-source.ts). Vector layout: `.inp` holds strings
 * each followed by "\n__ggml_vocab_test__\n"; `.out` one line of space-separated ids per string, no
 * BOS, special tokens not parsed (llama.cpp's tests/test-tokenizer-0).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { at } from '@loom/common';
import { readGgufMetadata } from '@loom/gguf';
import { llamaCppTree } from '../llama-cpp-source.js';
import { tokenizerDataFromGguf } from '../tokenizer-data.js';
import { Tokenizer } from '../tokenizer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const modelsDir = path.join(sharedDir, 'models');

const cache = new Map<string, Tokenizer>();
function load(file: string): Tokenizer {
  let t = cache.get(file);
  if (!t) {
    t = Tokenizer.fromData(tokenizerDataFromGguf(readGgufMetadata(file)));
    cache.set(file, t);
  }
  return t;
}

/** Tokenizer of a GGUF file under the shared models/, loaded once per test process. */
export function loadTokenizer(relPath: string): Tokenizer {
  return load(path.join(modelsDir, relPath));
}

/** Path of llama.cpp's `models/ggml-vocab-<name>.gguf`. */
export function vocabPath(name: string): string {
  return path.join(llamaCppTree(), 'models', `ggml-vocab-${name}.gguf`);
}

/** Tokenizer of llama.cpp's `models/ggml-vocab-<name>.gguf` (e.g. 'gpt-2'), loaded once per test process. */
export function vocabTokenizer(name: string): Tokenizer {
  return load(vocabPath(name));
}

/** Names (ggml-vocab-<name>.gguf) of every vocab file in llama.cpp's models/. */
export function llamaCppVocabNames(): string[] {
  return fs
    .readdirSync(path.join(llamaCppTree(), 'models'))
    .flatMap((f) => /^ggml-vocab-(.+)\.gguf$/.exec(f)?.[1] ?? [])
    .sort();
}

export interface Vector {
  text: string;
  ids: number[];
}

/** llama.cpp's vectors of ggml-vocab-<name>.gguf, or undefined when it ships none. */
export function readVectors(name: string): Vector[] | undefined {
  const base = vocabPath(name);
  if (!fs.existsSync(`${base}.inp`)) return undefined;
  const texts = fs.readFileSync(`${base}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  texts.pop(); // after the last separator
  const lines = fs.readFileSync(`${base}.out`, 'utf8').split('\n');
  if (lines.length < texts.length) throw new Error(`${base}.out has ${lines.length} lines for ${texts.length} strings`);
  return texts.map((text, i) => {
    const line = at(lines, i).trim();
    return { text, ids: line === '' ? [] : line.split(/\s+/).map(Number) };
  });
}
