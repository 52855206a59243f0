import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { OPTIONS } from '@loom/common';
import { createProgram } from './program.js';

/** `loom <args> --help` output, without exiting the test process. */
function helpOf(args: string[]): string {
  let out = '';
  const program = createProgram()
    .exitOverride()
    .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  for (const c of program.commands)
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
