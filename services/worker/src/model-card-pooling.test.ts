// How a worker's card says its embeddings are pooled: --pooling when it names a type, else the GGUF's
// <arch>.pooling_type (llama.cpp's enum), else last; a reranker's 'rank' is carried so the gateway can refuse it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { copyGgufWithMetadata } from '@loom/gguf';
import type { EngineModelInfo } from './engine/engine-api.js';
import { storiesPath } from './testing/engine-test-kit.js';
import { buildModelCard, resolvePooling } from './model-card.js';

/** stories260K's engine info (only dim and the card's own fields matter here). */
const info: EngineModelInfo = {
  architecture: 'llama',
  vocabSize: 512,
  contextLength: 512,
  dim: 64,
  hiddenDim: 172,
  nLayers: 5,
  nHeads: 8,
  nKvHeads: 4,
  headDim: 8,
  ropeTheta: 10000,
  normEps: 1e-5,
  weightType: 'f32',
  kernels: 'scalar',
  threads: 1,
};

describe('model card pooling', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-card-pool-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const withPooling = (type: number) => {
    const f = path.join(tmp, `stories-${type}.gguf`);
    copyGgufWithMetadata(storiesPath('f32'), f, { 'llama.pooling_type': type });
    return f;
  };

  it('the file says nothing: last; its pooling_type otherwise; the flag overrides both', () => {
    const card = buildModelCard(storiesPath('f32'), 's', info);
    assert.deepEqual([card.pooling, card.hiddenSize], ['last', 64]);
    assert.equal(buildModelCard(withPooling(0), 's', info).pooling, 'last', 'NONE: the last token, as llama.cpp gives');
    assert.equal(buildModelCard(withPooling(1), 's', info).pooling, 'mean');
    assert.equal(buildModelCard(withPooling(2), 's', info).pooling, 'cls');
    assert.equal(buildModelCard(withPooling(3), 's', info).pooling, 'last');
    assert.equal(buildModelCard(withPooling(4), 's', info).pooling, 'rank');
    assert.equal(buildModelCard(withPooling(2), 's', info, 'mean').pooling, 'mean');
    assert.equal(buildModelCard(storiesPath('f32'), 's', info, 'auto').pooling, 'last');
  });

  it('a bad flag or pooling_type is an error naming it', () => {
    assert.throws(
      () => resolvePooling('max', undefined),
      /--pooling \/ LOOM_POOLING must be auto, last, mean, cls; got "max"/,
    );
    const bad = withPooling(9);
    assert.throws(() => buildModelCard(bad, 's', info), {
      message:
        `${bad}: llama.pooling_type = 9 is not a llama.cpp pooling type (0-4); ` +
        'choose one with --pooling / LOOM_POOLING (last, mean, cls)',
    });
    assert.equal(buildModelCard(bad, 's', info, 'mean').pooling, 'mean', 'the flag chooses: the file is not asked');
  });
});
