import { Command } from 'commander';
import { addExamples } from './add-examples.js';
import { addBenchCommand } from './bench-command.js';
import { addConfigOptions, configOf } from './config-options.js';
import { addModelDownloadCommand } from './model-download-command.js';
import { addModelCommand } from './model-synth-command.js';
import { runService } from './run-service.js';
import { addStatusCommand } from './status-command.js';
import type { ServiceKind } from './service-kinds.js';
import { runUp } from './up.js';

const SERVICE_EXAMPLES: Record<ServiceKind, string[]> = {
  gateway: ['loom gateway --redis-url redis://10.0.0.5:6379 --model model.gguf --port 8000'],
  scheduler: ['loom scheduler --redis-url redis://10.0.0.5:6379 --model model.gguf'],
  worker: [
    'loom worker --redis-url redis://10.0.0.5:6379 --model ./model.gguf --worker-port 50051 --threads 8',
    'LOOM_MODEL=hf://org/name REDIS_URL=redis://10.0.0.5:6379 loom worker',
  ],
};

const SERVICE_HELP: Record<ServiceKind, string> = {
  gateway: 'run the OpenAI-compatible HTTP gateway (needs Redis; not the model weights)',
  scheduler: 'run the scheduler: queue intake, routing and the step loop of every worker (needs Redis)',
  worker: 'run one worker: the native engine behind a gRPC server (needs the model file and Redis)',
};

/**
 * The `loom` command tree. Every command takes every setting as a flag with its env twin
 * (flag > env > default); `loom <command> --help` lists them.
 */
export function createProgram(): Command {
  const program = addExamples(
    new Command('loom')
      .description('Loom: a distributed LLM serving cluster with an OpenAI-compatible API')
      .showHelpAfterError('(run with --help for usage)'),
    ['loom up --model ./model.gguf', 'loom status --watch 5', 'loom worker --help'],
  );

  addConfigOptions(
    addExamples(
      program
        .command('up')
        .description('run a local cluster: --workers N workers, one scheduler and one gateway as child processes'),
      ['loom up --model ./model.gguf --workers 2', 'loom up --model hf://org/name --port 8080 --threads 4'],
    ),
  ).action(async (_opts, cmd: Command) => runUp(configOf(cmd)));

  for (const kind of ['gateway', 'scheduler', 'worker'] as const) {
    addConfigOptions(addExamples(program.command(kind).description(SERVICE_HELP[kind]), SERVICE_EXAMPLES[kind])).action(
      async (_opts, cmd: Command) => runService(kind, configOf(cmd)),
    );
  }
  addStatusCommand(program);
  addModelCommand(program);
  addModelDownloadCommand(program);
  addBenchCommand(program);
  return program;
}
