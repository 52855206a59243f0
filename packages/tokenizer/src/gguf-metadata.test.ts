import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { at } from '@loom/common';
import { GgufValueType, readGgufMetadata, GGML_TYPE, writeGguf } from '@loom/gguf';
import { chatTemplateFromGguf, tokenizerDataFromGguf } from './tokenizer-data.js';
import { modelsDir, vocabPath } from './testing/test-support.js';

const stories = (f: string) => path.join(modelsDir, 'stories260K', f);
const STORIES = [stories('stories260K-f32.gguf'), stories('stories260K-f16.gguf')] as const;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-gguf-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('stories260K: metadata and tensor infos describe the whole file', () => {
  for (const file of STORIES) {
    const meta = readGgufMetadata(file);
    assert.equal(meta.getString('general.architecture'), 'llama');
    assert.equal(meta.getNumber('llama.context_length'), 512);
    assert.equal(meta.getNumber('llama.attention.head_count_kv'), 4);
    assert.equal(meta.getArray('tokenizer.ggml.tokens')!.length, 512);
    assert.equal(meta.types.get('tokenizer.ggml.scores')!.item!.type, GgufValueType.FLOAT32);
    const embd = meta.tensors.find((t) => t.name === 'token_embd.weight')!;
    assert.deepEqual(embd.shape, [64, 512]);
    // The last tensor ends exactly at the end of the file, and tensors never overlap.
    const sorted = [...meta.tensors].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < sorted.length; i++)
      assert.ok(at(sorted, i).offset >= at(sorted, i - 1).offset + at(sorted, i - 1).byteSize!);
    const last = sorted.at(-1)!;
    assert.equal(last.fileOffset + last.byteSize!, fs.statSync(file).size);
    assert.equal(meta.dataOffset % meta.alignment, 0);
  }
  const f16 = readGgufMetadata(STORIES[1]);
  assert.ok(f16.tensors.some((t) => t.type === GGML_TYPE.F16));
});

test('tokenizer data: llama defaults and explicit ids', () => {
  const meta = readGgufMetadata(STORIES[0]);
  const data = tokenizerDataFromGguf(meta);
  assert.equal(data.model, 'llama');
  assert.equal(data.tokens.length, 512);
  assert.equal(data.addBosToken, true);
  assert.equal(data.addSpacePrefix, true);
  assert.equal(data.addEosToken, false);
  assert.equal(data.bosTokenId, meta.getNumber('tokenizer.ggml.bos_token_id'));
  assert.equal(chatTemplateFromGguf(meta), undefined);
  const bpe = tokenizerDataFromGguf(readGgufMetadata(vocabPath('gpt-2')));
  assert.equal(bpe.model, 'gpt2');
  assert.equal(bpe.pre, 'gpt-2');
  assert.equal(bpe.addSpacePrefix, false);
  assert.ok(bpe.merges!.length > 40_000);
});

test('writeGguf round-trips metadata, types and tensor bytes', () => {
  const src = readGgufMetadata(STORIES[1]);
  const bytes = fs.readFileSync(STORIES[1]); // small test model: reading it whole is fine here
  const out = path.join(tmp, 'copy.gguf');
  writeGguf(out, {
    metadata: src.metadata,
    types: src.types,
    tensors: src.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      type: t.type,
      data: bytes.subarray(t.fileOffset, t.fileOffset + t.byteSize!),
    })),
  });
  const back = readGgufMetadata(out);
  assert.deepEqual(back.metadata, src.metadata);
  assert.deepEqual(back.types, src.types);
  assert.deepEqual(
    back.tensors.map((t) => [t.name, t.shape, t.type, t.byteSize]),
    src.tensors.map((t) => [t.name, t.shape, t.type, t.byteSize]),
  );
  const copy = fs.readFileSync(out);
  for (const t of back.tensors) {
    const orig = src.tensors.find((s) => s.name === t.name)!;
    assert.ok(
      copy
        .subarray(t.fileOffset, t.fileOffset + t.byteSize!)
        .equals(bytes.subarray(orig.fileOffset, orig.fileOffset + orig.byteSize!)),
      t.name,
    );
  }
});

test('writeGguf infers types, streams tensor data and checks its size', () => {
  const out = path.join(tmp, 'synth.gguf');
  const q8 = 34 * 4; // four Q8_0 blocks of 32 weights
  writeGguf(out, {
    metadata: {
      'general.architecture': 'llama',
      'x.neg': -3,
      'x.float': 0.5,
      'x.big': 2n ** 40n,
      'x.flag': true,
      'x.ids': [1, -2, 3],
      'x.names': ['a', 'b'],
      'x.nested': [[1], [2, 3]],
    },
    tensors: [
      {
        name: 'w',
        shape: [128, 1],
        type: GGML_TYPE.Q8_0!,
        data: (put) => {
          put(new Uint8Array(q8 / 2).fill(7));
          put(new Uint8Array(q8 / 2).fill(9));
        },
      },
    ],
  });
  const meta = readGgufMetadata(out);
  assert.equal(meta.get('x.neg'), -3);
  assert.equal(meta.types.get('x.neg')!.type, GgufValueType.INT32);
  assert.equal(meta.get('x.float'), 0.5);
  assert.equal(meta.get('x.big'), 2 ** 40);
  assert.equal(meta.types.get('x.big')!.type, GgufValueType.UINT64);
  assert.equal(meta.get('x.flag'), true);
  assert.deepEqual(meta.get('x.ids'), [1, -2, 3]);
  assert.deepEqual(meta.get('x.names'), ['a', 'b']);
  assert.deepEqual(meta.get('x.nested'), [[1], [2, 3]]);
  assert.equal(at(meta.tensors, 0).byteSize, q8);
  assert.equal(fs.statSync(out).size, at(meta.tensors, 0).fileOffset + q8);
  assert.throws(
    () =>
      writeGguf(path.join(tmp, 'bad.gguf'), {
        metadata: {},
        tensors: [{ name: 'w', shape: [4], type: GGML_TYPE.F32!, data: new Uint8Array(3) }],
      }),
    /expected 16/,
  );
});

test('errors name the file and the reason', () => {
  const bad = path.join(tmp, 'bad-magic.gguf');
  fs.writeFileSync(bad, Buffer.from('GGML0000000000000000000000'));
  assert.throws(
    () => readGgufMetadata(bad),
    (e: Error) => e.message.includes(bad) && /bad magic/.test(e.message),
  );

  const v1 = path.join(tmp, 'v1.gguf');
  const head = Buffer.alloc(24);
  head.write('GGUF', 0, 'latin1');
  head.writeUInt32LE(1, 4);
  fs.writeFileSync(v1, head);
  assert.throws(() => readGgufMetadata(v1), /unsupported GGUF version 1/);

  const whole = fs.readFileSync(STORIES[0]);
  for (const cut of [20, 5000, whole.length - 100]) {
    const truncated = path.join(tmp, `cut-${cut}.gguf`);
    fs.writeFileSync(truncated, whole.subarray(0, cut));
    assert.throws(
      () => readGgufMetadata(truncated),
      (e: Error) => e.message.includes(truncated) && /truncated/.test(e.message),
    );
    assert.throws(
      () => readGgufMetadata(truncated),
      /re-download or re-convert it/,
      'a truncated file says what to do',
    );
  }
  const missing = path.join(tmp, 'missing.gguf');
  assert.throws(() => readGgufMetadata(missing), { message: `${missing}: no such file; check the path` });

  const tiny = path.join(tmp, 'five-bytes.gguf');
  fs.writeFileSync(tiny, 'GGUF\0');
  assert.throws(() => readGgufMetadata(tiny), {
    message: `${tiny}: not a GGUF file: only 5 bytes (a download that stopped?); download it again`,
  });

  // GGUF v3 with a tensor count no file could hold, then one with a metadata value of an unknown type.
  const header = (nTensors: bigint, kv: Buffer) => {
    const h = Buffer.alloc(24);
    h.write('GGUF', 0, 'latin1');
    h.writeUInt32LE(3, 4);
    h.writeBigUInt64LE(nTensors, 8);
    h.writeBigUInt64LE(kv.length ? 1n : 0n, 16);
    return Buffer.concat([h, kv, Buffer.alloc(64)]);
  };
  const huge = path.join(tmp, 'huge-count.gguf');
  fs.writeFileSync(huge, header(1n << 60n, Buffer.alloc(0)));
  assert.throws(() => readGgufMetadata(huge), {
    message: `${huge}: corrupt GGUF: tensor count ${1n << 60n} at offset 8; re-download or re-convert it`,
  });
  const key = Buffer.alloc(8 + 1 + 4);
  key.writeBigUInt64LE(1n, 0);
  key.write('k', 8, 'latin1');
  key.writeUInt32LE(99, 9);
  const badType = path.join(tmp, 'bad-type.gguf');
  fs.writeFileSync(badType, header(0n, key));
  assert.throws(() => readGgufMetadata(badType), {
    message: `${badType}: corrupt GGUF: unknown value type 99 at offset 33; re-download or re-convert it`,
  });
});
