/**
 * llama.cpp's own test material (vocab-only GGUFs with their `.inp`/`.out` vectors, the chat templates
 * of `models/templates`, `tests/test-chat-template.cpp`, `src/unicode-data.cpp`), read from the copy of
 * llama.cpp's source that node-llama-cpp ships as `llama/gitRelease.bundle`: the very tree its
 * prebuilt binary (the tests' oracle) was built from, so vectors, templates and oracle always agree.
 *
 * The needed paths are checked out once per bundle commit into
 * `node_modules/.cache/loom-llama-cpp/<commit>/` (~80 MB); concurrent test processes race safely (each
 * extracts into its own temporary folder and renames it into place; the first rename wins).
 * Test and tooling code only: nothing on a serving path imports this module. Needs `git` on PATH.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

/** Paths of llama.cpp's tree that llamaCppTree() extracts. */
export const LLAMA_CPP_PATHS = ['models', 'tests/test-chat-template.cpp', 'src/unicode-data.cpp'];

/** node-llama-cpp's git bundle of llama.cpp's source. */
export function llamaCppBundle(): string {
  const main = createRequire(import.meta.url).resolve('node-llama-cpp');
  const bundle = path.join(path.dirname(main), '..', 'llama', 'gitRelease.bundle');
  if (!fs.existsSync(bundle))
    throw new Error(`${bundle} is missing: node-llama-cpp ships llama.cpp's source there; run npm ci`);
  return bundle;
}

function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

let cached: string | undefined;

/** Folder holding LLAMA_CPP_PATHS of the bundle's commit, extracted on first use. */
export function llamaCppTree(): string {
  if (cached) return cached;
  const bundle = llamaCppBundle();
  const head = git(['bundle', 'list-heads', bundle]).split('\n')[0]?.split(' ')[0] ?? '';
  if (!/^[0-9a-f]{40}$/.test(head)) throw new Error(`${bundle}: no commit in 'git bundle list-heads'`);
  const root = path.join(path.dirname(bundle), '..', '..', '.cache', 'loom-llama-cpp');
  const final = path.join(root, head);
  if (!fs.existsSync(final)) {
    fs.mkdirSync(root, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(root, `.${head.slice(0, 8)}-`));
    try {
      const repo = path.join(tmp, 'repo.git');
      const tree = path.join(tmp, 'tree');
      git(['init', '-q', '--bare', repo]);
      git(['--git-dir', repo, 'fetch', '-q', bundle, head]);
      fs.mkdirSync(tree);
      git(['--git-dir', repo, '--work-tree', tree, 'checkout', head, '--', ...LLAMA_CPP_PATHS]);
      try {
        fs.renameSync(tree, final);
      } catch (e) {
        if (!fs.existsSync(final)) throw e; // another process won the race: use its copy
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  cached = final;
  return final;
}

/** Absolute path of a file of llama.cpp's tree (one of LLAMA_CPP_PATHS or below), e.g. `models/ggml-vocab-gpt-2.gguf`. */
export function llamaCppFile(relPath: string): string {
  return path.join(llamaCppTree(), relPath);
}
