import { HubError, hubError, type HubRequestContext } from './hub-error.js';

/** A repo at one commit: what `GET /api/models/{repo}/revision/{revision}` says. */
export interface RepoInfo {
  /** The commit the revision points at. */
  sha: string;
  /** Repo-relative file paths. */
  files: string[];
}

/** What a HEAD on a file's resolve URL says about it. */
export interface FileMeta {
  /** The content's identity: X-Linked-Etag (sha256 of an LFS file) or ETag (git blob id), unquoted. */
  etag: string;
  size: number;
  /** X-Repo-Commit, when the Hub sends it. */
  commit?: string;
}

const MAX_REDIRECTS = 10;

/** `"abc"`, `W/"abc"` -> `abc`. */
const bareEtag = (v: string | null): string | undefined => v?.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;

/**
 * Talks to a Hugging Face Hub (or a mirror speaking its API: HF_ENDPOINT). Follows redirects itself
 * so that the token goes only to the Hub's own origin, never to the CDN a file redirects to (signed
 * URLs there refuse or would leak it).
 */
export class HubClient {
  readonly endpoint: string;
  private readonly origin: string;

  constructor(
    endpoint: string,
    private readonly token?: string,
  ) {
    this.endpoint = endpoint.replace(/\/+$/, '');
    this.origin = new URL(this.endpoint).origin;
  }

  get hasToken(): boolean {
    return !!this.token;
  }

  context(repo: string, revision: string, file?: string): HubRequestContext {
    return { endpoint: this.endpoint, repo, revision, file, tokenGiven: this.hasToken };
  }

  fileUrl(repo: string, revision: string, file: string): string {
    const path = file.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
  }

  /** The commit a revision points at and the files in it. */
  async repoInfo(repo: string, revision: string): Promise<RepoInfo> {
    const ctx = this.context(repo, revision);
    const res = await this.request(
      `${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`,
      ctx,
      { method: 'GET' },
    );
    const body = (await res.json().catch(() => undefined)) as
      { sha?: unknown; siblings?: { rfilename?: unknown }[] } | undefined;
    if (typeof body?.sha !== 'string' || !Array.isArray(body.siblings)) {
      throw new HubError(
        `${this.endpoint} answered for ${repo}@${revision} without a commit sha and file list; is HF_ENDPOINT a Hugging Face Hub?`,
      );
    }
    return {
      sha: body.sha,
      files: body.siblings.map((s) => s.rfilename).filter((f): f is string => typeof f === 'string'),
    };
  }

  /**
   * HEAD a file. An LFS file's first answer is a redirect to the CDN that already carries
   * X-Linked-Etag / X-Linked-Size, as huggingface_hub reads them; other redirects are followed.
   */
  async fileMeta(repo: string, revision: string, file: string): Promise<FileMeta> {
    const ctx = this.context(repo, revision, file);
    const res = await this.request(this.fileUrl(repo, revision, file), ctx, { method: 'HEAD' }, (r) =>
      r.headers.has('x-linked-etag'),
    );
    const etag = bareEtag(res.headers.get('x-linked-etag')) ?? bareEtag(res.headers.get('etag'));
    const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length') ?? NaN);
    if (!etag || !Number.isSafeInteger(size)) {
      throw new HubError(
        `${this.endpoint} sent no ETag or size for ${repo}@${revision}/${file}; is HF_ENDPOINT a Hugging Face Hub?`,
      );
    }
    return { etag, size, commit: res.headers.get('x-repo-commit') ?? undefined };
  }

  /**
   * GET a file from byte `from` on. Throws a retryable HubError when the Hub reports a different
   * ETag than `etag` (the file changed since its HEAD), so the caller starts over.
   */
  async download(repo: string, revision: string, file: string, etag: string, from: number): Promise<Response> {
    const ctx = this.context(repo, revision, file);
    const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
    return this.request(this.fileUrl(repo, revision, file), ctx, { method: 'GET', headers }, undefined, (r, at) => {
      // Only the Hub's own answers name the content; a CDN's ETag is its own business.
      if (new URL(at).origin !== this.origin) return;
      const seen =
        bareEtag(r.headers.get('x-linked-etag')) ?? (r.status < 300 ? bareEtag(r.headers.get('etag')) : undefined);
      if (seen && seen !== etag)
        throw new HubError(
          `${repo}@${revision}/${file} changed on the Hub while downloading (ETag ${etag} -> ${seen}); starting it over`,
          { retryable: true },
        );
    });
  }

  /**
   * fetch with the Hub's headers, redirects followed by hand (the token dropped once the origin
   * changes), and errors turned into HubErrors that say what to do. `stopAt` ends the chain early
   * on a redirect that already says enough; `check` sees every hop.
   */
  private async request(
    url: string,
    ctx: HubRequestContext,
    init: { method: string; headers?: Record<string, string> },
    stopAt?: (r: Response) => boolean,
    check?: (r: Response, url: string) => void,
  ): Promise<Response> {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = new URL(url).origin === this.origin;
      const headers: Record<string, string> = {
        'user-agent': 'loom/0.1 (huggingface_hub compatible)',
        // No compression: sizes and byte ranges must be of the stored bytes.
        'accept-encoding': 'identity',
        ...init.headers,
        ...(this.token && sameOrigin ? { authorization: `Bearer ${this.token}` } : {}),
      };
      let res: Response;
      try {
        res = await fetch(url, { method: init.method, headers, redirect: 'manual' });
      } catch (cause) {
        throw hubError(ctx, { cause });
      }
      try {
        check?.(res, url);
      } catch (err) {
        await res.body?.cancel();
        throw err;
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && !stopAt?.(res)) {
        await res.body?.cancel();
        url = new URL(location, url).href;
        continue;
      }
      if (res.status >= 400) {
        await res.body?.cancel();
        throw hubError(ctx, { status: res.status });
      }
      return res;
    }
    throw new HubError(`more than ${MAX_REDIRECTS} redirects for ${url}`);
  }
}
