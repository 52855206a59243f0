import type { KvCacheGroup } from '@loom/common';
import fs from 'node:fs';
import path from 'node:path';
import {
  tokenizerDataFromGguf,
  chatTemplateFromGguf,
  tokenizerDataFromHf,
  chatTemplateFromHf,
  toolUseChatTemplateFromGguf,
  endOfGenerationIds,
} from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import { POOLING_TYPES, type ModelCard, type PoolingType, type TokenizerData } from '@loom/common';
import type { EngineModelInfo } from './engine/engine-api.js';

/** Parsed JSON of `file`, or undefined when it does not exist; a file that does not parse names itself. */
function readJson(file: string): unknown {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); fix it or download the model again`);
  }
}

interface CardTokenizer {
  /** llama.cpp's pooling of the model's embeddings (`<arch>.pooling_type`), when the file says. */
  pooling?: PoolingType | 'rank';
  /** Why the file's pooling cannot be used (a value llama.cpp does not define): an error unless --pooling chooses. */
  poolingProblem?: string;
  tokenizer: TokenizerData;
  chatTemplate: string | undefined;
  toolUseChatTemplate: string | undefined;
  /** Extra ids that end generation (generation_config.json's eos_token_id, which may list several). */
  extraEos: number[];
}

/** Tokenizer, chat template and stop ids of a Hugging Face model directory (tokenizer.json, tokenizer_config.json, generation_config.json). */
function fromHfDir(dir: string): CardTokenizer {
  const tokFile = path.join(dir, 'tokenizer.json');
  const tokJson = readJson(tokFile);
  if (tokJson === undefined)
    throw new Error(
      `${tokFile}: missing; a model directory must carry its tokenizer.json (Loom does not read tokenizer.model)`,
    );
  const config = readJson(path.join(dir, 'tokenizer_config.json')) ?? {};
  const gen = readJson(path.join(dir, 'generation_config.json')) as { eos_token_id?: unknown } | undefined;
  const eos = gen?.eos_token_id;
  const extraEos = (Array.isArray(eos) ? eos : [eos]).filter((x): x is number => Number.isInteger(x));
  return {
    tokenizer: tokenizerDataFromHf(tokJson, config, tokFile),
    chatTemplate: chatTemplateFromHf(config),
    toolUseChatTemplate: chatTemplateFromHf(config, 'tool_use'),
    extraEos,
  };
}

/** llama.cpp's enum llama_pooling_type by value; NONE (per-token embeddings) serves a decoder's last token, as llama.cpp does. */
const GGUF_POOLING: Record<number, PoolingType | 'rank'> = { 0: 'last', 1: 'mean', 2: 'cls', 3: 'last', 4: 'rank' };

function fromGguf(file: string): CardTokenizer {
  const meta = readGgufMetadata(file);
  const arch = meta.metadata.get('general.architecture');
  const raw = meta.metadata.get(`${String(arch)}.pooling_type`);
  const pooling = raw === undefined ? undefined : GGUF_POOLING[Number(raw)];
  return {
    ...(pooling ? { pooling } : {}),
    ...(raw !== undefined && pooling === undefined
      ? {
          poolingProblem: `${file}: ${String(arch)}.pooling_type = ${String(raw)} is not a llama.cpp pooling type (0-4)`,
        }
      : {}),
    tokenizer: tokenizerDataFromGguf(meta),
    chatTemplate: chatTemplateFromGguf(meta),
    toolUseChatTemplate: toolUseChatTemplateFromGguf(meta),
    extraEos: [],
  };
}

/**
 * The pooling embeddings get: the --pooling flag when it names one (it overrides the file, as llama.cpp's and
 * vLLM's flags do), else the model's own, else last (vLLM's default for decoder LLMs).
 */
export function resolvePooling(flag: string, model: PoolingType | 'rank' | undefined): PoolingType | 'rank' {
  if (flag === 'auto' || flag === '') return model ?? 'last';
  if (!(POOLING_TYPES as readonly string[]).includes(flag))
    throw new Error(`--pooling / LOOM_POOLING must be auto, ${POOLING_TYPES.join(', ')}; got "${flag}"`);
  return flag as PoolingType;
}

/**
 * The engine's KV cache groups as the worker reports them (Info, the model card): which layers share a
 * block table, and the sliding window of each (0 = full attention). One full-attention group of every
 * layer when the engine does not say.
 */
export function kvCacheGroupsOf(info: EngineModelInfo): KvCacheGroup[] {
  const groups = info.kvCacheGroups ?? [{ window: 0, layers: Array.from({ length: info.nLayers }, (_, l) => l) }];
  return groups.map((g) => ({ slidingWindow: g.window, layers: g.layers }));
}

/**
 * What clients of this model need without its weights: the tokenizer, the chat template, the
 * context window, the ids that end generation (EOS, EOT, EOM and every end-of-turn token llama.cpp
 * recognises, as its special_eog_ids; for a directory also generation_config.json's eos_token_id), and
 * how its embeddings are pooled (`poolingFlag`: --pooling). `modelPath` is a GGUF file or a Hugging Face
 * safetensors directory (whose pooling, kept by sentence-transformers in 1_Pooling/, is not read: last).
 */
export function buildModelCard(
  modelPath: string,
  modelId: string,
  info: EngineModelInfo,
  poolingFlag = 'auto',
): ModelCard {
  const { tokenizer, chatTemplate, toolUseChatTemplate, extraEos, pooling, poolingProblem } = fs
    .statSync(modelPath)
    .isDirectory()
    ? fromHfDir(modelPath)
    : fromGguf(modelPath);
  // A file's unusable pooling matters only when no --pooling chooses one.
  if (poolingProblem && (poolingFlag === 'auto' || poolingFlag === ''))
    throw new Error(`${poolingProblem}; choose one with --pooling / LOOM_POOLING (${POOLING_TYPES.join(', ')})`);
  // The full end-of-generation set (llama.cpp's special_eog_ids, plus generation_config.json's ids), in
  // the tokenizer too so the gateway's Tokenizer.eosIds agrees with the worker's stop ids.
  const eos = endOfGenerationIds(tokenizer, extraEos);
  tokenizer.eogTokenIds = eos;
  return {
    modelId,
    architecture: info.architecture,
    contextLength: info.contextLength,
    vocabSize: info.vocabSize,
    eosTokenIds: eos,
    tokenizer,
    chatTemplate,
    ...(toolUseChatTemplate ? { toolUseChatTemplate } : {}),
    hiddenSize: info.dim,
    kvCacheGroups: kvCacheGroupsOf(info),
    pooling: resolvePooling(poolingFlag, pooling),
    createdAt: Math.floor(Date.now() / 1000),
  };
}
