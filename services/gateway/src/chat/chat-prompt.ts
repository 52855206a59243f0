import type { ModelCard } from '@loom/common';
import {
  applyToolConventions,
  ChatTemplateToolsError,
  templateTools,
  ToolArgumentsError,
  toolConventions,
  type ChatMessage,
  type ToolConventions,
} from '@loom/tokenizer';
import { writeCallsAsJson, type WrittenCall } from '../chat-output/call-writers.js';
import { TOOL_PARSERS } from '../chat-output/parser-registry.js';
import { ApiError } from '../errors/api-error.js';
import type { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import type { ChatRequest, ChatRequestMessage, ChatTool } from './chat-request.js';

/** The parts of a chat request that shape the prompt (the chat endpoint's body, or /tokenize's). */
export type ChatPromptRequest = Pick<ChatRequest, 'messages'> &
  Partial<Pick<ChatRequest, 'chat_template_kwargs' | 'reasoning_effort'>>;

export interface ChatPrompt {
  ids: number[];
  /** What the template's add_generation_prompt appended: output parsers start from it. */
  generationPrompt: string;
}

/**
 * Renders a chat request with the model's template and tokenizes it: messages in the shape the
 * template reads (content parts joined, `developer` as `system` except for gpt-oss's template which
 * has the role, tool calls as the template wants them: see @loom/tokenizer's chat-tool-messages),
 * `tools` passed to it, and the template variables (chat_template_kwargs; reasoning_effort, where
 * 'none' also means enable_thinking=false unless the kwargs say otherwise). `toolParser` is the
 * model's tool-call family: a template that does not write assistant tool calls gets them in the
 * content, in that family's syntax. A template that rejects the request is a 400 naming the messages
 * or the tools; one that does not parse is the deployment's fault (500). With tools, a model that
 * ships a tool_use template (Hermes 2 Pro / 3) gets that one, as llama.cpp does. `describeTools`
 * (a forced call): a template with no tools of its own gets them described in the first system (or
 * user) message, as llama.cpp's generic tool handling does, so the model knows what it must call.
 */
export function buildChatPrompt(
  tokenizers: ModelTokenizers,
  card: ModelCard,
  body: ChatPromptRequest,
  tools: readonly ChatTool[],
  toolParser: string | undefined,
  opts: { describeTools?: boolean } = {},
): ChatPrompt {
  const template = tools.length && card.toolUseChatTemplate ? card.toolUseChatTemplate : card.chatTemplate;
  const conventions = toolConventions(template);
  let messages: ChatMessage[];
  try {
    messages = applyToolConventions(templateMessages(body.messages, template, conventions, toolParser), conventions);
    if (opts.describeTools && tools.length && !/\btools\b/.test(template ?? ''))
      messages = describeTools(messages, tools);
  } catch (e) {
    if (e instanceof ToolArgumentsError)
      throw ApiError.invalid(
        `Tool call arguments must be a JSON object: ${e.message}.`,
        `messages[${e.messageIndex}].tool_calls[${e.callIndex}].function.arguments`,
      );
    throw e;
  }
  try {
    return tokenizers.encodeChat(card, messages, {
      template,
      tools: tools.length ? templateTools(tools as Parameters<typeof templateTools>[0], conventions) : undefined,
      variables: templateVariables(body),
    });
  } catch (err) {
    const message = (err as Error).message;
    // A template that does not even parse is the deployment's fault, not the client's.
    if (message.startsWith('the chat template does not parse')) throw err;
    if (err instanceof ChatTemplateToolsError)
      throw ApiError.invalid(`The chat template could not render these tools: ${message}`, 'tools');
    // Templates raise on conversations they do not support (e.g. roles out of order): client input.
    throw ApiError.invalid(`The chat template could not render these messages: ${message}`, 'messages');
  }
}

function templateVariables(body: ChatPromptRequest): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  if (body.reasoning_effort) {
    vars['reasoning_effort'] = body.reasoning_effort;
    if (body.reasoning_effort === 'none') vars['enable_thinking'] = false;
  }
  return { ...vars, ...body.chat_template_kwargs };
}

function text(content: ChatRequestMessage['content']): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

/** Request messages → what templates read. */
export function templateMessages(
  messages: readonly ChatRequestMessage[],
  template: string | undefined,
  conventions: ToolConventions,
  toolParser: string | undefined,
): ChatMessage[] {
  // llama.cpp's rule: only gpt-oss's template knows the developer role.
  const keepDeveloper = template?.includes('<|channel|>') ?? false;
  const callNames = new Map<string, string>();
  return messages.map((m) => {
    const role = m.role === 'developer' && !keepDeveloper ? 'system' : m.role;
    const out: ChatMessage = { role, content: text(m.content) };
    if (m.name) out.name = m.name;
    if (m.role === 'tool') {
      out.tool_call_id = m.tool_call_id;
      // Some templates name the function a result comes from (gpt-oss, Gemma): the call's name.
      out.name ??= callNames.get(m.tool_call_id);
    } else if (m.role === 'assistant') {
      const reasoning = m.reasoning_content ?? m.reasoning;
      if (reasoning) out.reasoning_content = reasoning;
      const calls = m.tool_calls ?? [];
      for (const c of calls) callNames.set(c.id, c.function.name);
      if (calls.length && conventions.rendersToolCalls) out.tool_calls = calls.map((c) => ({ ...c }));
      else if (calls.length) out.content += writeCalls(calls, toolParser);
    }
    return out;
  });
}

/** The tools described in the first system message, or at the head of the first user message. */
function describeTools(messages: ChatMessage[], tools: readonly ChatTool[]): ChatMessage[] {
  const text = `You can call these functions (parameters as JSON Schema):\n${JSON.stringify(
    tools.map((t) => t.function),
    null,
    2,
  )}`;
  const at = messages.findIndex((m) => m.role === 'system');
  const i = at >= 0 ? at : messages.findIndex((m) => m.role === 'user');
  if (i < 0) return messages;
  return messages.map((m, k) =>
    k !== i ? m : { ...m, content: at >= 0 ? `${m.content}\n\n${text}` : `${text}\n\n${m.content}` },
  );
}

/** Calls written as the model writes them, for templates that leave that to the content. */
function writeCalls(calls: readonly WrittenCall[], toolParser: string | undefined): string {
  const write = (toolParser && TOOL_PARSERS[toolParser]?.write) || writeCallsAsJson;
  return write(calls);
}
