import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliOption } from '@loom/common';
import { cliMain } from '../harness/paths.js';

/** The serving benches' model options: a synthesised model (--synth, --dtype) unless --model names a GGUF. */
export const SYNTH_MODEL_OPTIONS = {
  synth: {
    type: 'string',
    default: 'dim=288,hidden=768,layers=6,heads=6,kv_heads=6,vocab=32000,ctx=1024',
    value: 'SHAPE',
    description: 'shape of the random-weight model to synthesise (`loom model synth --shape`)',
  },
  dtype: { type: 'string', default: 'f32', value: 'TYPE', description: 'weight type of the --synth model' },
  model: { type: 'string', value: 'GGUF', description: 'a GGUF file to serve instead of --synth' },
} as const satisfies Record<string, CliOption>;

/**
 * A random-weight GGUF in the given shape (`loom model synth --shape`), written once per shape and
 * dtype to the temp folder and reused by later runs; its path.
 */
export function synthModel(shape: string, dtype = 'f32'): string {
  const file = path.join(os.tmpdir(), `loom-bench-${shape.replace(/[^A-Za-z0-9.=_-]+/g, '_')}-${dtype}.gguf`);
  if (!existsSync(file))
    execFileSync(
      process.execPath,
      [cliMain(), 'model', 'synth', '--shape', shape, '--dtype', dtype, '--quiet', '-o', file],
      {
        stdio: 'inherit',
      },
    );
  return file;
}

/** The options of the benches that serve the stories260K demo model unless told otherwise. */
export const MODEL_OR_SYNTH_OPTIONS = {
  model: {
    type: 'string',
    value: 'GGUF',
    description: 'a GGUF to serve instead of the stories260K f32 demo model (e.g. from `loom model synth`)',
  },
  synth: {
    type: 'string',
    value: 'SHAPE',
    description: 'serve a random-weight f32 model of this `loom model synth --shape` instead',
  },
} as const satisfies Record<string, CliOption>;

/** The file MODEL_OR_SYNTH_OPTIONS choose: --synth's (written once), --model, or undefined (the demo model). */
export function modelOrSynth(values: { model?: string; synth?: string }, fail: (message: string) => never) {
  if (values.model !== undefined && values.synth !== undefined) fail('--model and --synth exclude each other');
  return values.synth === undefined ? values.model : synthModel(values.synth);
}
