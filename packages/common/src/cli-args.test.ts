import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliHelp, parseCliArgs } from './cli-args.js';

test('cliHelp: synopsis, description, one line per option with its default, and --help', () => {
  const text = cliHelp('npm run x -- [options]\n\nDoes x.', {
    rounds: { type: 'string', default: '3' },
    model: { type: 'string' },
    quiet: { type: 'boolean', short: 'q', default: false },
  });
  assert.equal(
    text,
    [
      'usage: npm run x -- [options]',
      '',
      'Does x.',
      '',
      'options:',
      '  --rounds VALUE  (default 3)',
      '  --model VALUE',
      '  -q, --quiet',
      '  -h, --help      this text',
    ].join('\n'),
  );
});

test('parseCliArgs parses like parseArgs when there is no --help', () => {
  const { values } = parseCliArgs('x', { args: ['--rounds', '5'], options: { rounds: { type: 'string' } } });
  assert.equal(values.rounds, '5');
});
