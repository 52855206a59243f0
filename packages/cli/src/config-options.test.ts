import { strict as assert } from 'node:assert';
import { afterEach, describe, it } from 'node:test';
import { Command } from 'commander';
import { OPTIONS } from '@loom/common';
import { addConfigOptions, configOf, envOf } from './config-options.js';

/** A bare command with every Loom option, parsing `args` as user input without exiting the test process. */
function parse(args: string[]) {
  const cmd = addConfigOptions(new Command('t'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  cmd.parse(args, { from: 'user' });
  return configOf(cmd);
}

const touched = new Set<string>();
function setEnv(name: string, value: string) {
  touched.add(name);
  process.env[name] = value;
}
afterEach(() => {
  for (const name of touched) delete process.env[name];
  touched.clear();
});

describe('config options', () => {
  it('gives every OPTIONS default when nothing is set', () => {
    const config = parse([]);
    for (const o of OPTIONS) assert.equal(config[o.key], o.default ?? '', o.key);
  });

  it('reads the env twin, parsing ints', () => {
    setEnv('PORT', '9001');
    setEnv('REDIS_URL', 'redis://example:7000');
    const config = parse([]);
    assert.equal(config.port, 9001);
    assert.equal(config.redisUrl, 'redis://example:7000');
  });

  it('lets a flag override its env twin', () => {
    setEnv('LOOM_WORKERS', '3');
    assert.equal(parse(['--workers', '5']).workers, 5);
  });

  it('rejects a bad int from a flag with a message naming flag and env', () => {
    assert.throws(
      () => parse(['--port', 'eighty']),
      (err: Error) => {
        assert.match(err.message, /--port \/ PORT must be an integer, got "eighty"/);
        return true;
      },
    );
  });

  it('rejects a bad int from the env twin', () => {
    setEnv('LOOM_BLOCK_SIZE', '1.5');
    assert.throws(() => parse([]), /LOOM_BLOCK_SIZE must be an integer, got "1.5"/);
  });

  it('round-trips a config through env twins (how loom up configures its children)', () => {
    const config = parse(['--workers', '2', '--model', '/m.gguf', '--api-keys', 'a,b']);
    for (const [k, v] of Object.entries(envOf(config))) setEnv(k, v);
    assert.deepEqual(parse([]), config);
  });
});
