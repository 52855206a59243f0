import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnProcess, waitFor, type ManagedProcess } from '@loom/testing';

/**
 * The llama-server that scripts/build-llama-peer.sh builds: $LLAMA_SERVER, else the script's default
 * place ($LOOM_PEER_DIR or ~/.cache/loom-peer/llama.cpp).
 */
export function llamaServerBin(): string {
  const bin =
    process.env.LLAMA_SERVER ??
    path.join(
      process.env.LOOM_PEER_DIR ?? path.join(os.homedir(), '.cache', 'loom-peer', 'llama.cpp'),
      'build',
      'bin',
      'llama-server',
    );
  if (!existsSync(bin))
    throw new Error(
      `${bin} is missing: build the peer with scripts/build-llama-peer.sh (or point LLAMA_SERVER at one)`,
    );
  return bin;
}

export interface LlamaServer {
  baseUrl: string;
  proc: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * llama-server on loopback serving `model` with `parallel` slots of `ctxPerSlot` tokens each
 * (continuous batching, its defaults otherwise), on `threads` threads; resolves once /health is 200.
 */
export async function startLlamaServer(o: {
  model: string;
  threads: number;
  parallel: number;
  ctxPerSlot: number;
}): Promise<LlamaServer> {
  const port = await freePort();
  const proc = spawnProcess(
    llamaServerBin(),
    [
      ...['-m', o.model, '--host', '127.0.0.1', '--port', String(port)],
      ...['-t', String(o.threads), '-tb', String(o.threads), '-ngl', '0'],
      ...['-np', String(o.parallel), '-c', String(o.parallel * o.ctxPerSlot), '--no-webui'],
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
