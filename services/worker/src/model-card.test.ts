// A worker serving a Hugging Face directory: the engine loads it and the model card built from its
// tokenizer.json / tokenizer_config.json / generation_config.json tokenizes, stops and templates like
// the card of the GGUF the directory was written from; a prompt encoded with the card generates
// stories260K's known greedy text. llama.cpp's vocab files publish llama.cpp's end-of-generation set
// (checked against node-llama-cpp) and their own chat template.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cpuLlama } from '@loom/testing';
import { Tokenizer, renderChat } from '@loom/tokenizer';
import { llamaCppFile } from '@loom/tokenizer/llama-cpp-source';
import { GREEDY, SeqRun, runAll, storiesPath } from './testing/engine-test-kit.js';
import { writeHfModelDir } from './testing/hf-model-dir.js';
import { loadEngine } from './engine/native-engine.js';
import { buildModelCard } from './model-card.js';

describe('model card of a safetensors directory', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-card-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = writeHfModelDir(storiesPath('f32'), path.join(tmp, 'stories260K'), { shards: 2 });

  it('matches the GGUF card and drives a greedy generation', async () => {
    const engine = loadEngine(dir, { threads: 2 });
    try {
      const card = buildModelCard(dir, 'stories260K', engine.info());
      const ggufCard = buildModelCard(storiesPath('f32'), 'stories260K', engine.info());
      assert.deepEqual(card.eosTokenIds, ggufCard.eosTokenIds);
      assert.equal(card.chatTemplate, ggufCard.chatTemplate);
      assert.deepEqual(card.tokenizer.tokens, ggufCard.tokenizer.tokens);
      const tok = Tokenizer.fromData(card.tokenizer);
      const prompt = tok.encode('Once upon a time');
      assert.deepEqual(prompt, Tokenizer.fromData(ggufCard.tokenizer).encode('Once upon a time'));
      engine.initKv(16, 16, 64, 1);
      const run = new SeqRun(prompt, [0, 1, 2, 3, 4], GREEDY, 30);
      await runAll(engine, [run]);
      assert.ok(
        tok
          .decode([...prompt, ...run.generated], { skipSpecial: true })
          .startsWith('Once upon a time, there was a little girl named Lily.'),
      );
    } finally {
      engine.close();
    }
  });

  it('takes the chat template from tokenizer_config.json and extra stop ids from generation_config.json', () => {
    const cfgFile = path.join(dir, 'tokenizer_config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(
      cfgFile,
      JSON.stringify({ ...cfg, chat_template: "{% for m in messages %}{{ bos_token + m['content'] }}{% endfor %}" }),
    );
    fs.writeFileSync(
      path.join(dir, 'generation_config.json'),
      JSON.stringify({ bos_token_id: 1, eos_token_id: [2, 13] }),
    );
    const card = buildModelCard(dir, 'stories260K', {
      architecture: 'llama',
      contextLength: 512,
      vocabSize: 512,
    } as never);
    assert.deepEqual(card.eosTokenIds, [2, 13]);
    assert.equal(
      renderChat(card.chatTemplate, [{ role: 'user', content: 'Hi' }], {
        addGenerationPrompt: true,
        bosToken: '<s>',
        eosToken: '</s>',
      }),
      '<s>Hi',
    );
  });

  it('a tokenizer_config.json that is not JSON names the file and the fix', () => {
    const dir = path.join(tmp, 'bad-json');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{}');
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), '{"chat_template": ');
    assert.throws(
      () => buildModelCard(dir, 'x', { architecture: 'llama', contextLength: 1, vocabSize: 1 } as never),
      (e: Error) =>
        e.message.startsWith(`${path.join(dir, 'tokenizer_config.json')}: not valid JSON (`) &&
        e.message.endsWith('); fix it or download the model again'),
    );
  });

  it('a directory without tokenizer.json names the file', () => {
    const bare = path.join(tmp, 'bare');
    fs.mkdirSync(bare);
    assert.throws(
      () => buildModelCard(bare, 'x', { architecture: 'llama', contextLength: 1, vocabSize: 1 } as never),
      /bare\/tokenizer\.json: missing/,
    );
  });
});

describe("model card of llama.cpp's vocab files", () => {
  const info = { architecture: 'x', contextLength: 512, vocabSize: 0 } as never;
  const card = (name: string) => buildModelCard(llamaCppFile(`models/ggml-vocab-${name}.gguf`), name, info);

  it("stops on llama.cpp's end-of-generation set and carries the file's chat template", async () => {
    // Against llama.cpp itself for one file (the tokenizer package checks every file's set the same way).
    const llama = await cpuLlama();
    try {
      const phi3 = card('phi-3');
      const model = await llama.loadModel({ modelPath: llamaCppFile('models/ggml-vocab-phi-3.gguf'), vocabOnly: true });
      const eog = phi3.tokenizer.tokens.flatMap((_, id) => (model.isEogToken(id as never) ? [id] : []));
      assert.deepEqual(phi3.eosTokenIds, eog);
      assert.deepEqual(Tokenizer.fromData(phi3.tokenizer).eosIds, eog);
      assert.equal(phi3.chatTemplate, model.fileInfo.metadata.tokenizer.chat_template);
      await model.dispose();
    } finally {
      await llama.dispose();
    }
    // llama.cpp's sets for these (node-llama-cpp isEogToken, 2026-12-02), by token text.
    const texts = (c: ReturnType<typeof card>) => c.eosTokenIds.map((id) => c.tokenizer.tokens[id]);
    assert.deepEqual(texts(card('phi-3')), ['</s>', '<|endoftext|>', '<|end|>']);
    assert.deepEqual(texts(card('llama-bpe')), ['<|end_of_text|>', '<|eot_id|>']);
    const qwen2 = card('qwen2');
    assert.deepEqual(texts(qwen2), ['</s>', '<|endoftext|>', '<|im_end|>']);
    assert.ok(qwen2.chatTemplate?.includes('<|im_start|>'));
    const gemma4 = card('gemma-4');
    assert.deepEqual(texts(gemma4), ['<eos>', '<|tool_response>', '<turn|>']);
    assert.ok(gemma4.chatTemplate?.includes('<|turn>'));
  });
});
