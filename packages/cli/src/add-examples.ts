import type { Command } from 'commander';

/** Ends `cmd --help` with an Examples section: whole command lines, each a typical use. */
export function addExamples(cmd: Command, examples: readonly string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
}
