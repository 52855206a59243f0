/**
 * Tool conversations shaped the way each chat template expects them. OpenAI clients send an
 * assistant turn's `tool_calls[].function.arguments` as JSON text; most tool-aware templates
 * (transformers' convention, Llama 3.x, Hermes, Qwen) want the parsed object and print it with
 * `tojson`, while others concatenate it as a string (DeepSeek-R1's `'```json\n' + arguments`). Like
 * llama.cpp's template capabilities (common/jinja/caps.cpp), the template is probed once: a tool call
 * whose object argument carries a marker value is rendered, and arguments are passed as objects
 * when the marker shows up in the output, as text otherwise.
 *
 * Tool definitions go to templates as llama.cpp passes them: `description` is always a string ('' when
 * the client sent none; gpt-oss's and Hermes's templates concatenate it). Hermes's templates also trim
 * every parameter's description, which @huggingface/jinja cannot do to an undefined one (Python's Jinja
 * can): templates probed as needing it get '' for the missing ones.
 *
 * Mistral templates (Nemo, Small 3.x) raise unless every tool call id is exactly nine alphanumeric
 * characters (vLLM's MistralToolCall ids): such templates get ids mapped to nine characters, the same
 * way for an assistant's call and the tool message answering it.
 */
import { createHash } from 'node:crypto';
import { Template } from '@huggingface/jinja';
import type { ChatMessage, ChatToolCall } from './chat-template.js';

export interface ToolConventions {
  /**
   * The template writes an assistant turn's `tool_calls` (Granite 3.3, LFM2 and SmolLM3 do not: they
   * expect the call text in `content`, which the caller then writes in the model's own syntax).
   */
  rendersToolCalls: boolean;
  /** Pass `function.arguments` as a parsed object (true) or as the client's JSON text (false). */
  objectArguments: boolean;
  /** Tool call ids must be nine alphanumeric characters. */
  nineCharIds: boolean;
  /** Every parameter of a tool needs a `description` string. */
  propertyDescriptions: boolean;
}

/** What conventions a template without tool syntax (or without a template) gets. */
const PLAIN: ToolConventions = {
  rendersToolCalls: false,
  objectArguments: false,
  nineCharIds: false,
  propertyDescriptions: false,
};

const MARKER = 'loom_probe_value_7c1';
function probeTools(propertyDescription: boolean): unknown[] {
  const arg = propertyDescription ? { type: 'string', description: 'An argument' } : { type: 'string' };
  return [
    {
      type: 'function',
      function: {
        name: 'probe_tool',
        description: 'Probe tool',
        parameters: { type: 'object', properties: { arg }, required: ['arg'] },
      },
    },
  ];
}

function probeMessages(args: string | Record<string, unknown>): unknown[] {
  return [
    { role: 'user', content: 'User message' },
    {
      role: 'assistant',
      content: '',
      tool_calls: [{ id: 'call00001', type: 'function', function: { name: 'probe_tool', arguments: args } }],
    },
    { role: 'tool', content: 'Tool response', tool_call_id: 'call00001', name: 'probe_tool' },
    { role: 'assistant', content: 'Done.' },
    { role: 'user', content: 'User message' },
  ];
}

const cache = new Map<string, ToolConventions>();
const CACHE_LIMIT = 64;

/** Whether rendering the probe conversation with these arguments shows the marker (false when it throws). */
function probe(t: Template, args: string | Record<string, unknown>, propertyDescription = true): boolean {
  try {
    const out = t.render({
      messages: probeMessages(args),
      tools: probeTools(propertyDescription),
      bos_token: '',
      eos_token: '',
      add_generation_prompt: false,
    });
    return out.includes(MARKER);
  } catch {
    return false;
  }
}

/** How `template` wants tool calls (probed once per template source; undefined = the plain fallback). */
export function toolConventions(template: string | undefined): ToolConventions {
  if (template === undefined) return PLAIN;
  let c = cache.get(template);
  if (c) return c;
  let t: Template;
  try {
    t = new Template(template);
  } catch {
    // renderChat reports a template that does not parse.
    return PLAIN;
  }
  const objectArguments = probe(t, { arg: MARKER });
  const args = objectArguments ? { arg: MARKER } : JSON.stringify({ arg: MARKER });
  const rendersToolCalls = objectArguments || probe(t, args);
  c = {
    rendersToolCalls,
    objectArguments,
    nineCharIds: /\|\s*length\s*!=\s*9/.test(template),
    propertyDescriptions: rendersToolCalls && !probe(t, args, false),
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(template, c);
  return c;
}

/** Thrown when an assistant tool call's arguments must be an object and are not JSON of one. */
export class ToolArgumentsError extends Error {
  constructor(
    message: string,
    readonly messageIndex: number,
    readonly callIndex: number,
  ) {
    super(message);
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A nine-character alphanumeric id: the id itself when it already is one, else derived from its hash. */
export function nineCharId(id: string): string {
  if (/^[A-Za-z0-9]{9}$/.test(id)) return id;
  const h = createHash('sha256').update(id).digest();
  let out = '';
  for (const b of h.subarray(0, 9)) out += ALNUM.charAt(b % ALNUM.length);
  return out;
}

/**
 * Messages as `conventions` wants them: arguments parsed into objects (throws ToolArgumentsError
 * naming the call when they are not a JSON object), ids mapped to nine characters.
 */
export function applyToolConventions(messages: readonly ChatMessage[], conventions: ToolConventions): ChatMessage[] {
  const id = conventions.nineCharIds ? nineCharId : (s: string) => s;
  return messages.map((m, i) => {
    if (m.tool_calls?.length) {
      const calls: ChatToolCall[] = m.tool_calls.map((c, j) => ({
        ...c,
        id: id(c.id),
        function: {
          name: c.function.name,
          arguments: conventions.objectArguments ? argumentsObject(c.function.arguments, i, j) : c.function.arguments,
        },
      }));
      return { ...m, tool_calls: calls };
    }
    if (m.tool_call_id !== undefined && conventions.nineCharIds) return { ...m, tool_call_id: id(m.tool_call_id) };
    return m;
  });
}

function argumentsObject(
  args: string | Record<string, unknown>,
  messageIndex: number,
  callIndex: number,
): Record<string, unknown> {
  if (typeof args !== 'string') return args;
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch (e) {
    throw new ToolArgumentsError(`the arguments are not valid JSON (${(e as Error).message})`, messageIndex, callIndex);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ToolArgumentsError('the arguments must be a JSON object', messageIndex, callIndex);
  return v as Record<string, unknown>;
}

/** An OpenAI function tool as the request carries it (already validated). */
export interface ToolDefinition {
  type: 'function';
  function: {
    name: string;
    description?: string | null;
    parameters?: Record<string, unknown> | null;
    strict?: boolean | null;
  };
}

/**
 * Tool definitions as templates read them: `description` always a string, `parameters` always an
 * object schema (llama.cpp's common_chat_tool defaults), property descriptions filled where the
 * template needs them.
 */
export function templateTools(tools: readonly ToolDefinition[], conventions: ToolConventions): unknown[] {
  return tools.map((tool) => {
    let parameters = tool.function.parameters ?? { type: 'object', properties: {} };
    const props = parameters['properties'];
    if (conventions.propertyDescriptions && props && typeof props === 'object' && !Array.isArray(props)) {
      const filled: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(props as Record<string, unknown>)) {
        const isObj = v !== null && typeof v === 'object' && !Array.isArray(v);
        filled[k] =
          isObj && typeof (v as { description?: unknown }).description !== 'string' ? { ...v, description: '' } : v;
      }
      parameters = { ...parameters, properties: filled };
    }
    return {
      type: 'function',
      function: {
        ...tool.function,
        description: tool.function.description ?? '',
        parameters,
      },
    };
  });
}
