/**
 * Renders a conversation into the prompt text with the model's own Jinja chat template
 * (`tokenizer.chat_template`) through @huggingface/jinja. The template sees the variables Hugging Face's
 * apply_chat_template passes: `messages`, `bos_token`, `eos_token`, `add_generation_prompt`;
 * `raise_exception(msg)` (throws Error(msg)) and `strftime_now` are globals @huggingface/jinja defines
 * itself (passing our own raise_exception would be rejected as a redeclared variable).
 *
 * Without a template the documented plain fallback FALLBACK_CHAT_TEMPLATE is used: each message as
 * "<role>: <content>\n", then "assistant:" when a generation prompt is asked for. It is deliberately not
 * ChatML: a model without a template was not trained on any chat format, and a plain transcript is the
 * least surprising prompt for it.
 *
 * The rendered text usually starts with the BOS text; encode it with parseSpecial so "<s>" etc. become
 * their ids, and without addSpecial when the template already wrote a BOS.
 */
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface RenderChatOptions {
  addGenerationPrompt: boolean;
  bosToken: string;
  eosToken: string;
}

export const FALLBACK_CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";

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
    messages,
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
  const t = compile(template ?? FALLBACK_CHAT_TEMPLATE);
  try {
    return render(t, messages, opts, opts.addGenerationPrompt);
  } catch (e) {
    const reason = (e as Error).message;
    // Find the shortest prefix of the conversation the template rejects: its last message is the culprit.
    for (let n = 1; n <= messages.length; n++) {
      try {
        render(t, messages.slice(0, n), opts, false);
      } catch {
        const m = messages[n - 1]!;
        throw new Error(`the model's chat template rejected message ${n - 1} (role '${m.role}'): ${reason}`);
      }
    }
    throw new Error(
      `the model's chat template rejected the conversation (${messages.length} messages, add_generation_prompt=${opts.addGenerationPrompt}): ${reason}`,
    );
  }
}
