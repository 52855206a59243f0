import { at } from '@loom/common';
/**
 * Which of a Hub repo's files to download: the `--include` globs when given, otherwise what a Loom
 * worker can serve from that repo.
 */

/** fnmatch-style glob, as huggingface_hub's allow_patterns: `*` also matches `/`, `?` one character, `[...]` a class. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = at(glob, i);
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  // A pattern ending in '/' means everything under that folder, as in huggingface_hub.
  return new RegExp(`^${re}${glob.endsWith('/') ? '.*' : ''}$`);
}

const SAFETENSORS_DEFAULT = ['*.safetensors', '*.json', 'tokenizer.model'];

/**
 * The files to fetch from `files` (repo-relative paths). Throws, listing the candidates, when the
 * choice is not obvious: a repo with several GGUFs (one per quantisation, usually) needs `--include`.
 */
export function selectFiles(files: string[], include: string[] = []): string[] {
  if (include.length) {
    const res = include.map(globToRegExp);
    const picked = files.filter((f) => res.some((r) => r.test(f)));
    if (!picked.length)
      throw new Error(`--include ${include.join(' ')} matches none of the repo's files: ${files.join(', ')}`);
    return picked;
  }
  const ggufs = files.filter((f) => /\.gguf$/i.test(f));
  if (ggufs.length === 1) return ggufs;
  if (ggufs.length > 1) {
    throw new Error(
      `the repo has ${ggufs.length} GGUF files; pick one with --include <file> (or hf://<repo>/<file>): ${ggufs.join(', ')}`,
    );
  }
  const weights = files.filter((f) => /\.safetensors$/i.test(f));
  if (weights.length) {
    // Top-level only: repos often carry other variants (onnx/, original/) in subfolders.
    const res = SAFETENSORS_DEFAULT.map(globToRegExp);
    return files.filter((f) => !f.includes('/') && res.some((r) => r.test(f)));
  }
  throw new Error(
    `the repo has no GGUF or safetensors files Loom can serve; name files with --include <glob>. Its files: ${files.join(', ')}`,
  );
}
