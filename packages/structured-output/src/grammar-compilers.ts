import type { ModelCard, StructuredOutputSpec } from '@loom/common';
import { compileSpec } from './compile-spec.js';
import { loadXGrammar, withFatalCapture, type XG, type XGrammar } from './xgrammar-module.js';
import type { Utf8Guard } from './utf8-guard.js';
import { XGRAMMAR_VOCAB_TYPE, xgrammarVocab, type XGrammarVocab } from './xgrammar-vocab.js';

/** The model card fields a grammar compiler needs. */
export type VocabCard = Pick<ModelCard, 'tokenizer' | 'vocabSize' | 'eosTokenIds'>;

/**
 * One xgrammar instance with a compiler per model vocabulary (keyed by the caller, e.g.
 * `modelId@createdAt`). Not thread-safe; meant to live in one worker thread.
 *
 * After any compile error the instance is corrupt (see xgrammar-module.ts): `compile` then throws an
 * XGrammarError and `generation` grows; everything made by the old instance (compiled grammars,
 * matchers) must be dropped and remade, which the vocabularies kept here (plain JS data) allow.
 */
export class GrammarCompilers {
  private xg: XGrammar = loadXGrammar();
  private readonly vocabs = new Map<string, { vocab: XGrammarVocab; utf8: Utf8Guard }>();
  private compilers = new Map<string, Promise<XG.GrammarCompiler>>();
  /** Bumped each time the instance is replaced. */
  generation = 0;

  get xgrammar(): XGrammar {
    return this.xg;
  }

  hasModel(key: string): boolean {
    return this.vocabs.has(key);
  }

  addModel(key: string, card: VocabCard): void {
    if (!this.vocabs.has(key)) this.vocabs.set(key, xgrammarVocab(card));
  }

  /** Logits width of a model (bitmask words = ceil(vocabSize / 32)). */
  vocabSize(key: string): number {
    return this.model(key).vocab.vocabSize;
  }

  /** The model's UTF-8 guard (see utf8-guard.ts). */
  utf8Guard(key: string): Utf8Guard {
    return this.model(key).utf8;
  }

  /** Compiles `spec` for model `key`; on an xgrammar error replaces the instance, then throws. */
  async compile(key: string, spec: StructuredOutputSpec): Promise<XG.CompiledGrammar> {
    const compiler = await this.compiler(key);
    try {
      return await withFatalCapture(() => compileSpec(this.xg, compiler, spec));
    } catch (err) {
      this.replace();
      throw err;
    }
  }

  /** A new instance (after an error, or to drop everything at once). */
  replace(): void {
    this.xg = loadXGrammar();
    this.compilers = new Map();
    this.generation++;
  }

  private model(key: string): { vocab: XGrammarVocab; utf8: Utf8Guard } {
    const v = this.vocabs.get(key);
    if (!v) throw new Error(`no vocabulary registered for ${key}`);
    return v;
  }

  private compiler(key: string): Promise<XG.GrammarCompiler> {
    let c = this.compilers.get(key);
    if (!c) {
      const v = this.model(key).vocab;
      const xg = this.xg;
      c = (async () => {
        const info = await xg.TokenizerInfo.createTokenizerInfo(
          v.encodedVocab,
          XGRAMMAR_VOCAB_TYPE,
          false,
          v.vocabSize,
          v.stopTokenIds,
        );
        // xgrammar's own cache is unbounded; callers keep their own bounded caches instead.
        return xg.GrammarCompiler.createGrammarCompiler(info, false);
      })();
      this.compilers.set(key, c);
    }
    return c;
  }
}
