/**
 * Renders a conversation into the prompt text with the model's own Jinja chat template
 * (`tokenizer.chat_template`) through @huggingface/jinja. The template sees the variables Hugging Face's
 * apply_chat_template passes: `messages`, `tools` (null when there are none, as transformers passes
 * None: templates test `tools is not none`), `bos_token`, `eos_token`, `add_generation_prompt`, plus
 * the request's template variables (chat_template_kwargs, enable_thinking, reasoning_effort), which
 * never override those; `raise_exception(msg)` (throws Error(msg)) and `strftime_now` are globals
 * @huggingface/jinja defines itself (passing our own raise_exception would be rejected as a
 * redeclared variable). Tool conversations are shaped for the template by chat-tool-messages.ts.
 * Python string methods the library lacks and templates use are added by jinja-compat.ts.
 *
 * Without a template the documented plain fallback FALLBACK_CHAT_TEMPLATE is used: each message as
 * "<role>: <content>\n", then "assistant:" when a generation prompt is asked for. It is deliberately not
 * ChatML: a model without a template was not trained on any chat format, and a plain transcript is the
 * least surprising prompt for it.
 *
 * The rendered text usually starts with the BOS text; encode it with parseSpecial so "<s>" etc. become
 * their ids, and without addSpecial when the template already wrote a BOS.
 */
import { at } from '@loom/common';
import { Template } from '@huggingface/jinja';
import './jinja-compat.js';

/** A tool call of an assistant message, as templates read it. */
export interface ChatToolCall {
  id: string;
  type: 'function';
  /** `arguments` is the JSON text, or its parsed object for templates that expect one (chat-tool-messages.ts). */
  function: { name: string; arguments: string | Record<string, unknown> };
}

/** One message as templates read it: OpenAI's message shape with content already text. */
export interface ChatMessage {
  role: string;
  content: string;
  name?: string;
  /** Assistant turns that called tools. */
  tool_calls?: ChatToolCall[];
  /** `tool` turns: the call they answer. */
  tool_call_id?: string;
  /** Assistant reasoning of an earlier turn (templates that replay it read `reasoning_content`). */
  reasoning_content?: string;
}

export interface RenderChatOptions {
  addGenerationPrompt: boolean;
  bosToken: string;
  eosToken: string;
  /** OpenAI tool definitions (`{type: 'function', function: {name, description, parameters}}`). */
  tools?: readonly unknown[];
  /** Extra template variables (chat_template_kwargs, enable_thinking, reasoning_effort). */
  variables?: Readonly<Record<string, unknown>>;
}

export const FALLBACK_CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";

/** The template renders the conversation but fails on the request's tool definitions. */
export class ChatTemplateToolsError extends Error {}

/** Compiled templates by source: parsing costs far more than rendering and templates repeat. */
const compiled = new Map<string, Template>();
const COMPILED_LIMIT = 64;

function compile(source: string): Template {
  let t = compiled.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new Error(
        `the chat template does not parse: ${(e as Error).message}; fix tokenizer.chat_template or serve the model with an explicit template`,
      );
    }
    if (compiled.size >= COMPILED_LIMIT) compiled.clear();
    compiled.set(source, t);
  }
  return t;
}

function render(
  t: Template,
  messages: readonly ChatMessage[],
  opts: RenderChatOptions,
  addGenerationPrompt: boolean,
): string {
  return t.render({
    ...opts.variables,
    messages,
    tools: opts.tools?.length ? opts.tools : null,
    bos_token: opts.bosToken,
    eos_token: opts.eosToken,
    add_generation_prompt: addGenerationPrompt,
  });
}

/**
 * Renders `messages` into prompt text. On a template error (raise_exception or a runtime error) it
 * throws an Error naming the first message, by index and role, whose addition makes the template fail.
 */
export function renderChat(
  template: string | undefined,
  messages: readonly ChatMessage[],
  opts: RenderChatOptions,
): string {
  return renderWith(compile(template ?? FALLBACK_CHAT_TEMPLATE), messages, opts, opts.addGenerationPrompt);
}

/**
 * The prompt and its generation prompt: the text add_generation_prompt appends (llama.cpp's
 * common_chat_template_generation_prompt: the rendered prompt past its common prefix with the
 * render without it). Output parsers start from it: a prompt that ends inside `<think>` (DeepSeek-R1,
 * Qwen3.5) means the output begins as reasoning. '' when no generation prompt is asked for.
 */
export function renderChatPrompt(
  template: string | undefined,
  messages: readonly ChatMessage[],
  opts: RenderChatOptions,
): { text: string; generationPrompt: string } {
  const t = compile(template ?? FALLBACK_CHAT_TEMPLATE);
  const text = renderWith(t, messages, opts, opts.addGenerationPrompt);
  if (!opts.addGenerationPrompt) return { text, generationPrompt: '' };
  let without: string;
  try {
    without = render(t, messages, opts, false);
  } catch {
    // Some templates insist on ending with a user turn unless asked to generate: nothing to compare.
    return { text, generationPrompt: '' };
  }
  let common = 0;
  const max = Math.min(text.length, without.length);
  while (common < max && text.charCodeAt(common) === without.charCodeAt(common)) common++;
  return { text, generationPrompt: text.slice(common) };
}

function renderWith(
  t: Template,
  messages: readonly ChatMessage[],
  opts: RenderChatOptions,
  addGenerationPrompt: boolean,
): string {
  try {
    return render(t, messages, opts, addGenerationPrompt);
  } catch (e) {
    const reason = (e as Error).message;
    if (opts.tools?.length) {
      // A template that renders the conversation without the tools is failing on them.
      let withoutTools = false;
      try {
        render(t, messages, { ...opts, tools: undefined }, addGenerationPrompt);
        withoutTools = true;
      } catch {
        // not the tools (or not only): find the message below
      }
      if (withoutTools)
        throw new ChatTemplateToolsError(`the model's chat template could not render the tools: ${reason}`);
    }
    // Find the shortest prefix of the conversation the template rejects for the same reason: its last
    // message is the culprit (a shorter prefix may fail for another reason, e.g. no user turn yet).
    for (let n = 1; n <= messages.length; n++) {
      try {
        render(t, messages.slice(0, n), opts, false);
      } catch (e2) {
        if ((e2 as Error).message !== reason) continue;
        const m = at(messages, n - 1);
        throw new Error(`the model's chat template rejected message ${n - 1} (role '${m.role}'): ${reason}`);
      }
    }
    throw new Error(
      `the model's chat template rejected the conversation (${messages.length} messages, add_generation_prompt=${opts.addGenerationPrompt}): ${reason}`,
    );
  }
}
