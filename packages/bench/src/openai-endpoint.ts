import http from 'node:http';
import https from 'node:https';
import { emptyOutput, type BenchRequest, type RequestOutput } from './bench-request.js';
import { SseParser } from './sse-parser.js';

export type ApiKind = 'completions' | 'chat';

export interface EndpointOptions {
  /** The server's root (http://host:port) or its OpenAI base URL (http://host:port/v1). */
  baseUrl: string;
  api?: ApiKind;
  /** Sent as a bearer token; OPENAI_API_KEY when not given. */
  apiKey?: string;
  headers?: Record<string, string>;
}

export interface SendOptions {
  model: string;
  ignoreEos?: boolean;
  /** More body fields (temperature, seed, ...), merged last. */
  extraBody?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Called at every chunk that carries output, with the output so far (e.g. to abandon a stream). */
  onOutput?: (out: RequestOutput) => void;
}

interface StreamChunk {
  id?: string;
  choices?: {
    text?: string | null;
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: unknown[] | null;
    };
    finish_reason?: string | null;
  }[];
  usage?: { completion_tokens?: number; prompt_tokens?: number } | null;
  error?: { message?: string };
}

/**
 * An OpenAI-compatible server as the benchmark drives it: streamed completions or chat completions
 * over plain keep-alive HTTP (node:http: per chunk it costs the client less than fetch's web streams,
 * which matters when the client shares two cores with the server), plus the tokenizer endpoints that
 * Loom, vLLM and llama-server all have at the root (/tokenize, /detokenize).
 */
export class OpenAIEndpoint {
  readonly root: string;
  readonly api: ApiKind;
  private readonly agent: http.Agent;
  private readonly client: typeof http | typeof https;
  private readonly headers: Record<string, string>;

  constructor(o: EndpointOptions) {
    this.root = o.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.api = o.api ?? 'completions';
    const secure = this.root.startsWith('https:');
    this.client = secure ? https : http;
    this.agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: Infinity });
    const key = o.apiKey ?? process.env.OPENAI_API_KEY;
    this.headers = {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...o.headers,
    };
  }

  get path(): string {
    return this.api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  }

  /** Closes idle keep-alive sockets (in-flight requests are not affected). */
  close(): void {
    this.agent.destroy();
  }

  /** GET or POST a small JSON body, answer parsed; throws with the status and body on a non-2xx. */
  async json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.root + path, {
      method,
      headers: this.headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** The first model the server lists, as `vllm bench serve` picks one when --model is not given. */
  async firstModel(): Promise<string> {
    const list = await this.json<{ data?: { id: string }[] }>('GET', '/v1/models');
    const id = list.data?.[0]?.id;
    if (!id) throw new Error(`${this.root}/v1/models lists no model`);
    return id;
  }

  /**
   * The model's vocabulary size: llama-server lists it (meta.n_vocab); otherwise the smallest id the
   * server's /detokenize refuses, found by bisection (Loom and vLLM refuse ids past the vocabulary).
   */
  async vocabSize(model: string): Promise<number> {
    const list = await this.json<{ data?: { id: string; meta?: { n_vocab?: number } }[] }>('GET', '/v1/models');
    const listed = list.data?.find((m) => m.id === model)?.meta?.n_vocab ?? list.data?.[0]?.meta?.n_vocab;
    if (listed) return listed;
    const ok = async (id: number) =>
      this.json('POST', '/detokenize', { model, tokens: [id] }).then(
        () => true,
        () => false,
      );
    if (!(await ok(0))) throw new Error(`${this.root}/detokenize refuses token 0: pass the vocabulary size`);
    let lo = 0;
    let hi = 1;
    while (await ok(hi)) {
      lo = hi;
      hi *= 2;
      if (hi > 1 << 24) throw new Error(`${this.root}/detokenize takes any id: pass the vocabulary size`);
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (await ok(mid)) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  /** Token ids of a text without special tokens (Loom and vLLM read `prompt`, llama-server `content`). */
  async tokenize(model: string, text: string): Promise<number[]> {
    const r = await this.json<{ tokens: (number | { id: number })[] }>('POST', '/tokenize', {
      model,
      prompt: text,
      content: text,
      add_special_tokens: false,
    });
    return r.tokens.map((t) => (typeof t === 'number' ? t : t.id));
  }

  async detokenize(model: string, tokens: number[]): Promise<string> {
    const r = await this.json<{ prompt?: string; content?: string }>('POST', '/detokenize', { model, tokens });
    return r.prompt ?? r.content ?? '';
  }

  /** The request body `send` posts for a request whose prompt is already text for chat. */
  body(req: BenchRequest, o: SendOptions): Record<string, unknown> {
    const common = {
      model: o.model,
      stream: true,
      stream_options: { include_usage: true },
      ...(o.ignoreEos ? { ignore_eos: true } : {}),
    };
    if (this.api === 'chat') {
      if (typeof req.prompt !== 'string') throw new Error('chat requests need text prompts (detokenize first)');
      return {
        ...common,
        messages: [{ role: 'user', content: req.prompt }],
        max_completion_tokens: req.outputLen,
        ...o.extraBody,
      };
    }
    return { ...common, prompt: req.prompt, max_tokens: req.outputLen, ...o.extraBody };
  }

  /** Streams one request and times it on the client (see RequestOutput). Never throws. */
  send(req: BenchRequest, o: SendOptions): Promise<RequestOutput> {
    const payload = JSON.stringify(this.body(req, o));
    const start = performance.now();
    const out = emptyOutput(req.promptLen, start / 1000);
    let last = start;
    let lastOutput = start;
    let done = false;
    let chunks = 0;
    const parser = new SseParser();
    return new Promise<RequestOutput>((resolve) => {
      let settled = false;
      const finish = (error?: string) => {
        if (settled) return;
        settled = true;
        // However the socket reports it (error, 'aborted', a cut stream), the caller's abort is an abort.
        if (o.signal?.aborted) error = 'aborted';
        if (error !== undefined) {
          out.success = false;
          out.error ||= error;
        } else if (out.status === 200) {
          if (chunks === 0) out.error = 'no chunk carried output';
          else if (!done) out.error = 'the stream ended before its last chunk';
          out.success = out.error === '';
        }
        out.latency = (last - start) / 1000;
        if (out.outputTokens === 0) out.outputTokens = chunks;
        resolve(out);
      };
      const onData = (data: string) => {
        if (data === '[DONE]') {
          done = true;
          return;
        }
        let chunk: StreamChunk;
        try {
          chunk = JSON.parse(data) as StreamChunk;
        } catch {
          out.error = `unparsable chunk: ${data.slice(0, 120)}`;
          return;
        }
        if (chunk.error) {
          out.error = `error event: ${chunk.error.message ?? data.slice(0, 200)}`;
          return;
        }
        out.id ||= chunk.id ?? '';
        if (chunk.usage) {
          if (chunk.usage.completion_tokens !== undefined) out.outputTokens = chunk.usage.completion_tokens;
          if (chunk.usage.prompt_tokens !== undefined) out.promptLen = chunk.usage.prompt_tokens;
        }
        const choice = chunk.choices?.[0];
        if (!choice) return;
        const now = performance.now();
        last = now;
        if (choice.finish_reason) {
          out.finishReason = choice.finish_reason;
          // A finish reason ends the (only) choice, [DONE] or not.
          done = true;
        }
        const d = choice.delta;
        const text = choice.text || d?.content || d?.reasoning_content || d?.reasoning || '';
        const tool = (choice.delta?.tool_calls?.length ?? 0) > 0;
        if (text === '' && !tool) return;
        // Generated output: the first such chunk is the first token, later ones are inter-token gaps.
        if (chunks === 0) out.ttft = (now - start) / 1000;
        else out.itl.push((now - lastOutput) / 1000);
        lastOutput = now;
        chunks++;
        out.generatedText += text;
        o.onOutput?.(out);
      };
      const url = new URL(this.root + this.path);
      const post = (retried: boolean): void => {
        const r = this.client.request(
          url,
          {
            method: 'POST',
            agent: this.agent,
            headers: { ...this.headers, 'content-length': Buffer.byteLength(payload) },
            ...(o.signal ? { signal: o.signal } : {}),
          },
          (res) => {
            out.status = res.statusCode ?? 0;
            if (out.status !== 200) {
              const ra = Number(res.headers['retry-after']);
              if (res.headers['retry-after'] !== undefined && Number.isFinite(ra)) out.retryAfter = ra;
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (s: string) => {
                if (text.length < 2000) text += s;
              });
              res.on('end', () => finish(`HTTP ${out.status}: ${text.slice(0, 300)}`));
              res.on('error', (e) => finish(`HTTP ${out.status}: ${e.message}`));
              return;
            }
            res.on('data', (b: Buffer) => {
              for (const data of parser.push(b)) onData(data);
            });
            res.on('end', () => finish());
            res.on('error', (e) => finish(e.message));
            res.on('aborted', () => finish('response aborted'));
          },
        );
        r.on('error', (e) => {
          // A kept-alive socket the server closed just as it was reused (llama-server closes after a
          // few requests per connection): nothing was answered, so sending once more on a new one is safe.
          if (!retried && r.reusedSocket && out.status === 0 && (e as NodeJS.ErrnoException).code === 'ECONNRESET')
            return post(true);
          finish(e.name === 'AbortError' ? 'aborted' : e.message);
        });
        r.end(payload);
      };
      post(false);
    });
  }
}
