import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromEnv, modelIdOf, OPTIONS } from './config.js';

test('model id: the served name wins, else the file or directory name without extension', () => {
  assert.equal(modelIdOf({ model: '/m/stories260K-f32.gguf', servedModelName: '' }), 'stories260K-f32');
  assert.equal(modelIdOf({ model: '/m/stories260K-f32.gguf', servedModelName: 'tiny' }), 'tiny');
  assert.equal(modelIdOf({ model: 'models/SmolLM-135M/', servedModelName: '' }), 'SmolLM-135M');
  assert.equal(modelIdOf({ model: 'C:\\models\\qwen2.gguf', servedModelName: '' }), 'qwen2');
});

test('every option resolves from its env twin, defaults otherwise, and bad integers are named', () => {
  const dflt = configFromEnv({});
  for (const o of OPTIONS) assert.equal(dflt[o.key], o.default, o.key);
  assert.equal(configFromEnv({ PORT: '9000', LOOM_WORKERS: '3' }).port, 9000);
  assert.throws(() => configFromEnv({ PORT: 'eighty' }), /--port \/ PORT must be an integer, got "eighty"/);
  assert.equal(configFromEnv({ LOOM_API_KEYS_REDIS: 'Yes' }).apiKeysRedis, true);
  assert.equal(configFromEnv({ LOOM_API_KEYS_REDIS: 'off' }).apiKeysRedis, false);
  assert.throws(
    () => configFromEnv({ LOOM_API_KEYS_REDIS: 'ture' }),
    /--api-keys-redis \/ LOOM_API_KEYS_REDIS must be true or false, got "ture"/,
  );
  assert.equal(new Set(OPTIONS.map((o) => o.env)).size, OPTIONS.length, 'env twins are unique');
  assert.equal(new Set(OPTIONS.map((o) => o.flag.split(' ')[0])).size, OPTIONS.length, 'flags are unique');
});
