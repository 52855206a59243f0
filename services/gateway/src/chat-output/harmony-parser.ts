import { BufferedParser, findMarker, partialMarkerLength } from './buffered-parser.js';

const MESSAGE = '<|message|>';
const BODY_ENDS = ['<|end|>', '<|call|>', '<|return|>', '<|start|>'];

/**
 * gpt-oss's harmony format (vLLM's openai tool and reasoning parsers). The generation prompt ends
 * with `<|start|>assistant`; the model then writes messages, each a header up to `<|message|>` and a
 * body up to `<|end|>`, `<|call|>` or `<|return|>`:
 *
 *   <|channel|>analysis<|message|>...<|end|><|start|>assistant<|channel|>final<|message|>...<|return|>
 *   <|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"Paris"}<|call|>
 *
 * (the recipient may also come before `<|channel|>`). The analysis channel is reasoning, the final
 * channel content, a commentary message to `functions.NAME` a tool call whose body is the arguments
 * JSON (streamed as written); other commentary (preambles) is content. Text outside any header is
 * content too, so a model that writes no harmony at all still gets its text through.
 */
export class HarmonyParser extends BufferedParser {
  private inBody = false;
  private channel: 'reasoning' | 'content' | 'call' = 'content';
  private callHadArgs = false;

  constructor(private readonly toolsActive: boolean) {
    super();
  }

  protected step(final: boolean): void {
    for (;;) {
      if (!this.inBody) {
        const at = this.buf.indexOf(MESSAGE);
        if (at < 0) {
          // A header never finished: whatever it was, it is not hidden from the client.
          if (final) this.content(this.take(this.buf.length).replace(/^<\|channel\|>[a-z]*/, ''));
          return;
        }
        this.openBody(this.take(at));
        this.take(MESSAGE.length);
        continue;
      }
      const hit = findMarker(this.buf, BODY_ENDS);
      const end = hit ? hit.at : this.buf.length - (final ? 0 : partialMarkerLength(this.buf, BODY_ENDS));
      this.body(this.take(end));
      // `<|call|>` and `<|return|>` are stop tokens, usually hidden: the output may just end.
      if (hit || final) this.endBody();
      if (!hit) return;
      this.take(hit.marker.length);
    }
  }

  private endBody(): void {
    if (this.inBody && this.channel === 'call' && !this.callHadArgs) this.args('{}');
    this.inBody = false;
  }

  private openBody(header: string): void {
    const channel = /<\|channel\|>\s*([a-z]+)/.exec(header)?.[1] ?? '';
    const recipient = /\bto=([^\s<]+)/.exec(header)?.[1];
    this.inBody = true;
    if (channel === 'analysis') this.channel = 'reasoning';
    else if (recipient?.startsWith('functions.') && this.toolsActive) {
      this.channel = 'call';
      this.callHadArgs = false;
      this.startCall(recipient.slice('functions.'.length));
    } else this.channel = 'content';
  }

  private body(text: string): void {
    if (!text) return;
    if (this.channel === 'reasoning') this.reasoning(text);
    else if (this.channel === 'content') this.content(text);
    else {
      this.callHadArgs = true;
      this.args(text);
    }
  }
}
