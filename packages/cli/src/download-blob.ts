import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HubClient } from './hub-client.js';
import { HubError } from './hub-error.js';

export interface BlobSpec {
  repo: string;
  /** The commit the file is fetched at. */
  commit: string;
  file: string;
  /** From the file's HEAD: its identity and length. */
  etag: string;
  size: number;
  /** Where the bytes accumulate until they are complete and verified. */
  partial: string;
}

/** A 64-hex ETag is the sha256 of the content (the Hub's LFS files): worth checking. */
const isSha256 = (etag: string) => /^[0-9a-f]{64}$/.test(etag);

async function hashOf(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/**
 * Bring `spec.partial` to the complete, verified content of the file: continue what is there with a
 * Range request, or start over when the server answers 200 (no ranges, or a different file). Calls
 * `onBytes` with the bytes present so far. Throws a retryable HubError when the connection drops
 * (what arrived stays, so the next try resumes) or the result is corrupt (then it is deleted).
 * Returns how many bytes came over the network.
 */
export async function downloadBlob(
  client: HubClient,
  spec: BlobSpec,
  onBytes: (present: number) => void,
): Promise<number> {
  mkdirSync(dirname(spec.partial), { recursive: true });
  let have = existsSync(spec.partial) ? statSync(spec.partial).size : 0;
  if (have > spec.size) {
    truncateSync(spec.partial, 0);
    have = 0;
  }
  const hash = isSha256(spec.etag) ? createHash('sha256') : undefined;
  let received = 0;
  if (have < spec.size) {
    const res = await client.download(spec.repo, spec.commit, spec.file, spec.etag, have);
    const range = res.headers.get('content-range');
    // A 206 must start where we are; anything else (200: no Range support or a new file) restarts.
    if (!(res.status === 206 && have > 0 && range?.startsWith(`bytes ${have}-`))) have = 0;
    if (hash && have > 0) await hashOf(spec.partial, hash);
    onBytes(have);
    let present = have;
    // Awaited writes, not a piped stream: when the connection drops, every byte that arrived is on disk.
    const out = await open(spec.partial, have > 0 ? 'a' : 'w');
    try {
      if (!res.body) throw new Error('empty body');
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        hash?.update(chunk);
        await out.write(chunk);
        present += chunk.length;
        received += chunk.length;
        onBytes(present);
      }
    } catch (err) {
      throw new HubError(
        `download of ${spec.repo}/${spec.file} broke off at ${present} of ${spec.size} bytes ` +
          `(${(err as Error).message}); what arrived is kept and a rerun resumes it`,
        { retryable: true },
      );
    } finally {
      await out.close();
    }
  } else {
    if (hash) await hashOf(spec.partial, hash);
    onBytes(have);
  }
  const got = statSync(spec.partial).size;
  if (got !== spec.size) {
    if (got > spec.size) unlinkSync(spec.partial);
    throw new HubError(`${spec.repo}/${spec.file}: got ${got} bytes, the Hub said ${spec.size}`, { retryable: true });
  }
  const digest = hash?.digest('hex');
  if (digest && digest !== spec.etag) {
    unlinkSync(spec.partial);
    throw new HubError(
      `${spec.repo}/${spec.file}: sha256 ${digest} does not match the Hub's ${spec.etag}; the corrupt copy was deleted`,
      { retryable: true },
    );
  }
  return received;
}
