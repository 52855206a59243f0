import { existsSync } from 'node:fs';
import { llamaPeerMissing, llamaPeerTool } from '@loom/bench';
import { freePort, spawnProcess, waitFor, type ManagedProcess } from '@loom/testing';

/** The llama-server that scripts/build-llama-peer.sh builds: $LLAMA_SERVER, else the peer's bin folder. */
export function llamaServerBin(): string {
  const bin = process.env.LLAMA_SERVER ?? llamaPeerTool('llama-server');
  if (bin === undefined || !existsSync(bin))
    throw new Error(bin === undefined ? llamaPeerMissing('llama-server') : `LLAMA_SERVER=${bin} is missing`);
  return bin;
}

export interface LlamaServer {
  baseUrl: string;
  proc: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * llama-server on loopback serving `model` with `parallel` slots of `ctxPerSlot` tokens each
 * (continuous batching, its defaults otherwise, then `extraArgs`), on `threads` threads; resolves once
 * /health is 200.
 */
export async function startLlamaServer(o: {
  model: string;
  threads: number;
  parallel: number;
  ctxPerSlot: number;
  /** More flags, after these (e.g. `--embeddings`). */
  extraArgs?: string[];
}): Promise<LlamaServer> {
  const port = await freePort();
  const proc = spawnProcess(
    llamaServerBin(),
    [
      ...['-m', o.model, '--host', '127.0.0.1', '--port', String(port)],
      ...['-t', String(o.threads), '-tb', String(o.threads), '-ngl', '0'],
      ...['-np', String(o.parallel), '-c', String(o.parallel * o.ctxPerSlot), '--no-webui'],
      ...(o.extraArgs ?? []),
    ],
    { name: 'llama-server' },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${baseUrl}/health`).catch(() => undefined))?.status === 200, {
      timeoutMs: 60_000,
    });
  } catch (err) {
    await proc.stop();
    throw new Error(`llama-server did not become healthy: ${(err as Error).message}\n${proc.output().slice(-2000)}`);
  }
  return { baseUrl, proc, stop: async () => void (await proc.stop()) };
}
