import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionConfig = NonNullable<ParseArgsConfig['options']>[string];

/** One command-line option: node:util's parseArgs config plus what `--help` says of it. */
export interface CliOption extends ParseArgsOptionConfig {
  /** One line: what the option sets, with its unit or format (`--help` adds the default). */
  description: string;
  /** Placeholder for a string option's value in `--help` (`--batch LIST`); VALUE when not given. */
  value?: string;
}

/** A command's interface: what `--help` prints and what parseCliArgs accepts. */
export interface CliSpec<O extends Record<string, CliOption>> {
  /** How to invoke it, e.g. `npm run bench:engine -- [options]`. */
  synopsis: string;
  /** What the command does, a short paragraph (lines are kept as given). */
  about: string;
  options: O;
  /** Whole command lines, each a typical use. */
  examples?: readonly string[];
  /** Defaults to process.argv.slice(2). */
  args?: string[];
  allowPositionals?: boolean;
}

type Parsed<O extends Record<string, CliOption>> = ReturnType<
  typeof parseArgs<{ options: O; allowPositionals: boolean; strict: true }>
>;

/** What parseCliArgs adds to parseArgs' result: checks on the values that end like a bad option does. */
export interface CliChecks<O> {
  /** Prints `message` and the synopsis with the pointer to --help, exits 2. */
  fail: (message: string) => never;
  /**
   * A comma-separated option's items, trimmed, empty ones dropped ([] when unset); with `known`, an item
   * not in it fails naming the option, the item and what is known.
   */
  list: (name: keyof O & string, known?: readonly string[]) => string[];
  /** A whole-number option's value; anything else (abc, 1.5, below `min`) fails naming the option and the value. */
  int: (name: keyof O & string, min?: number) => number;
}

/**
 * node:util's parseArgs for a command-line entry point, with the comforts every command owes:
 * `-h`/`--help` prints cliHelp(spec) and exits 0; an unknown or malformed option prints what was wrong,
 * naming the option, and where to look, then exits 2 instead of throwing a stack trace. `fail(message)`
 * does the same for a check the caller makes on the parsed values (`--synth-only needs --model-dir`).
 */
export function parseCliArgs<O extends Record<string, CliOption>>(spec: CliSpec<O>): Parsed<O> & CliChecks<O> {
  const args = spec.args ?? process.argv.slice(2);
  const fail = (message: string): never => {
    console.error(`${message}\nusage: ${spec.synopsis} (--help lists the options)`);
    process.exit(2);
  };
  if (args.includes('--help') || args.includes('-h')) {
    console.log(cliHelp(spec));
    process.exit(0);
  }
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options: spec.options, allowPositionals: spec.allowPositionals ?? false, strict: true });
  } catch (err) {
    return fail(cliErrorMessage(err as Error & { code?: string }, Object.keys(spec.options)));
  }
  const list = (name: keyof O & string, known?: readonly string[]): string[] => {
    const raw: unknown = (parsed.values as Record<string, unknown>)[name];
    const items =
      typeof raw === 'string'
        ? raw
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
        : [];
    const bad = known === undefined ? undefined : items.find((x) => !known.includes(x));
    return bad === undefined ? items : fail(`--${name}: unknown ${bad}; known: ${known?.join(', ')}`);
  };
  const int = (name: keyof O & string, min = 0): number => {
    const raw: unknown = (parsed.values as Record<string, unknown>)[name];
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    return Number.isInteger(n) && n >= min ? n : fail(`--${name} takes a whole number >= ${min}, got '${String(raw)}'`);
  };
  return { ...parsed, fail, list, int };
}

/** parseArgs' error in a command's words: an unknown option gets the nearest known one, if one is close. */
function cliErrorMessage(err: Error & { code?: string }, known: string[]): string {
  const unknown = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^']*)'/.exec(err.message)?.[1] : undefined;
  if (unknown === undefined) return err.message;
  const name = unknown.replace(/^-+/, '').split('=')[0] ?? '';
  const [near] = known
    .map((k) => [k, editDistance(k, name)] as const)
    .filter(([k, d]) => d <= Math.max(1, Math.floor(k.length / 4)))
    .sort((x, y) => x[1] - y[1])
    .map(([k]) => k);
  return `unknown option ${unknown}${near === undefined ? '' : ` (did you mean --${near}?)`}`;
}

/** Levenshtein distance, for "did you mean" on option names (a few dozen characters). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(sub, (prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The help text: synopsis, about, one row per option (`--name VALUE  description (default d)`), then the
 * examples. A boolean's false default and an unset default are not shown.
 */
export function cliHelp(
  spec: Pick<CliSpec<Record<string, CliOption>>, 'synopsis' | 'about' | 'options' | 'examples'>,
): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const dflt = o.default === undefined || o.default === false ? '' : ` (default ${String(o.default)})`;
    return [flag, o.description + dflt] as const;
  });
  rows.push(['-h, --help', 'print this text and exit']);
  const width = Math.max(...rows.map(([f]) => f.length));
  const examples = spec.examples ?? [];
  return [
    `usage: ${spec.synopsis}`,
    '',
    spec.about,
    '',
    'options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
    ...(examples.length ? ['', 'examples:', ...examples.map((e) => `  ${e}`)] : []),
  ].join('\n');
}
