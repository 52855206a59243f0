import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliHelp, parseCliArgs, type CliOption } from './cli-args.js';

const OPTIONS = {
  rounds: { type: 'string', default: '3', value: 'N', description: 'rounds per system' },
  model: { type: 'string', value: 'GGUF', description: 'the model file' },
  quiet: { type: 'boolean', short: 'q', default: false, description: 'no progress' },
} satisfies Record<string, CliOption>;

test('cliHelp: synopsis, about, one line per option with its description and default, examples', () => {
  const text = cliHelp({
    synopsis: 'npm run x -- [options]',
    about: 'Does x.',
    options: OPTIONS,
    examples: ['npm run x -- --rounds 5'],
  });
  assert.equal(
    text,
    [
      'usage: npm run x -- [options]',
      '',
      'Does x.',
      '',
      'options:',
      '  --rounds N    rounds per system (default 3)',
      '  --model GGUF  the model file',
      '  -q, --quiet   no progress',
      '  -h, --help    print this text and exit',
      '',
      'examples:',
      '  npm run x -- --rounds 5',
    ].join('\n'),
  );
});

test('parseCliArgs parses like parseArgs when there is no --help', () => {
  const { values } = parseCliArgs({ synopsis: 'x', about: '', args: ['--rounds', '5'], options: OPTIONS });
  assert.equal(values.rounds, '5');
  assert.equal(values.quiet, false);
});

/** Runs parseCliArgs in a child (it exits the process on --help and on errors) with these arguments. */
function child(args: string[]) {
  const src = `
    const { parseCliArgs } = await import(${JSON.stringify(fileURLToPath(new URL('./cli-args.js', import.meta.url)))});
    const { values, fail, int } = parseCliArgs({ synopsis: 'x [options]', about: 'Does x.', options: ${JSON.stringify(OPTIONS)}, args: JSON.parse(process.env.ARGS) });
    if (values.model === 'n') int('rounds', 1);
    if (values.rounds === '0') fail('--rounds takes a positive integer');
    console.log(JSON.stringify(values));`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', src], {
    encoding: 'utf8',
    env: { ...process.env, ARGS: JSON.stringify(args) },
  });
}

test('--help prints every declared option with its description, exit 0', () => {
  const r = child(['--rounds', '2', '--help']);
  assert.equal(r.status, 0, r.stderr);
  for (const [name, o] of Object.entries(OPTIONS)) assert.match(r.stdout, new RegExp(`--${name}\\b.*${o.description}`));
});

test('an unknown option exits 2 naming it, the nearest known option and --help', () => {
  const r = child(['--round', '2']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option --round \(did you mean --rounds\?\)/);
  assert.match(r.stderr, /usage: x \[options\] \(--help lists the options\)/);
  const far = child(['--bogus']);
  assert.equal(far.status, 2);
  assert.match(far.stderr, /^unknown option --bogus\n/);
});

test('a missing value and fail() exit 2 with the message and the pointer to --help', () => {
  const missing = child(['--model']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--model <value>' argument missing[\s\S]*--help lists the options/);
  const failed = child(['--rounds', '0']);
  assert.equal(failed.status, 2);
  assert.match(failed.stderr, /^--rounds takes a positive integer\nusage: x/);
});

test('int() takes whole numbers from min up, and fails naming the option and the value otherwise', () => {
  assert.equal(child(['--model', 'n', '--rounds', '4']).status, 0);
  for (const bad of ['abc', '1.5', '-2', '0', '']) {
    const r = child(['--model', 'n', `--rounds=${bad}`]);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, new RegExp(`^--rounds takes a whole number >= 1, got '${bad}'\n`), bad);
  }
});
