/**
 * xgrammar (vLLM's default structured-output backend) as WebAssembly, from `@mlc-ai/web-xgrammar`.
 *
 * The package's lib/index.js is a UMD bundle inside a `"type": "module"` package, so `import` finds no
 * exports; it is compiled here as CommonJS instead, with one export added (nextTokenBitmaskInto). Each
 * loadXGrammar() call compiles it afresh: a new closure, hence a new WebAssembly instance with its own
 * memory.
 *
 * Why fresh instances matter: the build aborts on every error xgrammar raises (a schema it rejects, an
 * EBNF syntax error, a recursion too deep), printing `[FATAL] file:line: message` to stderr and throwing
 * `RuntimeError: Aborted()`. The abort does not unwind the WebAssembly stack, so an instance that
 * aborted is corrupt (a few thousand aborts later every call fails with "memory access out of bounds").
 * Whoever calls into xgrammar with input it may reject must throw that instance away after an error
 * (see withFatalCapture) and load a new one.
 */
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import type * as XG from '@mlc-ai/web-xgrammar';
import { at } from '@loom/common';

/** The classes of one xgrammar instance. */
export interface XGrammar {
  Grammar: typeof XG.Grammar;
  GrammarCompiler: typeof XG.GrammarCompiler;
  CompiledGrammar: typeof XG.CompiledGrammar;
  GrammarMatcher: typeof XG.GrammarMatcher;
  TokenizerInfo: typeof XG.TokenizerInfo;
  Testings: typeof XG.Testings;
  /**
   * matcher.getNextTokenBitmask() written straight into `out` (ceil(vocab / 32) words), synchronously:
   * the package's own method is async (it awaits its initialisation on every call) and returns a copy,
   * together about a third of a mask's cost on the step's critical path. Only after the instance
   * initialised (any awaited call did that).
   */
  nextTokenBitmaskInto(matcher: XG.GrammarMatcher, out: Int32Array): void;
}

export type { XG };

let bundle: { file: string; source: string } | undefined;

/** A new, independent xgrammar instance (its WebAssembly initialises on the first awaited call). */
export function loadXGrammar(): XGrammar {
  if (!bundle) {
    const file = createRequire(import.meta.url).resolve('@mlc-ai/web-xgrammar');
    bundle = { file, source: patched(readFileSync(file, 'utf8'), file) };
  }
  // node:module's Module is a constructor at run time; its typings only describe the namespace.
  const Ctor = Module as unknown as new (id: string) => {
    filename: string;
    exports: XGrammar;
    _compile(source: string, filename: string): void;
  };
  const m = new Ctor(bundle.file);
  m.filename = bundle.file;
  m._compile(bundle.source, bundle.file);
  return m.exports;
}

/** Where the bundle's exports end; the sync mask reader is added there, inside its closure (see XGrammar). */
const EXPORT_ANCHOR = 'exports.Testings = Testings;';
const SYNC_MASK =
  'exports.nextTokenBitmaskInto = (matcher, out) => {' +
  ' const v = matcher.handle.GetNextTokenBitmask(matcher.vocab_size);' +
  ' out.set(binding.vecIntToView(v)); v.delete(); };';

function patched(source: string, file: string): string {
  if (!source.includes(EXPORT_ANCHOR))
    throw new Error(`${file}: '${EXPORT_ANCHOR}' not found; this is not the @mlc-ai/web-xgrammar 0.1.27 bundle`);
  return source.replace(EXPORT_ANCHOR, `${EXPORT_ANCHOR} ${SYNC_MASK}`);
}

/** An error xgrammar raised, with its own message (not just "Aborted()"); its instance is corrupt. */
export class XGrammarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XGrammarError';
  }
}

const FATAL = /\[FATAL\][^:]*:\d+: ([\s\S]*?)(?:\nAborted\(\)|$)/;

/**
 * Runs `fn`, capturing what xgrammar prints to stderr meanwhile; if `fn` throws, rethrows an
 * XGrammarError carrying xgrammar's message. stderr is taken over only while `fn` runs; xgrammar
 * writes synchronously from inside the call, so nothing else of this thread writes in between
 * except across the awaits of `fn` itself (their output is passed through).
 */
export async function withFatalCapture<T>(fn: () => Promise<T>): Promise<T> {
  const stderr = process.stderr;
  const write = stderr.write;
  let captured = '';
  stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('[FATAL]') || text.startsWith('Aborted(')) {
      captured += text;
      return true;
    }
    return (write as (...a: unknown[]) => boolean).call(stderr, chunk, ...rest);
  }) as typeof stderr.write;
  try {
    return await fn();
  } catch (err) {
    const m = FATAL.exec(captured);
    const raw = m ? at(m, 1).trim() : (err as Error).message;
    throw new XGrammarError(cleanMessage(raw));
  } finally {
    stderr.write = write;
  }
}

/** xgrammar's message without the build's source paths and the echo of a whole input. */
function cleanMessage(raw: string): string {
  const oneLine = raw.replace(/\s+/g, ' ').replace(/^Check failed: \(.*?\) is false: /, '');
  const cut = oneLine.indexOf(' The JSON string is:');
  const msg = cut >= 0 ? oneLine.slice(0, cut) : oneLine;
  return msg.length > 300 ? `${msg.slice(0, 300)}…` : msg;
}
