/** A model on the Hugging Face Hub named by `hf://<org>/<name>[@revision][/<file>]`. */
export interface HfRef {
  /** `org/name` */
  repo: string;
  /** Branch, tag or commit sha; `main` when the ref names none. */
  revision: string;
  /** One file inside the repo (may contain `/`), or undefined for the repo's default selection. */
  file?: string;
}

const PREFIX = 'hf://';

/**
 * Parse an `hf://` model reference; undefined when `ref` is not one (a local path). Throws on a
 * malformed one so a typo fails before anything is downloaded.
 */
export function parseHfRef(ref: string): HfRef | undefined {
  if (!ref.startsWith(PREFIX)) return undefined;
  const rest = ref.slice(PREFIX.length);
  // org/name[@revision][/file]: the revision may not contain '/', which is how a file is told apart.
  const m = /^([\w.-]+)\/([\w.-]+)(?:@([^/]+))?(?:\/(.+))?$/.exec(rest);
  if (!m || m[4]?.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(
      `bad model reference ${ref}: expected hf://<org>/<name>[@revision][/<file>], e.g. hf://ggml-org/models@main/tinyllamas/stories260K.gguf`,
    );
  }
  return { repo: `${m[1]}/${m[2]}`, revision: m[3] ?? 'main', file: m[4] };
}
