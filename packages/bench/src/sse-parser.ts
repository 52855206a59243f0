/**
 * Splits a Server-Sent Events byte stream into the data payloads of its events. Events end at a blank
 * line (LF or CRLF); comment lines (':' first, used as keep-alives) and other fields are skipped; a
 * multi-line data field is joined with '\n' as the SSE spec says.
 */
export class SseParser {
  private buffered = '';
  private readonly decoder = new TextDecoder();

  /** The complete events' data in `bytes` (plus what was held back), in order. */
  push(bytes: Uint8Array): string[] {
    this.buffered += this.decoder.decode(bytes, { stream: true });
    const out: string[] = [];
    for (;;) {
      const lf = this.buffered.indexOf('\n\n');
      const crlf = this.buffered.indexOf('\r\n\r\n');
      let cut: number, skip: number;
      if (lf < 0 && crlf < 0) break;
      if (crlf >= 0 && (lf < 0 || crlf < lf)) [cut, skip] = [crlf, 4];
      else [cut, skip] = [lf, 2];
      const event = this.buffered.slice(0, cut);
      this.buffered = this.buffered.slice(cut + skip);
      let data: string | undefined;
      for (const line of event.split(/\r?\n/)) {
        if (!line.startsWith('data:')) continue;
        const value = line.slice(line.startsWith('data: ') ? 6 : 5);
        data = data === undefined ? value : `${data}\n${value}`;
      }
      if (data !== undefined) out.push(data);
    }
    return out;
  }
}
