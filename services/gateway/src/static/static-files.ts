import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The web app shipped in this package (services/gateway/public), next to dist/. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Everything the page may load comes from this origin; no inline script, no framing. API calls go
 * to the same origin with the key in an Authorization header (so no cookie, no CSRF to guard).
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Serves the web app: `GET /` is index.html, `GET /ui/<path>` the files under public/ui. The files
 * are few and small, so they are read once at start and kept in memory (a request never touches the
 * file system, and no path from a request is ever joined to a directory). Public routes: the HTML
 * holds no data; every API call the page makes carries the user's key when keys are on.
 */
export function installStaticFiles(fastify: FastifyInstance, dir = PUBLIC_DIR): void {
  const files = new Map<string, StaticFile>();
  for (const path of walk(dir)) {
    const url = '/' + relative(dir, path).split(sep).join('/');
    const type = TYPES[extname(path)];
    if (!type) continue;
    const body = readFileSync(path);
    files.set(url, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  const index = files.get('/index.html');
  if (!index) throw new Error(`the web app is missing: no index.html in ${dir}`);

  const send = (file: StaticFile) => async (req: FastifyRequest, reply: FastifyReply) => {
    // no-cache: the browser revalidates (a 304 when unchanged), so a new gateway version shows at once.
    reply.headers(SECURITY_HEADERS).header('etag', file.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  };
  fastify.get('/', send(index));
  for (const [url, file] of files) if (url.startsWith('/ui/')) fastify.get(url, send(file));
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}
