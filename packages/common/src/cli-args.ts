import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * node:util's parseArgs for a command-line entry point, with the comforts every command owes:
 * `-h`/`--help` prints `usage` and each option with its type and default, then exits 0; an unknown or
 * malformed option prints what was wrong and where to look, then exits 2, instead of a stack trace.
 * `usage`'s first line is the synopsis (e.g. `npm run bench:engine -- [options]`).
 */
export function parseCliArgs<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  const argv = config.args ?? process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(cliHelp(usage, config.options ?? {}));
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: ${usage.split('\n')[0]} (--help lists the options)`);
    process.exit(2);
  }
}

/** The help text: usage, then one line per option (`--name VALUE  (default ...)`). */
export function cliHelp(usage: string, options: NonNullable<ParseArgsConfig['options']>): string {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    const dflt = o.default === undefined || o.default === false ? '' : `(default ${String(o.default)})`;
    return [flag, dflt] as const;
  });
  rows.push(['-h, --help', 'this text']);
  const width = Math.max(...rows.map(([f]) => f.length));
  const [synopsis = '', ...rest] = usage.split('\n');
  return [
    `usage: ${synopsis}`,
    ...rest,
    '',
    'options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`.trimEnd()),
  ].join('\n');
}
