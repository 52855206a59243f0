import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ChatRequestMessage } from '../chat/chat-request.js';
import { ApiError } from '../errors/api-error.js';
import { apiErrorFromZod } from '../errors/zod-error.js';

/**
 * Conversation items as Loom keeps them (input items normalised, and output items as they were sent):
 * what a stored response's `input_items` lists and what `previous_response_id` prepends. Each has an id.
 */
export type ConversationItem =
  | { id: string; type: 'message'; role: 'user' | 'system' | 'developer'; status: 'completed'; content: TextPart[] }
  | {
      id: string;
      type: 'message';
      role: 'assistant';
      status: 'completed' | 'incomplete' | 'in_progress';
      content: TextPart[];
    }
  | {
      id: string;
      type: 'function_call';
      call_id: string;
      name: string;
      arguments: string;
      status: 'completed' | 'incomplete' | 'in_progress';
    }
  | {
      id: string;
      type: 'function_call_output';
      call_id: string;
      output: string;
      status: 'completed' | 'incomplete' | 'in_progress';
    }
  | {
      id: string;
      type: 'reasoning';
      summary: { type: 'summary_text'; text: string }[];
      content?: { type: 'reasoning_text'; text: string }[];
      status?: 'completed' | 'incomplete' | 'in_progress';
    };

type TextPart =
  | { type: 'input_text'; text: string }
  | { type: 'output_text'; text: string; annotations: unknown[]; logprobs?: unknown[] }
  | { type: 'refusal'; refusal: string };

/** `msg_…`, `fc_…`, `rs_…`: OpenAI's item id prefixes. */
export const newItemId = (prefix: 'msg' | 'fc' | 'rs' | 'fco'): string =>
  `${prefix}_${randomUUID().replaceAll('-', '')}`;

const part = z.looseObject({ type: z.string(), text: z.string().optional(), refusal: z.string().optional() });
const content = z.union([z.string(), z.array(part)]);
const status = z.enum(['completed', 'incomplete', 'in_progress']).optional();
const id = z.string().min(1).optional();

const message = z.object({
  type: z.literal('message').optional(),
  id,
  role: z.enum(['user', 'system', 'developer', 'assistant']),
  content,
  status,
});
const functionCall = z.object({
  type: z.literal('function_call'),
  id,
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status,
});
const functionCallOutput = z.object({
  type: z.literal('function_call_output'),
  id,
  call_id: z.string().min(1),
  output: content,
  status,
});
const reasoning = z.object({
  type: z.literal('reasoning'),
  id,
  summary: z.array(z.object({ type: z.literal('summary_text'), text: z.string() })).optional(),
  content: z.array(z.object({ type: z.literal('reasoning_text'), text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
  status,
});

/** `z.parse`, but a failure is the 400 naming the field under `at` (e.g. `input[3]`). */
export function parseAt<S extends z.ZodType>(schema: S, value: unknown, at: (string | number)[]): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  throw apiErrorFromZod(new z.ZodError(r.error.issues.map((i) => ({ ...i, path: [...at, ...i.path] }))));
}

/** Text parts of a message: input_text / output_text / refusal; images, files and audio are a 400. */
function textParts(c: z.output<typeof content>, role: string, at: (string | number)[]): TextPart[] {
  if (typeof c === 'string')
    return [role === 'assistant' ? { type: 'output_text', text: c, annotations: [] } : { type: 'input_text', text: c }];
  return c.map((p, j) => {
    if ((p.type === 'input_text' || p.type === 'output_text') && typeof p.text === 'string')
      return p.type === 'input_text'
        ? { type: 'input_text', text: p.text }
        : { type: 'output_text', text: p.text, annotations: [] };
    if (p.type === 'refusal' && typeof p.refusal === 'string') return { type: 'refusal', refusal: p.refusal };
    const param = `input[${String(at[1])}].content[${j}]`;
    if (['input_text', 'output_text', 'refusal'].includes(p.type))
      throw ApiError.invalid(`'${param}' of type '${p.type}' needs its text.`, param);
    throw ApiError.unsupported(
      `${param}.type`,
      `Content of type '${p.type}' is not supported: the model reads text (input_text, output_text).`,
    );
  });
}

const partText = (p: TextPart): string => (p.type === 'refusal' ? p.refusal : p.text);

/**
 * The request's `input` as conversation items, validated and given ids. A string is one user message.
 * Item kinds other than messages, function calls, their outputs and reasoning (item_reference, hosted
 * tools' calls) are a 400 naming `input[i].type`.
 */
export function inputItems(input: string | Record<string, unknown>[]): ConversationItem[] {
  if (typeof input === 'string')
    return [
      {
        id: newItemId('msg'),
        type: 'message',
        role: 'user',
        status: 'completed',
        content: textParts(input, 'user', []),
      },
    ];
  return input.map((raw, i): ConversationItem => {
    const at = ['input', i];
    const type = (raw.type as string | undefined) ?? 'message';
    switch (type) {
      case 'message': {
        const m = parseAt(message, raw, at);
        const parts = textParts(m.content, m.role, at);
        if (m.role === 'assistant')
          return {
            id: m.id ?? newItemId('msg'),
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: parts,
          };
        return { id: m.id ?? newItemId('msg'), type: 'message', role: m.role, status: 'completed', content: parts };
      }
      case 'function_call': {
        const c = parseAt(functionCall, raw, at);
        return { ...c, id: c.id ?? newItemId('fc'), status: c.status ?? 'completed' };
      }
      case 'function_call_output': {
        const o = parseAt(functionCallOutput, raw, at);
        const output = typeof o.output === 'string' ? o.output : textParts(o.output, 'tool', at).map(partText).join('');
        return { ...o, output, id: o.id ?? newItemId('fco'), status: o.status ?? 'completed' };
      }
      case 'reasoning': {
        const r = parseAt(reasoning, raw, at);
        return {
          id: r.id ?? newItemId('rs'),
          type: 'reasoning',
          summary: r.summary ?? [],
          ...(r.content ? { content: r.content } : {}),
        };
      }
      default:
        throw ApiError.unsupported(
          `input[${i}].type`,
          `Input items of type '${type}' are not supported: send messages, function_call, function_call_output and reasoning items.`,
        );
    }
  });
}

/**
 * Conversation items → the chat messages the model's template renders: `instructions` first as the
 * system message; an assistant message and the function calls and reasoning around it are one
 * assistant turn (content, `tool_calls`, `reasoning_content`), each call's output a `tool` message.
 */
export function chatMessages(items: readonly ConversationItem[], instructions?: string | null): ChatRequestMessage[] {
  const out: ChatRequestMessage[] = instructions ? [{ role: 'system', content: instructions }] : [];
  let reasoningText = '';
  /** The assistant turn being assembled (calls and reasoning join it until another role speaks). */
  let turn: Extract<ChatRequestMessage, { role: 'assistant' }> | undefined;
  const assistantTurn = () => {
    if (!turn) {
      turn = { role: 'assistant', content: null };
      out.push(turn);
    }
    if (reasoningText) turn.reasoning_content = (turn.reasoning_content ?? '') + reasoningText;
    reasoningText = '';
    return turn;
  };
  for (const item of items) {
    switch (item.type) {
      case 'message': {
        const text = item.content.map(partText).join('');
        if (item.role === 'assistant') {
          // A second assistant message after calls starts a new turn; text after text joins it.
          if (turn?.tool_calls?.length) turn = undefined;
          const t = assistantTurn();
          t.content = (t.content ?? '') + text;
        } else {
          turn = undefined;
          out.push({ role: item.role, content: text });
        }
        break;
      }
      case 'function_call': {
        const t = assistantTurn();
        (t.tool_calls ??= []).push({
          id: item.call_id,
          type: 'function',
          function: { name: item.name, arguments: item.arguments },
        });
        break;
      }
      case 'function_call_output':
        turn = undefined;
        out.push({ role: 'tool', tool_call_id: item.call_id, content: item.output });
        break;
      case 'reasoning':
        if (turn?.tool_calls?.length || turn?.content) turn = undefined;
        reasoningText += (item.content ?? []).map((c) => c.text).join('') || item.summary.map((s) => s.text).join('');
        break;
    }
  }
  return out;
}
