import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { OPTIONS } from '@loom/common';
import type { Command } from 'commander';
import { createProgram } from './program.js';

/** `loom <args> --help` output, without exiting the test process. */
function helpOf(args: string[]): string {
  let out = '';
  const program = createProgram()
    .exitOverride()
    .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  for (const [, c] of commandsOf(program))
    c.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  assert.throws(() => program.parse([...args, '--help'], { from: 'user' }), { code: 'commander.helpDisplayed' });
  return out;
}

describe('loom --help', () => {
  it('lists the four commands', () => {
    const help = helpOf([]);
    for (const c of ['up', 'gateway', 'scheduler', 'worker'])
      assert.match(help, new RegExp(`^\\s+${c} \\[options\\]`, 'm'));
  });

  for (const command of ['up', 'gateway', 'scheduler', 'worker']) {
    it(`loom ${command} --help shows every setting with its env twin`, () => {
      const help = helpOf([command]).replace(/\s+/g, ' ');
      assert.match(help, new RegExp(`Usage: loom ${command} \\[options\\]`));
      for (const o of OPTIONS) {
        assert.ok(help.includes(o.flag), `${o.flag} missing from loom ${command} --help`);
        assert.ok(help.includes(`env: ${o.env}`), `env twin ${o.env} missing from loom ${command} --help`);
      }
    });
  }
});

describe('loom status --help', () => {
  it('names its flags and their env twins', () => {
    const help = helpOf(['status']).replace(/\s+/g, ' ');
    for (const part of [
      '--url <url>',
      'env: LOOM_URL',
      '--api-key <key>',
      'env: LOOM_API_KEY',
      '--json',
      '--watch [seconds]',
    ])
      assert.ok(help.includes(part), `${part} missing from loom status --help`);
    assert.ok(help.includes('default: "http://127.0.0.1:8000"'), 'defaults to where loom up serves');
  });
});

/** Every command under `loom`, with the words that invoke it (`['model', 'synth']`). */
function commandsOf(cmd: Command, path: string[] = []): [string[], Command][] {
  return cmd.commands.flatMap((c) => [
    [[...path, c.name()], c] as [string[], Command],
    ...commandsOf(c, [...path, c.name()]),
  ]);
}

describe('every loom command', () => {
  const commands = commandsOf(createProgram()).filter(([path]) => !path.includes('help'));

  it('describes itself and each of its options', () => {
    for (const [path, c] of commands) {
      assert.ok(c.description(), `loom ${path.join(' ')} has no description`);
      for (const o of c.options) assert.ok(o.description, `loom ${path.join(' ')} ${o.flags} has no description`);
    }
  });

  for (const [path, c] of commandsOf(createProgram())) {
    if (c.commands.length > 0) continue;
    it(`loom ${path.join(' ')} --help lists each option and examples`, () => {
      const help = helpOf(path);
      for (const o of c.options)
        assert.ok(help.includes(o.flags), `${o.flags} missing from loom ${path.join(' ')} --help`);
      assert.match(help, /\nExamples:\n {2}\$ loom /);
    });

    it(`loom ${path.join(' ')} --no-such-flag fails naming it`, () => {
      let err = '';
      // Commander reports a missing mandatory option (synth's --out) before an unknown one.
      const mandatory = c.options.filter((o) => o.mandatory).flatMap((o) => [o.long ?? '', 'x']);
      const program = createProgram();
      for (const [, sub] of [[[], program] as const, ...commandsOf(program)])
        sub.exitOverride().configureOutput({ writeOut: () => {}, writeErr: (s) => (err += s) });
      assert.throws(() => program.parse([...path, ...mandatory, '--no-such-flag'], { from: 'user' }), {
        code: 'commander.unknownOption',
      });
      assert.match(err, /unknown option '--no-such-flag'/);
      assert.match(err, /run with --help for usage/);
    });
  }
});
