/**
 * Test support, not shipped behaviour: a small fake of the Hugging Face Hub on 127.0.0.1 speaking
 * the parts of its API Loom uses, with the Hub's quirks (LFS files redirect to a CDN on another
 * origin that has its own ETags; X-Linked-Etag / X-Linked-Size / X-Repo-Commit headers; Range
 * requests; 401 for a private repo without a token) and knobs to misbehave (cut connections,
 * ignore Range, change a file between its HEAD and GET).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

interface Repo {
  /** Commits by sha, newest last; `main` points at the last. */
  commits: Map<string, Map<string, Buffer>>;
  main: string;
  token?: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A git blob id, which is what the Hub's ETag is for a file kept in git rather than LFS. */
const gitOid = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const isLfs = (file: string) => /\.(gguf|safetensors|bin)$/.test(file);

export class FakeHub {
  readonly requests: FakeRequest[] = [];
  /** Cut the next `cuts` downloads of LFS content after `cutAfter` bytes. */
  cuts = 0;
  cutAfter = 100_000;
  /** The CDN answers 200 with the whole file, whatever the Range says. */
  ignoreRange = false;
  /** Called after each HEAD of a file (e.g. to change it before its GET). */
  afterHead?: (repo: string, file: string) => void;
  private readonly repos = new Map<string, Repo>();
  private readonly blobs = new Map<string, Buffer>();
  private hub!: Server;
  private cdn!: Server;
  endpoint = '';
  private cdnUrl = '';

  async start(): Promise<this> {
    this.hub = createServer((q, s) => this.serveHub(q, s));
    this.cdn = createServer((q, s) => this.serveCdn(q, s));
    for (const [srv, set] of [
      [this.hub, (u: string) => (this.endpoint = u)],
      [this.cdn, (u: string) => (this.cdnUrl = u)],
    ] as const) {
      await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
      set(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    }
    return this;
  }

  async close(): Promise<void> {
    for (const s of [this.hub, this.cdn]) {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  }

  /** Commit `files` to `repo` (a new sha that `main` points at); `token` makes the repo private. */
  commit(repo: string, files: Record<string, Buffer>, token?: string): string {
    const r = this.repos.get(repo) ?? { commits: new Map(), main: '', token };
    const content = new Map(Object.entries(files));
    const sha = createHash('sha1')
      .update(`${repo}${r.commits.size}${[...content.values()].map(sha256).join()}`)
      .digest('hex');
    for (const b of content.values()) this.blobs.set(sha256(b), b);
    r.commits.set(sha, content);
    r.main = sha;
    this.repos.set(repo, r);
    return sha;
  }

  /** Rewrite a file in place at the current commit (as if force-pushed), so its ETag changes under the same sha. */
  rewrite(repo: string, file: string, content: Buffer): void {
    const r = this.repos.get(repo)!;
    this.blobs.set(sha256(content), content);
    r.commits.get(r.main)!.set(file, content);
  }

  count(server: 'hub' | 'cdn', pathPart = ''): number {
    return this.requests.filter((r) => r.server === server && r.path.includes(pathPart)).length;
  }

  private log(server: 'hub' | 'cdn', q: IncomingMessage): void {
    this.requests.push({
      server,
      method: q.method!,
      path: decodeURIComponent(q.url!),
      range: q.headers.range,
      authorization: q.headers.authorization,
    });
  }

  private serveHub(q: IncomingMessage, s: ServerResponse): void {
    this.log('hub', q);
    const url = decodeURIComponent(new URL(q.url!, this.endpoint).pathname);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    const repoName = (api ?? resolve)?.[1] ?? '';
    const repo = this.repos.get(repoName);
    if (!repo) return void s.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
    if (repo.token && q.headers.authorization !== `Bearer ${repo.token}`)
      return void s.writeHead(401).end('Invalid credentials');
    const match = api ?? resolve;
    if (!match?.[2]) return void s.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
    const rev = match[2];
    const sha = rev === 'main' ? repo.main : rev;
    const files = repo.commits.get(sha);
    if (!files) return void s.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end('Revision not found');
    if (api) {
      const siblings = [...files.keys()].map((rfilename) => ({ rfilename }));
      return void s
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: api[1], sha, siblings }));
    }
    const file = resolve?.[3] ?? '';
    const body = files.get(file);
    if (!body) return void s.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    const common = { 'x-repo-commit': sha };
    if (q.method === 'HEAD') queueMicrotask(() => this.afterHead?.(repoName, file));
    if (isLfs(file)) {
      const oid = sha256(body);
      // As the Hub does: the pointer's ETag, the content's sha256 and size in X-Linked-*, then the CDN.
      return void s
        .writeHead(302, {
          ...common,
          etag: `"${gitOid(Buffer.from(oid))}"`,
          'x-linked-etag': `"${oid}"`,
          'x-linked-size': body.length,
          location: `${this.cdnUrl}/blobs/${oid}?X-Amz-Signature=fake`,
        })
        .end();
    }
    this.sendRange(q, s, body, { ...common, etag: `"${gitOid(body)}"` }, false);
  }

  private serveCdn(q: IncomingMessage, s: ServerResponse): void {
    this.log('cdn', q);
    const oid = /^\/blobs\/([0-9a-f]{64})$/.exec(new URL(q.url!, this.cdnUrl).pathname)?.[1];
    const body = oid && this.blobs.get(oid);
    if (!body) return void s.writeHead(404).end();
    // A CDN's own ETag (S3-like md5), deliberately not the Hub's sha256.
    const cut = q.method === 'GET' && this.cuts > 0 ? (this.cuts--, this.cutAfter) : undefined;
    this.sendRange(q, s, body, { etag: `"${createHash('md5').update(body).digest('hex')}"` }, this.ignoreRange, cut);
  }

  /** 200 or 206 per the Range header; `cutAfter` destroys the socket after that many body bytes. */
  private sendRange(
    q: IncomingMessage,
    s: ServerResponse,
    body: Buffer,
    headers: Record<string, string>,
    ignoreRange: boolean,
    cutAfter?: number,
  ): void {
    const m = /^bytes=(\d+)-$/.exec(q.headers.range ?? '');
    let from = 0;
    if (m && !ignoreRange) {
      from = Number(m[1]);
      if (from >= body.length) return void s.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      s.writeHead(206, {
        ...headers,
        'accept-ranges': 'bytes',
        'content-length': body.length - from,
        'content-range': `bytes ${from}-${body.length - 1}/${body.length}`,
      });
    } else s.writeHead(200, { ...headers, 'accept-ranges': 'bytes', 'content-length': body.length });
    if (q.method === 'HEAD') return void s.end();
    const part = body.subarray(from);
    if (cutAfter === undefined || cutAfter >= part.length) return void s.end(part);
    s.write(part.subarray(0, cutAfter), () => setTimeout(() => s.destroy(), 20));
  }
}
