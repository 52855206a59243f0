import { BufferedParser, partialMarkerLength, skipSpace } from './buffered-parser.js';

export interface ThinkTags {
  start: string;
  end: string;
  /**
   * The output is reasoning from its first character even when the prompt did not open a block
   * (vLLM's deepseek_r1 parser: R1 often starts thinking without writing `<think>`).
   */
  implicitStart?: boolean;
}

type State = 'before' | 'opening' | 'reasoning' | 'content';

/**
 * Reasoning between tags, split from the content (vLLM's qwen3 / deepseek_r1 / mistral / seed_oss
 * reasoning parsers): `<think>...</think>` (Qwen3, DeepSeek-R1, GLM, Kimi, MiniMax), `[THINK]...[/THINK]`
 * (Magistral), `<seed:think>...</seed:think>`. A block counts only at the start of the output (after
 * whitespace); a generation prompt that already opened one (Qwen3.5, DeepSeek-R1, MiniMax-M2 end the
 * prompt with `<think>\n`) means the output starts inside it. Output truncated inside the block is all
 * reasoning.
 */
export class ThinkTagParser extends BufferedParser {
  private state: State;

  constructor(
    private readonly tags: ThinkTags,
    generationPrompt: string,
  ) {
    super();
    const open = generationPrompt.lastIndexOf(tags.start);
    const forced = open >= 0 && generationPrompt.indexOf(tags.end, open) < 0;
    this.state = forced ? 'reasoning' : tags.implicitStart ? 'opening' : 'before';
  }

  protected step(final: boolean): void {
    for (;;) {
      switch (this.state) {
        case 'before':
        case 'opening': {
          // A start tag may come after whitespace; 'opening' (implicit start) is reasoning either way.
          const at = skipSpace(this.buf);
          const rest = this.buf.slice(at);
          if (rest.startsWith(this.tags.start)) {
            this.take(at + this.tags.start.length);
            this.state = 'reasoning';
            continue;
          }
          if (!final && this.tags.start.startsWith(rest)) return;
          this.state = this.state === 'opening' ? 'reasoning' : 'content';
          continue;
        }
        case 'reasoning': {
          const at = this.buf.indexOf(this.tags.end);
          if (at < 0) {
            const keep = final ? 0 : partialMarkerLength(this.buf, [this.tags.end]);
            this.reasoning(this.take(this.buf.length - keep));
            return;
          }
          this.reasoning(this.take(at));
          this.take(this.tags.end.length);
          this.state = 'content';
          continue;
        }
        case 'content':
          this.content(this.take(this.buf.length));
          return;
      }
    }
  }

  /** Whether text pushed now would be reasoning (for counting reasoning tokens). */
  get inReasoning(): boolean {
    return this.state !== 'content' && this.state !== 'before';
  }
}
