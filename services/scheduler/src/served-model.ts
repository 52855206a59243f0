import type { ModelCard } from '@loom/common';
import type { Tokenizer } from '@loom/tokenizer';

/** The model facts a request needs, from the model card workers publish. */
export interface ServedModel {
  /** The card itself (structured outputs compile grammars for its vocabulary). */
  card?: ModelCard;
  tokenizer: Tokenizer;
  eosTokenIds: number[];
  contextLength: number;
}
