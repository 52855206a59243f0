/**
 * Every pre-tokenizer llama.cpp knows, against llama.cpp itself, on synthetic vocabularies (one per
 * regex list): the byte-level (or raw) alphabet of the test strings as tokens, plus every pair of its
 * symbols as a token and a merge. A merge never crosses a word boundary, so a word boundary placed
 * differently from llama.cpp's shows as different ids on most strings; the strings mix the scripts and
 * classes the regexes distinguish.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { at } from '@loom/common';
import { cpuLlama, seededRandom } from '@loom/testing';
import { BYTE_TO_UNICODE, byteEncode } from './byte-unicode.js';
import { bpePreTokenizer, SUPPORTED_PRE_TOKENIZERS, type BpePreTokenizerSpec } from './bpe-pre-tokenizer.js';
import { readGgufMetadata, writeGguf } from '@loom/gguf';
import { tokenizerDataFromGguf } from './tokenizer-data.js';
import { Tokenizer } from './tokenizer.js';
import { TokenType } from './token-type.js';

const PIECES = [
  'Hello', ' world', "'s", "'RE", ' ', '   ', '\n', '\n\n', '\r\n', '\t', '1', '42', '1234567', '3.14', '!?', '...',
  '(x)', '$+<=>^~|`', '东京', '中文', 'カタカナ', 'ひらがな', '한국어', 'нещо', 'Führer', 'e\u0301', 'ΑΒΓ', 'ไทย', 'हिन्दी',
  '\u00a0', '\u3000', '\u0085', '🦙', "don't", 'camelCase', 'ALLCAPS', '，。！', '<sentinel:12>', 'IMGIMGABZ', '    ',
]; // prettier-ignore

function samples(seed: number, n: number): string[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: 1 + Math.floor(r() * 10) }, () => PIECES[Math.floor(r() * PIECES.length)]).join(''),
  );
}

/** Tokens and merges of a synthetic vocabulary for `spec`. */
function vocabulary(spec: BpePreTokenizerSpec) {
  const raw = spec.byteEncode === false;
  const text = PIECES.join('') + (raw ? '\u2581' : '');
  const symbols = [...new Set(raw ? [...text] : [...byteEncode(text)])].sort();
  const tokens: string[] = [];
  const types: number[] = [];
  for (let b = 0; b < 256; b++) {
    tokens.push(raw ? `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>` : at(BYTE_TO_UNICODE, b));
    types.push(raw ? TokenType.BYTE : TokenType.NORMAL);
  }
  for (const s of symbols.filter((s) => !tokens.includes(s))) {
    tokens.push(s);
    types.push(TokenType.NORMAL);
  }
  const merges: string[] = [];
  // llama.cpp asserts that merge sides hold no plain space (raw-text vocabularies escape it as U+2581).
  const mergeable = symbols.filter((s) => s !== ' ');
  for (const a of mergeable)
    for (const b of mergeable) {
      merges.push(`${a} ${b}`);
      tokens.push(a + b);
      types.push(TokenType.NORMAL);
    }
  return { tokens, types, merges };
}

// 'whitespace' (\S+ over raw text) belongs to llama.cpp's own `whitespace` tokenizer model; under a gpt2
// model llama.cpp aborts on the first run of spaces (GGML_ASSERT in find_bpe_rank), so it has no oracle here.
const NO_ORACLE = ['whitespace'];
const specs = [...new Set(SUPPORTED_PRE_TOKENIZERS.map((n) => bpePreTokenizer(n)))].filter(
  (s) => !NO_ORACLE.includes(at(s.names, 0)),
);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-pre-'));

test('every pre-tokenizer llama.cpp knows splits words where llama.cpp does', async (t) => {
  const llama = await cpuLlama();
  try {
    for (const [i, spec] of specs.entries()) {
      const name = at(spec.names, 0);
      await t.test(`${name} (${spec.regexes.length} regex${spec.regexes.length > 1 ? 'es' : ''})`, async () => {
        const { tokens, types, merges } = vocabulary(spec);
        const file = path.join(dir, `${name}.gguf`);
        writeGguf(file, {
          metadata: {
            'general.architecture': 'llama',
            'general.name': `synthetic ${name}`,
            'llama.block_count': 1,
            'llama.context_length': 64,
            'llama.embedding_length': 8,
            'llama.feed_forward_length': 16,
            'llama.attention.head_count': 1,
            'llama.attention.layer_norm_rms_epsilon': 1e-5,
            'tokenizer.ggml.model': 'gpt2',
            'tokenizer.ggml.pre': name,
            'tokenizer.ggml.tokens': tokens,
            'tokenizer.ggml.token_type': types,
            'tokenizer.ggml.merges': merges,
            'tokenizer.ggml.bos_token_id': 0,
            'tokenizer.ggml.eos_token_id': 0,
          },
        });
        const tok = Tokenizer.fromData(tokenizerDataFromGguf(readGgufMetadata(file)));
        const model = await llama.loadModel({ modelPath: file, vocabOnly: true });
        try {
          for (const text of samples(2000 + i, 150)) {
            assert.deepEqual(
              tok.encode(text, { addSpecial: false }),
              [...model.tokenize(text, false)],
              `${name}: ${JSON.stringify(text)}`,
            );
          }
        } finally {
          await model.dispose();
        }
      });
    }
  } finally {
    await llama.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
