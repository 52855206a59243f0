import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { modelCardKey, type ModelCard } from '@loom/common';
import { useRedis } from '@loom/testing';
import { tokenizerDataFromGguf } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import { ServedModels } from './served-models.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const GGUF = path.join(repoRoot, '..', 'shared', 'models', 'stories260K', 'stories260K-f32.gguf');

describe('ServedModels against a real redis-server', () => {
  const local = useRedis();
  let redis: Redis;
  before(() => {
    redis = local.connect('served-models-test');
  });

  test('a burst of jobs shares one load of the card and one tokenizer; an unpublished model is asked again', async () => {
    const models = new ServedModels(redis);
    assert.equal(await models.get('m'), undefined, 'not published yet');
    const card = {
      modelId: 'm',
      contextLength: 512,
      eosTokenIds: [2],
      tokenizer: tokenizerDataFromGguf(readGgufMetadata(GGUF)),
    } as unknown as ModelCard;
    await redis.set(modelCardKey('m'), JSON.stringify(card));
    const burst = await Promise.all(Array.from({ length: 16 }, () => models.get('m')));
    assert.ok(burst[0], 'published now: found');
    for (const m of burst) assert.equal(m, burst[0], 'one load for the whole burst');
    assert.ok(
      (burst[0]?.tokenizer.encode('Once upon a time', { addSpecial: false }).length ?? 0) > 0,
      'its tokenizer works',
    );
  });
});
