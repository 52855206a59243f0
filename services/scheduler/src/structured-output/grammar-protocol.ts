/**
 * Messages between the StructuredOutputManager (scheduler main thread) and one grammar thread, which
 * owns an xgrammar instance: the compiled grammars (an LRU) and one matcher per constrained sequence.
 * Requests carry an id; the thread answers each in order.
 */
import type { StructuredOutputSpec } from '@loom/common';
import type { VocabCard } from '@loom/structured-output';

/** What the thread needs to (re)build one sequence's matcher: its constraint and every output token so far. */
export interface MatcherInit {
  seqId: string;
  /** `${modelId}@${createdAt}`: the vocabulary the grammar compiles for (sent earlier with `model`). */
  vocabKey: string;
  spec: StructuredOutputSpec;
  /** structuredOutputKey(spec). */
  specKey: string;
  /** Output tokens to replay (acceptToken each) into a fresh matcher. */
  tokens: number[];
}

export type GrammarRequest =
  /** Register a model's vocabulary (no answer). */
  | { op: 'model'; vocabKey: string; card: VocabCard }
  /** Compile (cache) and create matchers, replaying their tokens. */
  | { op: 'open'; id: number; seqs: MatcherInit[] }
  /**
   * Advance matchers by the tokens accepted since (or rebuild them first, `init`), then fill one mask
   * per `seqIds` entry, in that order.
   */
  | {
      op: 'fill';
      id: number;
      advance: { seqId: string; tokens: number[] }[];
      init: MatcherInit[];
      seqIds: string[];
      /** Words per mask: ceil(vocab / 32) of the step's model. */
      words: number;
    }
  /** Forget sequences (no answer). */
  | { op: 'close'; seqIds: string[] };

export interface SeqError {
  seqId: string;
  message: string;
}

/**
 * `lost`: the thread's xgrammar instance was replaced while serving the request (an xgrammar error), so
 * every matcher it held is gone: the manager rebuilds each live sequence of this thread from its tokens.
 */
export type GrammarReply =
  | {
      op: 'open';
      id: number;
      errors: SeqError[];
      /** Milliseconds of each compile this open needed (cache misses only). */
      compileMs: number[];
      lost: boolean;
    }
  | {
      op: 'fill';
      id: number;
      /** [seqIds.length][words] little-endian uint32 words, row i for seqIds[i] (transferred). */
      words: ArrayBuffer;
      /** Sequences whose mask could not be made (their row allows every token): fail them. */
      errors: SeqError[];
      lost: boolean;
    };
