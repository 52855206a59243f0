import type { ChatOutputOptions } from '../chat/chat-format.js';
import type { ChatDelta, OutputParser } from '../chat-output/chat-delta.js';
import type { ApiError } from '../errors/api-error.js';
import type { ApiFinishReason, ResponseContext, ResponseFormat, Usage } from '../generation/response-format.js';
import { newItemId, type ConversationItem } from './response-items.js';

/** The Response object's fields that echo the request (everything but id, status, output and usage). */
export type ResponseEcho = Record<string, unknown> & { created_at: number; model: string };

/** One output item while it is written: its index in `output` and the item as it stands. */
interface OpenItem {
  index: number;
  item: ConversationItem & { type: 'message' | 'function_call' | 'reasoning' };
  /** The text of its one content part (message, reasoning); a call's arguments live on the item. */
  text: string;
}

/** A parser that takes the output as content (models with no reasoning or tool-call syntax to read). */
const plainParser = (): OutputParser => ({
  push: (text) => (text ? [{ type: 'content', text }] : []),
  finish: () => [],
});

/**
 * The Responses API's shapes for one generation: OpenAI's event sequence while it streams, and the
 * Response object. The output parser's pieces (chat-output: reasoning, content, tool calls, in the
 * order the model wrote them) become output items: a `reasoning` item (its text a `reasoning_text`
 * part), a `message` (one `output_text` part), one `function_call` per call. An item opens with
 * `response.output_item.added` (and its part's `content_part.added`), grows by deltas, and closes with
 * its `.done` events when something else begins or the output ends. Every event carries the next
 * `sequence_number`. Events are built whether or not they are sent, so the body is the stream's end state.
 */
export class ResponseStreamFormat implements ResponseFormat {
  readonly output: ConversationItem[] = [];
  private readonly parser: OutputParser;
  private open: OpenItem | undefined;
  private seq = 0;
  private finishReason: ApiFinishReason = 'stop';
  private reasoningTokens = 0;
  private pendingTokens = 0;
  private built: object | undefined;
  private unfinished: object | undefined;

  constructor(
    private readonly id: string,
    private readonly echo: ResponseEcho,
    private readonly options: Pick<ChatOutputOptions, 'newCallId' | 'parallelToolCalls' | 'includeReasoning'> & {
      parser?: () => OutputParser;
    },
  ) {
    this.parser = options.parser?.() ?? plainParser();
  }

  /** As OpenAI ends a failed stream: the `error` event, then `response.failed` with the failed Response. */
  readonly typedEvents = {
    error: (err: ApiError, usage: Usage) => [
      this.event('error', { code: err.code ?? err.type, message: err.message, param: err.param }),
      this.event('response.failed', { response: this.unfinishedResponse(err, usage) }),
    ],
  };

  openingChunks(): object[] {
    const response = this.response('in_progress', null);
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  updateChunks(_ctx: ResponseContext, u: Parameters<ResponseFormat['updateChunks']>[1]): object[] {
    if (u.kind === 'prompt') return [];
    if (u.kind === 'finish') {
      this.finishReason = u.finishReason;
      const events = this.apply(this.parser.finish(), 0);
      if (this.open) events.push(...this.close());
      return events;
    }
    return this.apply(this.parser.push(u.text), u.tokens);
  }

  /** Never sent (the run's includeUsage is false): a Response carries its usage in its last event. */
  usageChunk(): object {
    return {};
  }

  closingChunks(_ctx: ResponseContext, usage: Usage): object[] {
    const response = this.final(usage);
    const type = this.finishReason === 'length' ? 'response.incomplete' : 'response.completed';
    return [this.event(type, { response })];
  }

  body(_ctx: ResponseContext, _choices: unknown, usage: Usage): object {
    return this.final(usage);
  }

  /** The finished Response object (built once: the stream's last event, the body and the stored copy agree). */
  final(usage: Usage): object {
    this.built ??= this.response(this.finishReason === 'length' ? 'incomplete' : 'completed', usage);
    return this.built;
  }

  /**
   * The Response of an output that ended early (built once, so the stream's `response.failed` and the stored copy
   * agree): `failed` with the error the client was told, or `incomplete` (no reason: the spec's two do not apply)
   * when the client went away and generation was cancelled. Its open item is kept as written so far, `incomplete`.
   */
  unfinishedResponse(err: ApiError | undefined, usage: Usage): object {
    if (this.unfinished) return this.unfinished;
    if (this.open) this.settle(this.open, 'incomplete');
    const response = this.response(err ? 'failed' : 'incomplete', usage) as Record<string, unknown>;
    if (err) response.error = { code: responseErrorCode(err), message: err.message };
    else response.incomplete_details = null;
    this.unfinished = response;
    return response;
  }

  usageDetails(): Pick<Usage, 'completion_tokens_details'> {
    return { completion_tokens_details: { reasoning_tokens: this.reasoningTokens } };
  }

  private response(status: 'in_progress' | 'completed' | 'incomplete' | 'failed', usage: Usage | null): object {
    return {
      id: this.id,
      object: 'response',
      ...this.echo,
      status,
      completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
      error: null,
      incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
      output: status === 'in_progress' ? [] : this.output,
      ...(usage
        ? {
            usage: {
              input_tokens: usage.prompt_tokens,
              input_tokens_details: {
                cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
                cache_write_tokens: 0,
              },
              output_tokens: usage.completion_tokens,
              output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
              total_tokens: usage.total_tokens,
            },
          }
        : {}),
    };
  }

  private event(type: string, fields: object): object {
    return { type, sequence_number: this.seq++, ...fields };
  }

  private apply(parsed: ChatDelta[], tokens: number): object[] {
    const deltas = this.options.parallelToolCalls
      ? parsed
      : parsed.filter((d) => (d.type !== 'tool_call' && d.type !== 'tool_args') || d.index === 0);
    this.pendingTokens += tokens;
    if (deltas.length) {
      // Tokens that made only reasoning are reasoning tokens (as chat counts them).
      if (deltas.every((d) => d.type === 'reasoning')) this.reasoningTokens += this.pendingTokens;
      this.pendingTokens = 0;
    }
    return deltas.flatMap((d) => this.piece(d));
  }

  private piece(d: ChatDelta): object[] {
    const events: object[] = [];
    const o = this.open;
    switch (d.type) {
      case 'reasoning': {
        if (!this.options.includeReasoning) return [];
        if (o?.item.type !== 'reasoning') events.push(...this.close(), ...this.begin('reasoning'));
        const r = this.open!;
        r.text += d.text;
        const at = { item_id: r.item.id, output_index: r.index, content_index: 0 };
        return [...events, this.event('response.reasoning_text.delta', { ...at, delta: d.text })];
      }
      case 'content': {
        if (o?.item.type !== 'message') events.push(...this.close(), ...this.begin('message'));
        const m = this.open!;
        m.text += d.text;
        const at = { item_id: m.item.id, output_index: m.index, content_index: 0 };
        return [...events, this.event('response.output_text.delta', { ...at, delta: d.text, logprobs: [] })];
      }
      case 'tool_call':
        return [...this.close(), ...this.begin('function_call', d)];
      case 'tool_args': {
        if (o?.item.type !== 'function_call') return [];
        o.item.arguments += d.text;
        return [
          this.event('response.function_call_arguments.delta', {
            item_id: o.item.id,
            output_index: o.index,
            delta: d.text,
          }),
        ];
      }
    }
  }

  private begin(kind: 'reasoning' | 'message' | 'function_call', call?: { name: string; id?: string }): object[] {
    const index = this.output.length;
    let item: OpenItem['item'];
    if (kind === 'reasoning')
      item = { id: newItemId('rs'), type: 'reasoning', summary: [], content: [], status: 'in_progress' };
    else if (kind === 'message')
      item = { id: newItemId('msg'), type: 'message', role: 'assistant', status: 'in_progress', content: [] };
    else
      item = {
        id: newItemId('fc'),
        type: 'function_call',
        call_id: call!.id ?? this.options.newCallId(),
        name: call!.name,
        arguments: '',
        status: 'in_progress',
      };
    this.open = { index, item, text: '' };
    this.output.push(item);
    const events = [this.event('response.output_item.added', { output_index: index, item: structuredClone(item) })];
    if (kind !== 'function_call')
      events.push(
        this.event('response.content_part.added', {
          item_id: item.id,
          output_index: index,
          content_index: 0,
          part: kind === 'message' ? outputText('') : { type: 'reasoning_text', text: '' },
        }),
      );
    return events;
  }

  /** The `.done` events of the open item, which takes its final shape in `output`. */
  private close(): object[] {
    const o = this.open;
    if (!o) return [];
    const part = this.settle(o, this.finishReason === 'length' ? 'incomplete' : 'completed');
    const at = { item_id: o.item.id, output_index: o.index };
    const events: object[] = [];
    if (o.item.type === 'function_call')
      events.push(
        this.event('response.function_call_arguments.done', { ...at, name: o.item.name, arguments: o.item.arguments }),
      );
    else
      events.push(
        o.item.type === 'message'
          ? this.event('response.output_text.done', { ...at, content_index: 0, text: o.text, logprobs: [] })
          : this.event('response.reasoning_text.done', { ...at, content_index: 0, text: o.text }),
        this.event('response.content_part.done', { ...at, content_index: 0, part }),
      );
    events.push(this.event('response.output_item.done', { output_index: o.index, item: structuredClone(o.item) }));
    return events;
  }

  /** Gives the open item its final content and status and closes it; returns its one content part, if it has one. */
  private settle(o: OpenItem, status: 'completed' | 'incomplete'): object | undefined {
    this.open = undefined;
    o.item.status = status;
    if (o.item.type === 'function_call') return undefined;
    if (o.item.type === 'message') return (o.item.content = [outputText(o.text)])[0];
    return (o.item.content = [{ type: 'reasoning_text', text: o.text }])[0];
  }
}

/** OpenAI's ResponseErrorCode for a failure: its enum has no code per cause, only these fit. */
function responseErrorCode(err: ApiError): 'rate_limit_exceeded' | 'invalid_prompt' | 'server_error' {
  if (err.status === 429) return 'rate_limit_exceeded';
  return err.status >= 400 && err.status < 500 ? 'invalid_prompt' : 'server_error';
}

const outputText = (text: string) => ({ type: 'output_text' as const, text, annotations: [], logprobs: [] });
