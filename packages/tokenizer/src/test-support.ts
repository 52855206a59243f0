/**
 * Test-only helpers: where the shared models live and how the llama.cpp tokenizer vectors are laid out
 * (`.inp`: strings each followed by "\n__ggml_vocab_test__\n"; `.out`: one line of space-separated ids
 * per string, no BOS, special tokens not parsed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readGgufMetadata } from './gguf-metadata.js';
import { tokenizerDataFromGguf } from './tokenizer-data.js';
import { Tokenizer } from './tokenizer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const modelsDir = path.join(sharedDir, 'models');
export const vectorsDir = path.join(modelsDir, 'tokenizer-vectors');

const cache = new Map<string, Tokenizer>();
/** Tokenizer of a GGUF file under models/, loaded once per test process. */
export function loadTokenizer(relPath: string): Tokenizer {
  let t = cache.get(relPath);
  if (!t) {
    t = Tokenizer.fromData(tokenizerDataFromGguf(readGgufMetadata(path.join(modelsDir, relPath))));
    cache.set(relPath, t);
  }
  return t;
}

export interface Vector {
  text: string;
  ids: number[];
}

export function readVectors(name: string): Vector[] {
  const texts = fs.readFileSync(path.join(vectorsDir, `${name}.inp`), 'utf8').split('\n__ggml_vocab_test__\n');
  texts.pop(); // after the last separator
  const lines = fs.readFileSync(path.join(vectorsDir, `${name}.out`), 'utf8').split('\n');
  if (lines.length < texts.length) throw new Error(`${name}.out has ${lines.length} lines for ${texts.length} strings`);
  return texts.map((text, i) => ({
    text,
    ids: lines[i]!.trim() === '' ? [] : lines[i]!.trim().split(/\s+/).map(Number),
  }));
}
