/**
 * What output parsers make of a choice's text: the pieces of an assistant message in the order the
 * model wrote them. A tool call is announced once (`tool_call`, with its name) before any of its
 * argument text; the `tool_args` pieces of one call, concatenated, are its arguments JSON exactly.
 * Indexes count the choice's tool calls from 0, in order.
 */
export type ChatDelta =
  | { type: 'content'; text: string }
  | { type: 'reasoning'; text: string }
  /** `id`: the call id the model wrote itself (Kimi-K2), when it wrote one. */
  | { type: 'tool_call'; index: number; name: string; id?: string }
  | { type: 'tool_args'; index: number; text: string };

/**
 * An incremental parser of one choice's output text. Invariant: what it returns depends on the
 * text only, never on how the text was cut into pushes, so a stream and a body built from the same
 * text agree. Text that might still turn out to be part of a marker is held back until it cannot.
 */
export interface OutputParser {
  /** New output text; returns the pieces that became certain. */
  push(text: string): ChatDelta[];
  /** The output ended: everything held back is released. */
  finish(): ChatDelta[];
}

/** The JSON schema type of each parameter of each tool, for formats whose arguments are untyped text (XML). */
export type ToolSchemas = ReadonlyMap<string, Readonly<Record<string, unknown>>>;
