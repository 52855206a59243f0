import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/**
 * Where downloaded files live. Two layouts: the Hugging Face cache (shared with transformers,
 * vLLM and huggingface-cli, so a model fetched by any of them is reused) and a plain folder.
 */
export interface ModelStore {
  /** What a download of `commit` leaves to serve: the snapshot folder, or the plain folder. */
  root(commit: string): string;
  /** The complete local copy of `file` at `commit`, if there is one: no network needed. */
  cached(file: string, commit: string): string | undefined;
  /** The same content (by ETag) is already here under another revision: link or record it, return its path. */
  reuse(file: string, etag: string, commit: string): string | undefined;
  /** Where the bytes of a file with this ETag collect until complete. */
  partial(file: string, etag: string): string;
  /** Move a complete, verified partial into place; returns the file's path. */
  place(file: string, etag: string, commit: string): string;
  /** Record that `revision` is `commit` (the cache's refs/), so later offline runs find it. */
  finish(revision: string, commit: string): void;
  /** The commit a revision was last downloaded at, when it is known here (for offline use). */
  knownCommit(revision: string): string | undefined;
  /** Every file of a snapshot, repo-relative. */
  files(commit: string): string[];
}

/** `$HF_HOME`, else `~/.cache/huggingface`: where huggingface_hub keeps its cache and login token. */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

/** `$HF_HUB_CACHE`, else `$HF_HOME/hub`: where huggingface_hub (and so transformers, vLLM) caches models. */
export function hfHubCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HUB_CACHE || join(hfHome(env), 'hub');
}

function walk(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))],
  );
}

/** The Hugging Face cache layout: models--org--name/{blobs/<etag>, snapshots/<commit>/<file> -> blob, refs/<revision>}. */
function cacheStore(repo: string, hubCache: string): ModelStore {
  const repoDir = join(hubCache, `models--${repo.replace('/', '--')}`);
  const blob = (etag: string) => join(repoDir, 'blobs', etag);
  const snapshot = (commit: string, file: string) => join(repoDir, 'snapshots', commit, file);
  const link = (file: string, etag: string, commit: string) => {
    const at = snapshot(commit, file);
    mkdirSync(dirname(at), { recursive: true });
    rmSync(at, { force: true });
    // Relative, as huggingface_hub makes them, so the cache can be moved or mounted elsewhere.
    symlinkSync(relative(dirname(at), blob(etag)), at);
    return at;
  };
  return {
    root: (commit) => join(repoDir, 'snapshots', commit),
    cached: (file, commit) => (existsSync(snapshot(commit, file)) ? snapshot(commit, file) : undefined),
    reuse: (file, etag, commit) => (existsSync(blob(etag)) ? link(file, etag, commit) : undefined),
    partial: (_file, etag) => `${blob(etag)}.incomplete`,
    place(file, etag, commit) {
      renameSync(`${blob(etag)}.incomplete`, blob(etag));
      return link(file, etag, commit);
    },
    finish(revision, commit) {
      if (revision === commit) return;
      const ref = join(repoDir, 'refs', revision);
      mkdirSync(dirname(ref), { recursive: true });
      writeFileSync(ref, commit);
    },
    knownCommit(revision) {
      const ref = join(repoDir, 'refs', revision);
      if (existsSync(ref)) return readFileSync(ref, 'utf8').trim();
      return existsSync(join(repoDir, 'snapshots', revision)) ? revision : undefined;
    },
    files: (commit) => walk(join(repoDir, 'snapshots', commit)),
  };
}

/**
 * A plain folder (`--dir`). Like huggingface_hub's local_dir, per-file metadata under
 * .cache/huggingface/download/ says which commit and ETag each file is, so reruns skip or resume.
 */
function dirStore(dir: string): ModelStore {
  const meta = (file: string) => join(dir, '.cache', 'huggingface', 'download', `${file}.metadata`);
  const readMeta = (file: string) => {
    const m = meta(file);
    const [commit, etag] = existsSync(m) ? readFileSync(m, 'utf8').split('\n') : [];
    return { commit, etag };
  };
  const record = (file: string, etag: string, commit: string) => {
    mkdirSync(dirname(meta(file)), { recursive: true });
    writeFileSync(meta(file), `${commit}\n${etag}\n${Date.now() / 1000}\n`);
    return join(dir, file);
  };
  return {
    root: () => dir,
    cached: (file, commit) =>
      existsSync(join(dir, file)) && readMeta(file).commit === commit ? join(dir, file) : undefined,
    reuse: (file, etag, commit) =>
      existsSync(join(dir, file)) && readMeta(file).etag === etag ? record(file, etag, commit) : undefined,
    partial: (file, etag) => `${meta(file).replace(/\.metadata$/, '')}.${etag}.incomplete`,
    place(file, etag, commit) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      renameSync(this.partial(file, etag), join(dir, file));
      return record(file, etag, commit);
    },
    finish: () => undefined,
    knownCommit: () => undefined,
    files: () => walk(dir).filter((f) => !f.startsWith('.cache')),
  };
}

/** The store for `repo`: the plain folder `dir` when given, else the Hugging Face cache at `hubCache`. */
export function openModelStore(repo: string, o: { dir?: string; hubCache?: string } = {}): ModelStore {
  return o.dir ? dirStore(o.dir) : cacheStore(repo, o.hubCache ?? hfHubCache());
}
