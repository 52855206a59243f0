/** The `loom model download` subcommand: options with env twins, progress on stderr, the local path on stdout. */
import { Command, Option } from 'commander';
import { addExamples } from './add-examples.js';
import { downloadProgress } from './download-progress.js';
import { DEFAULT_ENDPOINT, hfDownload } from './hf-download.js';
import { parseHfRef } from './hf-ref.js';
import { hfToken } from './hf-token.js';

interface DownloadOpts {
  revision?: string;
  include?: string[];
  dir?: string;
  token?: string;
  endpoint: string;
  retries: string;
}

/** Add `download` under the `model` command group, creating the group when no one has yet. */
export function addModelDownloadCommand(program: Command): void {
  const model =
    program.commands.find((c) => c.name() === 'model') ?? program.command('model').description('model file tools');
  addExamples(model.command('download'), [
    'loom model download org/name',
    "loom model download org/name --include '*Q4_K_M.gguf' --dir ./models",
  ])
    .description(
      'download a model from the Hugging Face Hub into its cache (or --dir), resuming partial downloads; prints the local path',
    )
    .argument('<repo>', 'repo id org/name (or hf://org/name[@revision][/file])')
    .option('--revision <rev>', 'branch, tag or commit (default: main)')
    .option(
      '--include <glob...>',
      'files to fetch (fnmatch globs); default: the one GGUF, or *.safetensors, *.json and tokenizer.model',
    )
    .option('--dir <path>', 'write the files plainly into this folder instead of the Hugging Face cache ($HF_HOME/hub)')
    .addOption(
      new Option(
        '--token <token>',
        'Hugging Face access token for private or gated repos (default: the saved login token)',
      ).env('HF_TOKEN'),
    )
    .addOption(
      new Option('--endpoint <url>', 'Hub URL (a mirror speaking the same API works)')
        .env('HF_ENDPOINT')
        .default(DEFAULT_ENDPOINT),
    )
    .option('--retries <n>', 'further tries per file after a broken connection (each resumes)', '3')
    .action(async (repoArg: string, opts: DownloadOpts) => {
      const progress = await downloadProgress(process.stderr);
      try {
        const ref = parseHfRef(repoArg);
        const repo = ref?.repo ?? repoArg;
        if (!/^[\w.-]+\/[\w.-]+$/.test(repo))
          throw new Error(`bad repo id ${repoArg}: expected org/name, e.g. ggml-org/models`);
        const result = await hfDownload({
          repo,
          revision: opts.revision ?? ref?.revision,
          files: ref?.file ? [ref.file] : undefined,
          include: opts.include,
          dir: opts.dir,
          token: opts.token ?? hfToken(),
          endpoint: opts.endpoint,
          retries: Number(opts.retries),
          onEvent: (e) => progress.onEvent(e),
        });
        // One file: its path (what --model takes); several: the folder holding them.
        console.log(result.files.length === 1 ? `${result.root}/${result.files[0]}` : result.root);
      } catch (err) {
        progress.stop();
        process.stderr.write(`loom model download: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
