import { setTimeout as sleep } from 'node:timers/promises';
import { downloadBlob } from './download-blob.js';
import { HubClient, type FileMeta } from './hub-client.js';
import { HubError } from './hub-error.js';
import { openModelStore } from './model-store.js';
import { selectFiles } from './select-files.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HfDownloadOptions {
  repo: string;
  revision?: string;
  /** fnmatch globs choosing files; default: see selectFiles. */
  include?: string[];
  /** Exactly these files (an hf:// reference naming one); each must exist in the repo. */
  files?: string[];
  /** A plain folder instead of the Hugging Face cache. */
  dir?: string;
  /** The Hugging Face cache's hub folder (default: hfHubCache()). */
  hubCache?: string;
  endpoint?: string;
  token?: string;
  /** Further tries per file after a broken connection, a corrupt body or a 5xx (each resumes). */
  retries?: number;
  onEvent?: (e: DownloadEvent) => void;
}

/** What a download reports, in order: plan, then per file start / bytes* / done, then finish. */
export type DownloadEvent =
  | {
      type: 'plan';
      repo: string;
      commit: string;
      files: { file: string; size: number }[];
      cached: string[];
      totalBytes: number;
    }
  | { type: 'start'; file: string; size: number; resumeFrom: number }
  | { type: 'bytes'; file: string; present: number; size: number }
  | { type: 'retry'; file: string; attempt: number; error: string }
  | { type: 'done'; file: string; path: string }
  | { type: 'finish'; root: string; receivedBytes: number; seconds: number };

export interface HfDownloadResult {
  /** The snapshot folder (cache) or the --dir folder. */
  root: string;
  commit: string;
  /** Repo-relative paths of the selected files, all present under `root`. */
  files: string[];
  /** Bytes that came over the network (0 when everything was cached). */
  receivedBytes: number;
}

/**
 * Download files of a Hub model repo at one commit into the Hugging Face cache (or `dir`), as
 * huggingface_hub's snapshot_download does: list the revision, skip what the snapshot already has,
 * link blobs another revision already fetched, and fetch the rest resumably.
 */
export async function hfDownload(o: HfDownloadOptions): Promise<HfDownloadResult> {
  const started = Date.now();
  const revision = o.revision ?? 'main';
  const emit = o.onEvent ?? (() => undefined);
  const client = new HubClient(o.endpoint ?? DEFAULT_ENDPOINT, o.token);
  const store = openModelStore(o.repo, { dir: o.dir, hubCache: o.hubCache });

  const info = await client.repoInfo(o.repo, revision);
  const commit = info.sha;
  let files: string[];
  if (o.files?.length) {
    const missing = o.files.filter((f) => !info.files.includes(f));
    if (missing.length)
      throw new HubError(
        `${o.repo}@${revision} has no file ${missing.join(', ')}; its files: ${info.files.join(', ')}`,
        { status: 404 },
      );
    files = o.files;
  } else files = selectFiles(info.files, o.include);

  // Files are fetched at the commit, not the branch, so one download never mixes two commits.
  const cached = files.filter((f) => store.cached(f, commit));
  const todo: { file: string; meta: FileMeta }[] = [];
  for (const file of files.filter((f) => !cached.includes(f))) {
    const meta = await client.fileMeta(o.repo, commit, file);
    if (store.reuse(file, meta.etag, commit)) cached.push(file);
    else todo.push({ file, meta });
  }
  const plan = todo.map((t) => ({ file: t.file, size: t.meta.size }));
  emit({ type: 'plan', repo: o.repo, commit, files: plan, cached, totalBytes: plan.reduce((a, p) => a + p.size, 0) });

  let receivedBytes = 0;
  for (const { file, meta: planned } of todo) {
    let meta = planned;
    for (let attempt = 0; ; attempt++) {
      try {
        const partial = store.partial(file, meta.etag);
        let first = true;
        receivedBytes += await downloadBlob(
          client,
          { repo: o.repo, commit, file, etag: meta.etag, size: meta.size, partial },
          (present) => {
            if (first) emit({ type: 'start', file, size: meta.size, resumeFrom: present });
            first = false;
            emit({ type: 'bytes', file, present, size: meta.size });
          },
        );
        emit({ type: 'done', file, path: store.place(file, meta.etag, commit) });
        break;
      } catch (err) {
        if (!(err instanceof HubError && err.retryable) || attempt >= (o.retries ?? 3)) throw err;
        emit({ type: 'retry', file, attempt: attempt + 1, error: err.message });
        await sleep(Math.min(500 * 2 ** attempt, 8_000));
        // The file may have changed (new ETag): ask again so the retry fetches the right thing.
        meta = await client.fileMeta(o.repo, commit, file);
      }
    }
  }
  store.finish(revision, commit);
  const root = store.root(commit);
  emit({ type: 'finish', root, receivedBytes, seconds: (Date.now() - started) / 1000 });
  return { root, commit, files, receivedBytes };
}
