import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LoomConfig } from '@loom/common';
import { DEFAULT_MODEL_NOTICE, resolveModel } from './default-model.js';
import { ENGINE_DIR } from './repo-paths.js';

/** Apply the default model and make the model path absolute, or throw saying what to set. */
export function withModel(config: LoomConfig, notice: (msg: string) => void): LoomConfig {
  const m = resolveModel(config.model);
  if (!m.path) throw new Error(m.problem);
  if (m.isDefault) notice(DEFAULT_MODEL_NOTICE);
  return { ...config, model: m.path };
}

function hasNodeBinary(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true, recursive: true }).some((e) => e.isFile() && e.name.endsWith('.node'));
}

/**
 * In a source checkout (the engine's build.mjs is there), the compiled N-API addon must exist before
 * workers start; otherwise each worker would fail on its own with a less helpful error.
 */
export function checkEngineBuilt(): void {
  if (!existsSync(join(ENGINE_DIR, 'build.mjs'))) return;
  if (!hasNodeBinary(join(ENGINE_DIR, 'build'))) {
    throw new Error(
      `the native engine is not built (no .node file under ${join(ENGINE_DIR, 'build')}). Run: npm run build:native`,
    );
  }
}
