import type { ChatDelta, OutputParser } from './chat-delta.js';

/**
 * One choice's whole output parser: the reasoning parser splits reasoning from content, and the
 * content goes through the tool-call parser (either may be absent; gpt-oss's harmony parser does both
 * jobs and sits in the tool slot). Whitespace around the structure is layout, not content: each run of
 * content (at the start, after reasoning, after a tool call) loses its leading whitespace, and a run
 * followed by a tool call its trailing whitespace (held back until what follows is known).
 */
export class ChatOutputParser implements OutputParser {
  private atRunStart = true;
  /** Trailing whitespace of the content so far: sent before more content, dropped before anything else. */
  private pendingSpace = '';

  constructor(
    private readonly reasoning: OutputParser | undefined,
    private readonly tools: OutputParser | undefined,
  ) {}

  push(text: string): ChatDelta[] {
    const first = this.reasoning ? this.reasoning.push(text) : [{ type: 'content' as const, text }];
    return this.shape(this.route(first));
  }

  finish(): ChatDelta[] {
    const routed = this.route(this.reasoning?.finish() ?? []);
    if (this.tools) routed.push(...this.tools.finish());
    const out = this.shape(routed);
    // The message ends in content: its trailing whitespace is the model's, not layout.
    if (this.pendingSpace) out.push({ type: 'content', text: this.pendingSpace });
    this.pendingSpace = '';
    return out;
  }

  private route(deltas: ChatDelta[]): ChatDelta[] {
    if (!this.tools) return deltas;
    const out: ChatDelta[] = [];
    for (const d of deltas) {
      if (d.type === 'content') out.push(...this.tools.push(d.text));
      else out.push(d);
    }
    return out;
  }

  private shape(deltas: ChatDelta[]): ChatDelta[] {
    const out: ChatDelta[] = [];
    for (const d of deltas) {
      if (d.type !== 'content') {
        this.atRunStart = true;
        this.pendingSpace = '';
        out.push(d);
        continue;
      }
      let text = d.text;
      if (this.atRunStart) {
        text = text.replace(/^\s+/, '');
        if (!text) continue;
        this.atRunStart = false;
      }
      const body = text.replace(/\s+$/, '');
      if (!body) {
        this.pendingSpace += text;
        continue;
      }
      const trailing = text.slice(body.length);
      text = this.pendingSpace + body;
      this.pendingSpace = trailing;
      const last = out.at(-1);
      if (last?.type === 'content') last.text += text;
      else out.push({ type: 'content', text });
    }
    return out;
  }
}
