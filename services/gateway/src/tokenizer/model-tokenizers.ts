import { Injectable } from '@nestjs/common';
import type { ModelCard } from '@loom/common';
import {
  IncrementalDetokenizer,
  Tokenizer,
  renderChatPrompt,
  type ChatMessage,
  type RenderChatOptions,
} from '@loom/tokenizer';
import type { LogprobsOptions } from '../generation/logprobs-format.js';

export type { ChatMessage };

/**
 * The gateway's only door to @loom/tokenizer: one Tokenizer per published model card (rebuilt
 * when a worker republishes the card), plus the prompt rules of each endpoint.
 */
@Injectable()
export class ModelTokenizers {
  private readonly cache = new Map<string, { createdAt: number; tok: Tokenizer }>();

  get(card: ModelCard): Tokenizer {
    const hit = this.cache.get(card.modelId);
    if (hit && hit.createdAt === card.createdAt) return hit.tok;
    const tok = Tokenizer.fromData(card.tokenizer);
    this.cache.set(card.modelId, { createdAt: card.createdAt, tok });
    return tok;
  }

  /**
   * A completion prompt, as llama.cpp's server and vLLM tokenize it: special tokens the model
   * adds (BOS when its add_bos says so) are added, unless `addSpecial` is false (vLLM's
   * add_special_tokens), and special-token text in the prompt is parsed.
   */
  encodePrompt(card: ModelCard, text: string, addSpecial = true): number[] {
    return this.get(card).encode(text, { addSpecial, parseSpecial: true });
  }

  /**
   * A chat prompt: the model's own template (renderChat's fallback when the card has none), then
   * tokens. Templates usually write the BOS text themselves; adding BOS again would double it, so
   * (as llama.cpp's server does) BOS is only added per the model's add_bos when the rendered text
   * does not already start with it. Special-token text from the template is always parsed.
   * `generationPrompt` is what the template's add_generation_prompt appended (output parsers start
   * from it). `template` overrides the card's (a tool_use variant).
   */
  encodeChat(
    card: ModelCard,
    messages: ChatMessage[],
    extra: Pick<RenderChatOptions, 'tools' | 'variables'> & { template?: string } = {},
  ): { text: string; ids: number[]; generationPrompt: string } {
    const tok = this.get(card);
    const bosToken = tokenText(card, card.tokenizer.bosTokenId);
    const eosToken = tokenText(card, card.tokenizer.eosTokenId);
    const { text, generationPrompt } = renderChatPrompt(extra.template ?? card.chatTemplate, messages, {
      addGenerationPrompt: true,
      bosToken,
      eosToken,
      tools: extra.tools,
      variables: extra.variables,
    });
    const startsWithBos = bosToken !== '' && text.startsWith(bosToken);
    return { text, ids: tok.encode(text, { addSpecial: !startsWithBos, parseSpecial: true }), generationPrompt };
  }

  /** Per-token text and bytes for logprobs, `top` alternatives per position. */
  logprobsOptions(card: ModelCard, top: number): LogprobsOptions {
    const tok = this.get(card);
    return {
      top,
      tokenText: (id) => tok.tokenToPiece(id),
      tokenBytes: (id) => tok.tokenBytes(id),
      // Decoded as decode() does for echo, one token at a time: O(tokens), not a decode per prefix.
      textOffsets: (ids) => {
        const detok = new IncrementalDetokenizer(tok, [], { skipSpecial: true });
        return ids.map((id) => {
          const at = detok.text.length;
          detok.push([id]);
          return at;
        });
      },
    };
  }

  decode(card: ModelCard, ids: number[], skipSpecial = true): string {
    return this.get(card).decode(ids, { skipSpecial });
  }
}

function tokenText(card: ModelCard, id: number | undefined): string {
  return id === undefined ? '' : (card.tokenizer.tokens[id] ?? '');
}
