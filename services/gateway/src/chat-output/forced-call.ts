import { BufferedParser } from './buffered-parser.js';
import type { OutputParser } from './chat-delta.js';
import { TaggedJsonParser } from './tagged-json-parser.js';

/** A function tool as forcing needs it: its name and parameters schema. */
export interface ForcedTool {
  name: string;
  parameters: Readonly<Record<string, unknown>>;
}

/** What forces a call: `tool_choice: 'required'` (any of the tools) or a named function. */
export type ForcedMode = { kind: 'required' } | { kind: 'named'; name: string };

/**
 * The JSON schema a forced call is decoded under (vLLM's, for any model, whatever its own call
 * syntax): a named function → its parameters (the output is the arguments object); 'required' → a
 * list of at least one `{"name": ..., "parameters": {...}}`, each the name of a tool with that tool's
 * parameters (at most one without parallel_tool_calls).
 */
export function forcedCallSchema(
  tools: readonly ForcedTool[],
  mode: ForcedMode,
  parallel: boolean,
): Record<string, unknown> {
  if (mode.kind === 'named') return { ...tools.find((t) => t.name === mode.name)!.parameters };
  return {
    type: 'array',
    minItems: 1,
    ...(parallel ? {} : { maxItems: 1 }),
    items: {
      anyOf: tools.map((t) => ({
        type: 'object',
        properties: { name: { type: 'string', enum: [t.name] }, parameters: t.parameters },
        required: ['name', 'parameters'],
        additionalProperties: false,
      })),
    },
  };
}

/**
 * The output of a forced named call is its arguments: the call is announced at the first character
 * of the value (or at the end, if the output was cut off before it), then the text streams as written.
 */
class ForcedArgumentsParser extends BufferedParser {
  private started = false;

  constructor(private readonly name: string) {
    super();
  }

  protected step(final: boolean): void {
    if (!this.started) {
      // JSON may start with whitespace; the arguments start at the value.
      this.buf = this.buf.replace(/^\s+/, '');
      if (!this.buf && !final) return;
      this.started = true;
      this.startCall(this.name);
    }
    this.args(this.take(this.buf.length));
  }
}

/** The parser of a forced call's output (the JSON of forcedCallSchema). */
export function forcedCallParser(mode: ForcedMode): OutputParser {
  if (mode.kind === 'named') return new ForcedArgumentsParser(mode.name);
  return new TaggedJsonParser({
    open: [],
    bare: true,
    json: { nameKeys: ['name'], argsKeys: ['parameters', 'arguments'], array: 'only' },
  });
}
