import { basename, join } from 'node:path';
import { at } from '@loom/common';
import type { LoomConfig } from '@loom/common';
import { downloadProgress } from './download-progress.js';
import { DEFAULT_ENDPOINT, hfDownload, type DownloadEvent } from './hf-download.js';
import { parseHfRef, type HfRef } from './hf-ref.js';
import { hfToken } from './hf-token.js';
import { isUnreachable } from './hub-error.js';
import { hfHubCache, openModelStore } from './model-store.js';
import { selectFiles } from './select-files.js';

export interface ResolveModelOptions {
  env?: NodeJS.ProcessEnv;
  /** Download progress; default: bars / JSON lines on stderr. */
  onEvent?: (e: DownloadEvent) => void;
  /** Notices (e.g. serving a cached copy because the Hub is unreachable). */
  say?: (msg: string) => void;
}

/**
 * The model id for an hf:// reference, the same in every process whether or not it downloads:
 * the file's name for a file reference, else the repo id (as vLLM names Hub models).
 */
export function servedNameOf(ref: HfRef): string {
  return ref.file ? basename(ref.file).replace(/\.(gguf|safetensors)$/i, '') : ref.repo;
}

const truthy = (v: string | undefined) => !!v && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

/** What the cache already holds for `ref`, without the network; throws saying what is missing. */
function fromCache(ref: HfRef, hubCache: string, why: string): { root: string; files: string[] } {
  const store = openModelStore(ref.repo, { hubCache });
  const commit = store.knownCommit(ref.revision);
  const download = [
    `loom model download ${ref.repo}`,
    ...(ref.revision === 'main' ? [] : [`--revision ${ref.revision}`]),
    ...(ref.file ? [`--include '${ref.file}'`] : []),
  ].join(' ');
  const missing =
    `hf://${ref.repo}@${ref.revision}${ref.file ? `/${ref.file}` : ''} is not in the Hugging Face cache ${hubCache}; ` +
    `fetch it into this cache where the Hub answers (\`${download}\`, or any run without HF_HUB_OFFLINE)`;
  if (!commit) throw new Error(`${why}, and ${missing}`);
  if (ref.file && !store.cached(ref.file, commit)) throw new Error(`${why}, and ${missing}`);
  return { root: store.root(commit), files: ref.file ? [ref.file] : selectFiles(store.files(commit)) };
}

/**
 * Turn `--model hf://org/name[@revision][/file]` into a local path before a worker starts:
 * download into the Hugging Face cache (what is there already is not fetched again) and serve the
 * file, or the snapshot folder when several files make the model. When the Hub is unreachable
 * (or HF_HUB_OFFLINE=1) the cached copy of that revision is served. Any other model is returned as is.
 */
export async function resolveModelRef(config: LoomConfig, o: ResolveModelOptions = {}): Promise<LoomConfig> {
  const ref = parseHfRef(config.model);
  if (!ref) return config;
  const env = o.env ?? process.env;
  const hubCache = hfHubCache(env);
  let got: { root: string; files: string[] };
  if (truthy(env.HF_HUB_OFFLINE)) got = fromCache(ref, hubCache, 'HF_HUB_OFFLINE is set');
  else {
    const progress = o.onEvent ? undefined : await downloadProgress(process.stderr);
    try {
      got = await hfDownload({
        repo: ref.repo,
        revision: ref.revision,
        files: ref.file ? [ref.file] : undefined,
        hubCache,
        endpoint: env.HF_ENDPOINT || DEFAULT_ENDPOINT,
        token: hfToken(env),
        onEvent: o.onEvent ?? ((e) => progress?.onEvent(e)),
      });
    } catch (err) {
      progress?.stop();
      if (!isUnreachable(err)) throw err;
      got = fromCache(ref, hubCache, (err as Error).message);
      o.say?.(`the Hub is unreachable; serving the cached copy ${got.root}`);
    }
  }
  const model = got.files.length === 1 ? join(got.root, at(got.files, 0)) : got.root;
  return { ...config, model, servedModelName: config.servedModelName || servedNameOf(ref) };
}
