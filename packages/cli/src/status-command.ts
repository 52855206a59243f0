import { Command, InvalidArgumentError, Option } from 'commander';
import { addExamples } from './add-examples.js';
import { OPTIONS, type ClusterStatus } from '@loom/common';
import { statusText } from './status-text.js';

const defaultOf = (key: string) => OPTIONS.find((o) => o.key === key)!.default;
/** Where `loom up` serves by default. */
const DEFAULT_URL = `http://${defaultOf('host')}:${defaultOf('port')}`;

/** A refusal worth a clear one-line message and exit status 1, not a stack trace. */
class StatusError extends Error {}

/** `loom status`: the cluster view of a gateway's GET /status, once or every few seconds. */
export function addStatusCommand(program: Command): void {
  addExamples(program.command('status'), ['loom status --watch 5', 'loom status --url http://10.0.0.5:8000 --json'])
    .description("print the cluster's workers, queues, scheduler leader and latencies (the web page's cluster view)")
    .addOption(
      new Option('--url <url>', 'gateway base URL (a trailing /v1 is fine)').env('LOOM_URL').default(DEFAULT_URL),
    )
    .addOption(new Option('--api-key <key>', 'API key, when the gateway requires one').env('LOOM_API_KEY'))
    .option('--json', "print GET /status's JSON document as is")
    .addOption(
      new Option('--watch [seconds]', 'print again every N seconds (default 2) until Ctrl-C').argParser(
        (raw: string) => {
          const n = Number(raw);
          if (!(n > 0)) throw new InvalidArgumentError(`--watch takes a number of seconds > 0, got "${raw}"`);
          return n;
        },
      ),
    )
    .action(async (opts: { url: string; apiKey?: string; json?: boolean; watch?: number | true }) => {
      const base = opts.url.replace(/\/+$/, '').replace(/\/v1$/, '');
      const show = async () => {
        const status = await fetchStatus(base, opts.apiKey);
        return opts.json ? JSON.stringify(status, null, 2) + '\n' : statusText(status, base);
      };
      try {
        if (opts.watch === undefined) return void process.stdout.write(await show());
        const everyMs = (opts.watch === true ? 2 : opts.watch) * 1000;
        // `loom status --watch | head`: a reader that went away ends the watch, quietly.
        process.stdout.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EPIPE') throw err;
          process.exit(0);
        });
        for (;;) {
          const text = await show().catch((err: Error) => `${err.message}\n`);
          // At a terminal, redraw in place; piped, append one view after another.
          process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${text}` : `${text}\n`);
          await new Promise((r) => setTimeout(r, everyMs));
        }
      } catch (err) {
        if (!(err instanceof StatusError)) throw err;
        process.stderr.write(`loom status: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}

async function fetchStatus(base: string, apiKey: string | undefined): Promise<ClusterStatus> {
  let res: Response;
  try {
    res = await fetch(`${base}/status`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const why = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new StatusError(`no gateway answers at ${base} (${why})`);
  }
  if (res.status === 401)
    throw new StatusError(`the gateway at ${base} needs an API key: pass --api-key or set LOOM_API_KEY`);
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new StatusError(`GET ${base}/status answered ${res.status}: ${body?.error?.message ?? res.statusText}`);
  }
  return (await res.json()) as ClusterStatus;
}
