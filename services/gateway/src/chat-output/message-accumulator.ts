import type { ChatDelta } from './chat-delta.js';
import { at } from '@loom/common';

export interface ParsedToolCall {
  name: string;
  arguments: string;
  /** The id the model wrote, if it wrote one. */
  id?: string;
}

/** A whole assistant message assembled from a choice's deltas. */
export interface ParsedMessage {
  content: string;
  reasoning: string;
  toolCalls: ParsedToolCall[];
}

/** Joins deltas into the message they spell, as a client accumulating the stream would. */
export class MessageAccumulator {
  private readonly msg: ParsedMessage = { content: '', reasoning: '', toolCalls: [] };

  add(deltas: readonly ChatDelta[]): void {
    for (const d of deltas) {
      if (d.type === 'content') this.msg.content += d.text;
      else if (d.type === 'reasoning') this.msg.reasoning += d.text;
      else if (d.type === 'tool_call')
        this.msg.toolCalls[d.index] = { name: d.name, arguments: '', ...(d.id !== undefined ? { id: d.id } : {}) };
      else at(this.msg.toolCalls, d.index).arguments += d.text;
    }
  }

  get message(): ParsedMessage {
    return this.msg;
  }
}
