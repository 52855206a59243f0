/**
 * The `loom model synth` subcommand: options, a progress bar on stderr (cli-progress), one summary line.
 */
import { statSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { addExamples } from './add-examples.js';
import { readGgufMetadata, type ModelArch } from '@loom/gguf';
import { NAMED_SHAPES, parameterCount, parseShape, SYNTH_ARCHS } from './model-synth-shapes.js';
import { SYNTH_DTYPES, synthDataBytes, synthModel, synthVocabFile, type SynthDtype } from './model-synth.js';
import { FAMILY_VOCAB } from './synth-vocab.js';

interface Bar {
  update(done: number): void;
  stop(): void;
}

/** A MiB bar on stderr. */
function progressBar(total: number, label: string): Bar {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, noTTYOutput: false, format: `${label} [{bar}] {percentage}% | {value}/{total} MiB` },
    cliProgress.Presets.shades_classic,
  );
  const mib = (n: number) => Math.round(n / 1048576);
  bar.start(mib(total), 0);
  return { update: (d) => bar.update(mib(d)), stop: () => bar.stop() };
}

interface SynthCommandOptions {
  arch?: ModelArch;
  shape?: string;
  dtype: SynthDtype;
  out: string;
  seed: string;
  vocabFrom?: string;
  quiet?: boolean;
}

export function addModelCommand(program: Command): void {
  const model = program.command('model').description('model file tools');
  addExamples(model.command('synth'), [
    'loom model synth --shape stories15M --dtype q8_0 -o stories15M-q8_0.gguf',
    'loom model synth --arch qwen3 --shape dim=256,hidden=512,layers=4 -o tiny-qwen3.gguf',
  ])
    .description(
      "write a random-weight GGUF of a supported family in a real model's shape with a real vocabulary (loads in Loom and llama.cpp)",
    )
    .addOption(
      new Option('--arch <family>', "architecture (default: the named shape's, else llama)").choices([...SYNTH_ARCHS]),
    )
    .option(
      '--shape <name|dims>',
      `default: <arch>-tiny; ${Object.keys(NAMED_SHAPES).join(', ')}; or dims over the family's tiny shape ` +
        `like dim=288,hidden=768,layers=6,heads=6,kv_heads=2,head_dim=64,ctx=256,window=16`,
    )
    .addOption(
      new Option(
        '--dtype <type>',
        'weight type of every matrix (norms stay f32), or a llama-quantize file type (Q2_K, Q3_K_M, Q4_K_M, ' +
          'Q5_K_M, Q6_K, Q8_0, IQ4_XS) choosing per tensor as llama-quantize does',
      )
        .choices([...SYNTH_DTYPES])
        .default('f32'),
    )
    .requiredOption('-o, --out <file>', 'GGUF file to write')
    .option('--seed <n>', 'weights are a function of the seed and the tensor name', '0')
    .option(
      '--vocab-from <gguf>',
      `copy tokenizer.ggml.* from this GGUF, a file or one of these names (default per family: ${Object.entries(
        FAMILY_VOCAB,
      )
        .map(([a, v]) => `${a} ${v}`)
        .join(', ')})`,
    )
    .option('--quiet', 'no progress bar')
    .action((opts: SynthCommandOptions, cmd: Command) => {
      try {
        synth(opts);
      } catch (e) {
        cmd.error(`error: ${(e as Error).message}`); // a bad shape, vocabulary or file: the message, no stack
      }
    });
}

function synth(opts: SynthCommandOptions): void {
  const shape = parseShape(opts.shape, opts.arch);
  const seed = Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`--seed ${opts.seed}: not a uint32`);
  const vocabFrom = synthVocabFile(shape, opts.vocabFrom);
  const vocab = readGgufMetadata(vocabFrom).metadata.get('tokenizer.ggml.tokens');
  const nVocab = Array.isArray(vocab) ? vocab.length : 0;
  const bar = opts.quiet
    ? undefined
    : progressBar(synthDataBytes(shape, opts.dtype, nVocab), `synth ${shape.arch} ${opts.dtype}`);
  synthModel({
    shape,
    dtype: opts.dtype,
    out: opts.out,
    seed,
    vocabFrom,
    onProgress: bar && ((done) => bar.update(done)),
  });
  bar?.stop();
  const size = statSync(opts.out).size;
  console.log(
    `${opts.out}: ${shape.arch} ${opts.dtype}, ${(parameterCount(shape, nVocab) / 1e6).toFixed(1)}M parameters, ${(size / 1048576).toFixed(1)} MiB`,
  );
}
