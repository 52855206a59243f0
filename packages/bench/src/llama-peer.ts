import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The bin folder of the llama.cpp peer that scripts/build-llama-peer.sh builds: $LOOM_LLAMA_BIN (a bin
 * folder, e.g. one built elsewhere), else the script's default place ($LOOM_PEER_DIR or
 * ~/.cache/loom-peer/llama.cpp, then build/bin).
 */
export function llamaPeerBinDir(): string {
  return (
    process.env.LOOM_LLAMA_BIN ??
    path.join(process.env.LOOM_PEER_DIR ?? path.join(os.homedir(), '.cache', 'loom-peer', 'llama.cpp'), 'build', 'bin')
  );
}

/** Path of one peer tool (llama-server, llama-batched-bench, ...), or undefined when it is not built there. */
export function llamaPeerTool(tool: string): string | undefined {
  const bin = path.join(llamaPeerBinDir(), tool);
  return existsSync(bin) ? bin : undefined;
}

/** Why a peer tool is absent, for messages: where it was looked for and how to get it. */
export function llamaPeerMissing(tool: string): string {
  return `${path.join(llamaPeerBinDir(), tool)} is missing: build the peer with scripts/build-llama-peer.sh (or point LOOM_LLAMA_BIN at its bin folder)`;
}
