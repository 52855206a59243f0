/**
 * Earlier assistant tool calls written back into a prompt, for chat templates that expect them in the
 * message content in the family's own syntax rather than in `tool_calls` (parser-registry.ts says which).
 */

/** An earlier assistant call, as the request carries it. */
export interface WrittenCall {
  function: { name: string; arguments: string };
}

/** `[{"name": ..., "arguments": {...}}]`: calls for a template with no syntax of its own. */
export function writeCallsAsJson(calls: readonly WrittenCall[]): string {
  return JSON.stringify(calls.map(callObject));
}

/** A call as `{name, arguments}`, its arguments parsed when they are JSON (else the string as given). */
export function callObject(c: WrittenCall): { name: string; arguments: unknown } {
  let args: unknown;
  try {
    args = JSON.parse(c.function.arguments);
  } catch {
    args = c.function.arguments;
  }
  return { name: c.function.name, arguments: args };
}

/** A JSON value as a Python literal (pythonic calls): JSON strings and numbers already are one. */
function pythonLiteral(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (Array.isArray(v)) return `[${v.map(pythonLiteral).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pythonLiteral(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

/** `[name(key=value, ...), ...]`: calls as the pythonic templates write them (Llama 3.2, LFM2). */
export function writePythonic(calls: readonly WrittenCall[]): string {
  const one = (c: WrittenCall) => {
    const { name, arguments: args } = callObject(c);
    const kw = args && typeof args === 'object' ? Object.entries(args as Record<string, unknown>) : [];
    return `${name}(${kw.map(([k, v]) => `${k}=${pythonLiteral(v)}`).join(', ')})`;
  };
  return `[${calls.map(one).join(', ')}]`;
}
