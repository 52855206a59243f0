/**
 * The `loom model synth` subcommand: options, a progress bar on stderr (cli-progress), one summary line.
 */
import { statSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { parameterCount, parseShape } from './model-synth-shapes.js';
import { DEFAULT_VOCAB_GGUF, SYNTH_DTYPES, synthDataBytes, synthModel, type SynthDtype } from './model-synth.js';

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

export function addModelCommand(program: Command): void {
  const model = program.command('model').description('model file tools');
  model
    .command('synth')
    .description(
      "write a random-weight Llama GGUF in a real model's shape with a real vocabulary (for benchmarks; loads in Loom and llama.cpp)",
    )
    .requiredOption(
      '--shape <name|dims>',
      'stories15M, stories15M-gqa, stories42M, stories110M, tinyllama-1.1B, llama2-7B, or dims like dim=288,hidden=768,layers=6,heads=6,kv_heads=2,vocab=32000,ctx=256',
    )
    .addOption(
      new Option('--dtype <type>', 'weight type of the matrices (norms stay f32)')
        .choices([...SYNTH_DTYPES])
        .default('f32'),
    )
    .requiredOption('-o, --out <file>', 'GGUF file to write')
    .option('--seed <n>', 'weights are a function of the seed and the tensor name', '0')
    .option('--vocab-from <gguf>', 'copy tokenizer.ggml.* from this GGUF', DEFAULT_VOCAB_GGUF)
    .option('--quiet', 'no progress bar')
    .action(
      async (opts: {
        shape: string;
        dtype: SynthDtype;
        out: string;
        seed: string;
        vocabFrom: string;
        quiet?: boolean;
      }) => {
        const shape = parseShape(opts.shape);
        const seed = Number(opts.seed);
        if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
          throw new Error(`--seed ${opts.seed}: not a uint32`);
        const bar = opts.quiet
          ? undefined
          : progressBar(synthDataBytes(shape, opts.dtype), `synth ${opts.shape} ${opts.dtype}`);
        synthModel({
          shape,
          dtype: opts.dtype,
          out: opts.out,
          seed,
          vocabFrom: opts.vocabFrom,
          onProgress: bar && ((done) => bar.update(done)),
        });
        bar?.stop();
        const size = statSync(opts.out).size;
        console.log(
          `${opts.out}: ${opts.dtype}, ${(parameterCount(shape) / 1e6).toFixed(1)}M parameters, ${(size / 1048576).toFixed(1)} MiB`,
        );
      },
    );
}
