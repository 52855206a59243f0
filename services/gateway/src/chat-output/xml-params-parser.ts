import { BufferedParser, findMarker, partialMarkerLength } from './buffered-parser.js';
import type { ToolSchemas } from './chat-delta.js';

export interface XmlParamsFormat {
  /** Markers around a region of calls (a family may have several spellings). */
  regionOpen: readonly string[];
  regionClose: readonly string[];
  /** Text before a call's name; '' when the region is itself one call (GLM). */
  callOpen: string;
  /** Markers that end the name; those also in `keepAfterName` are left for what follows. */
  nameEnd: readonly string[];
  keepAfterName?: readonly string[];
  paramOpen: string;
  keyEnd: string;
  /** Marker between the key and its value (GLM's `<arg_value>`), after optional whitespace. */
  valueOpen?: string;
  paramClose: string;
  callClose: string;
  /** Key as written → parameter name, and whether the model marked the value a string (DeepSeek V3.2 DSML). */
  parseKey?: (raw: string) => { key: string; string?: boolean };
}

type State = 'content' | 'region' | 'name' | 'params' | 'key' | 'valueOpen' | 'value' | 'stringStart' | 'string';

/**
 * Tool calls with one XML-ish element per parameter: Qwen3-Coder / Qwen3.5
 * (`<tool_call><function=f><parameter=k>v</parameter></function></tool_call>`), GLM-4.5+
 * (`<tool_call>f<arg_key>k</arg_key><arg_value>v</arg_value></tool_call>`), MiniMax-M2
 * (`<minimax:tool_call><invoke name="f"><parameter name="k">v</parameter></invoke>...`), DeepSeek V3.2
 * (DSML). Values are untyped text, made JSON by the tool's schema as vLLM's qwen3_coder parser does:
 * a string parameter (or one the schema does not name) is a JSON string of the text, anything else is
 * the text parsed as JSON (a string again when it does not parse). Arguments stream as `{"k": v`,
 * `, "k2": v2`, then `}` when the call closes (or when the output ends inside it), so the pieces always
 * join to a JSON object: a string value as it comes (escaped; a possible closer held back, so a file
 * a coder model writes shows while it is written), any other value whole at its closer.
 */
export class XmlParamsParser extends BufferedParser {
  private state: State = 'content';
  private inCall = false;
  private params = 0;
  private callName = '';
  private key: { key: string; string?: boolean } = { key: '' };

  constructor(
    private readonly f: XmlParamsFormat,
    private readonly schemas: ToolSchemas,
  ) {
    super();
  }

  protected step(final: boolean): void {
    while (this.advance(final));
    if (final && this.inCall) this.closeCall();
  }

  private advance(final: boolean): boolean {
    const f = this.f;
    switch (this.state) {
      case 'content': {
        if (this.contentUntil(f.regionOpen, final) === undefined) return false;
        this.state = f.callOpen === '' ? 'name' : 'region';
        return true;
      }
      case 'region': {
        const m = this.nextMarker([f.callOpen, ...f.regionClose], final);
        if (m === undefined) return false;
        if (m === f.callOpen) this.state = 'name';
        else this.state = 'content'; // region closed, or not a call after all: the rest is content
        return true;
      }
      case 'name': {
        const hit = findMarker(this.buf, f.nameEnd);
        if (!hit) {
          if (final) this.state = 'content';
          return false;
        }
        this.callName = this.take(hit.at).trim();
        if (!f.keepAfterName?.includes(hit.marker)) this.take(hit.marker.length);
        this.startCall(this.callName);
        this.inCall = true;
        this.params = 0;
        this.state = 'params';
        return true;
      }
      case 'params': {
        const m = this.nextMarker([f.paramOpen, f.callClose], final);
        if (m === undefined) return false;
        if (m === f.paramOpen) {
          this.state = 'key';
          return true;
        }
        this.closeCall();
        // Without a call opener the region was the call (GLM): its closer ended both. Anything
        // unexpected ends the call, and is content.
        this.state = m === f.callClose && f.callOpen !== '' ? 'region' : 'content';
        return true;
      }
      case 'key': {
        const at = this.buf.indexOf(f.keyEnd);
        if (at < 0) {
          if (final) this.state = 'content';
          return false;
        }
        const raw = this.take(at).trim();
        this.take(f.keyEnd.length);
        this.key = f.parseKey ? f.parseKey(raw) : { key: raw };
        this.state = f.valueOpen ? 'valueOpen' : 'value';
        return true;
      }
      case 'valueOpen': {
        const m = this.nextMarker([f.valueOpen!], final);
        if (m === undefined) return false;
        this.state = m === f.valueOpen ? 'value' : 'params';
        return true;
      }
      case 'value': {
        if (this.isString()) {
          this.state = 'stringStart';
          return true;
        }
        const at = this.buf.indexOf(f.paramClose);
        if (at < 0) {
          if (final) this.state = 'content';
          return false;
        }
        const value = this.take(at);
        this.take(f.paramClose.length);
        this.args(`${this.paramPrefix()}${this.jsonValue(value)}`);
        this.state = 'params';
        return true;
      }
      case 'stringStart':
        // Qwen3-Coder writes each value on its own lines: one newline either side is layout.
        if (!this.buf && !final) return false;
        if (this.buf[0] === '\n') this.take(1);
        this.args(`${this.paramPrefix()}"`);
        this.state = 'string';
        return true;
      case 'string': {
        const at = this.buf.indexOf(f.paramClose);
        if (at >= 0 || final) {
          const text = this.take(at >= 0 ? at : this.buf.length);
          this.take(at >= 0 ? f.paramClose.length : 0);
          this.args(`${escapeJson(at >= 0 ? text.replace(/\n$/, '') : text)}"`);
          this.state = at >= 0 ? 'params' : 'content';
          return at >= 0;
        }
        const keep = partialMarkerLength(this.buf, [`\n${f.paramClose}`, f.paramClose]);
        this.args(escapeJson(this.take(this.buf.length - keep)));
        return false;
      }
    }
  }

  /** `{"key": ` for the call's first parameter, `, "key": ` after. */
  private paramPrefix(): string {
    return `${this.params++ === 0 ? '{' : ', '}${JSON.stringify(this.key.key)}: `;
  }

  private isString(): boolean {
    return this.key.string ?? isStringParam(this.schemas.get(this.callName), this.key.key);
  }

  private closeCall(): void {
    if (!this.inCall) return;
    this.args(this.params === 0 ? '{}' : '}');
    this.inCall = false;
  }

  /** A non-string parameter's text as JSON (a JSON string when it is not JSON). */
  private jsonValue(text: string): string {
    const v = text.replace(/^\n/, '').replace(/\n$/, '');
    try {
      return JSON.stringify(JSON.parse(v.trim()));
    } catch {
      if (/^(True|False)$/.test(v.trim())) return v.trim().toLowerCase();
      return JSON.stringify(v);
    }
  }
}

/** `s` as inside a JSON string literal. */
function escapeJson(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/** Whether the schema says the parameter is a string, or says nothing of it (then it is taken as text). */
function isStringParam(schema: Readonly<Record<string, unknown>> | undefined, key: string): boolean {
  const props = schema?.['properties'];
  const p = props && typeof props === 'object' ? (props as Record<string, unknown>)[key] : undefined;
  if (!p || typeof p !== 'object') return true;
  const t = (p as { type?: unknown }).type;
  const types = Array.isArray(t) ? t : t === undefined ? [] : [t];
  if (types.length === 0) return false; // anyOf / enum / $ref: parse it
  return types.includes('string');
}
