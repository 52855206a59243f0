import cliProgress from 'cli-progress';
import type { DownloadEvent } from './hf-download.js';

/** Renders download events: cli-progress bars on a terminal, JSON lines for anything else. */
export interface DownloadProgress {
  onEvent(e: DownloadEvent): void;
  /** Take the bars down (also on failure, so the terminal is left clean). */
  stop(): void;
}

const MiB = 1024 * 1024;
/** Width of the name column of the bars. */
const NAME = 18;
const human = (n: number) =>
  n >= 1024 * MiB
    ? `${(n / 1024 / MiB).toFixed(2)} GiB`
    : n >= MiB
      ? `${(n / MiB).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(1)} KiB`;

/** Bytes per second over the last few seconds, so a stall shows promptly. */
function speedMeter(windowMs = 5_000) {
  const samples: { t: number; total: number }[] = [];
  return (total: number): number => {
    const t = Date.now();
    samples.push({ t, total });
    while (samples.length > 2 && t - (samples[0]?.t ?? t) > windowMs) samples.shift();
    const first = samples[0] ?? { t, total }; // never empty: this call pushed one
    return t > first.t ? ((total - first.total) * 1000) / (t - first.t) : 0;
  };
}

type MultiBar = cliProgress.MultiBar;
type Bar = cliProgress.SingleBar;

function multiBar(stream: NodeJS.WriteStream): MultiBar {
  return new cliProgress.MultiBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      // Narrow enough for an 80-column terminal (cli-progress cuts longer lines).
      format: '{name} {bar} {percentage}% {done}/{all} {speed}/s ETA {eta_formatted}',
      barsize: 12,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
}

/**
 * A progress reporter writing to `stream`: a bar per file and one overall (bytes, speed, ETA) when
 * it is a TTY, else one JSON line per event and at most one progress line per second per file.
 */
export async function downloadProgress(stream: NodeJS.WriteStream = process.stderr): Promise<DownloadProgress> {
  const bars = stream.isTTY ? multiBar(stream) : undefined;
  let overallTotal = 0;
  let doneBefore = 0; // bytes of the files finished so far
  let current = 0; // bytes present of the file in flight
  const speed = speedMeter();
  let overall: Bar | undefined;
  let fileBar: Bar | undefined;
  let lastLine = 0;
  const line = (o: object) => stream.write(`${JSON.stringify({ event: 'download', ...o })}\n`);

  return {
    onEvent(e) {
      if (e.type === 'plan') {
        overallTotal = e.totalBytes;
        const summary = {
          repo: e.repo,
          commit: e.commit,
          files: e.files.length,
          cached: e.cached.length,
          total_bytes: e.totalBytes,
        };
        if (!bars) return line({ phase: 'plan', ...summary });
        stream.write(
          `${e.repo}@${e.commit.slice(0, 10)}: ${e.files.length} file(s) to fetch, ${human(e.totalBytes)}; ${e.cached.length} already cached\n`,
        );
        if (e.files.length)
          overall = bars.create(overallTotal, 0, {
            name: 'total'.padEnd(NAME),
            done: human(0),
            all: human(overallTotal),
            speed: human(0),
          });
      } else if (e.type === 'start') {
        current = e.resumeFrom;
        const name = e.file.length > NAME ? `…${e.file.slice(1 - NAME)}` : e.file.padEnd(NAME);
        if (bars && fileBar) bars.remove(fileBar); // a retry starts the file's bar again
        if (bars)
          fileBar = bars.create(e.size, e.resumeFrom, {
            name,
            done: human(e.resumeFrom),
            all: human(e.size),
            speed: human(0),
          });
        else line({ phase: 'start', file: e.file, size: e.size, resume_from: e.resumeFrom });
      } else if (e.type === 'bytes') {
        current = e.present;
        const all = doneBefore + current;
        const bps = speed(all);
        if (bars) {
          fileBar?.update(e.present, { done: human(e.present), speed: human(bps) });
          overall?.update(all, { done: human(all), speed: human(bps) });
        } else if (Date.now() - lastLine >= 1000) {
          lastLine = Date.now();
          const eta = bps > 0 ? Math.round((overallTotal - all) / bps) : null;
          line({
            phase: 'progress',
            file: e.file,
            bytes: e.present,
            size: e.size,
            total_bytes: all,
            total_size: overallTotal,
            bytes_per_second: Math.round(bps),
            eta_seconds: eta,
          });
        }
      } else if (e.type === 'done') {
        doneBefore += current;
        current = 0;
        if (bars) fileBar = undefined;
        else line({ phase: 'done', file: e.file, path: e.path });
      } else if (e.type === 'retry') {
        if (bars) stream.write(`\nretry ${e.attempt} for ${e.file}: ${e.error}\n`);
        else line({ phase: 'retry', file: e.file, attempt: e.attempt, error: e.error });
      } else if (e.type === 'finish') {
        bars?.stop();
        if (!bars) line({ phase: 'finish', path: e.root, received_bytes: e.receivedBytes, seconds: e.seconds });
      }
    },
    stop: () => bars?.stop(),
  };
}
