/**
 * The test cases of llama.cpp's tests/test-chat-template.cpp (read from llama-cpp-source.ts): each a
 * template with the output llama.cpp expects for its fixed conversation. The file is C++; the cases are
 * a list of designated-initializer-like entries (`/* .name= *\/ "..."`, ...) whose values are C string
 * literals (adjacent literals concatenate, U8C(...) wraps UTF-8 ones), booleans or `{{"role", "text"}}`
 * lists, which is all this reader understands. Test code only.
 */
import * as fs from 'node:fs';
import { at } from '@loom/common';
import { llamaCppFile } from '../llama-cpp-source.js';
import type { ChatMessage } from '../chat-template.js';

export interface LlamaCppChatCase {
  name: string;
  template: string;
  /** llama.cpp's legacy (non-Jinja) formatter output. */
  expectedLegacy: string;
  /** What llama.cpp's Jinja path must render ('' in the file: the legacy output). */
  expected: string;
  bosToken: string;
  eosToken: string;
  supportedWithJinja: boolean;
  messages: ChatMessage[];
}

/** The conversation every case renders (main_automated_tests' `conversation`). */
export const LLAMA_CPP_CONVERSATION: readonly ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant' },
  { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi there' },
  { role: 'user', content: 'Who are you' },
  { role: 'assistant', content: '   I am an assistant   ' },
  { role: 'user', content: 'Another question' },
];

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '?': '?',
  '0': '\0',
};

/** Reads C string literals from src[at]: one or more adjacent ones, optionally inside U8C( ). */
class Reader {
  constructor(
    private readonly src: string,
    public at: number,
  ) {}
  private skip(): void {
    for (;;) {
      while (/\s/.test(this.src[this.at] ?? '')) this.at++;
      if (this.src.startsWith('//', this.at)) this.at = this.src.indexOf('\n', this.at);
      else break;
    }
  }
  literal(): string {
    this.skip();
    if (this.src.startsWith('U8C(', this.at)) {
      this.at += 4;
      const s = this.literal();
      this.skip();
      if (this.src[this.at++] !== ')') throw new Error(`test-chat-template.cpp: ')' expected at ${this.at}`);
      return s;
    }
    let out = '';
    for (this.skip(); this.src[this.at] === '"' || this.src.startsWith('u8"', this.at); this.skip()) {
      if (this.src[this.at] === 'u') this.at += 2;
      for (this.at++; this.src[this.at] !== '"'; this.at++) {
        if (this.at >= this.src.length) throw new Error('test-chat-template.cpp: unterminated string literal');
        const ch = this.src.charAt(this.at);
        if (ch !== '\\') {
          out += ch;
          continue;
        }
        const e = this.src.charAt(++this.at);
        if (e === 'x') {
          const hex = /^[0-9a-fA-F]+/.exec(this.src.slice(this.at + 1))![0];
          out += String.fromCharCode(parseInt(hex, 16));
          this.at += hex.length;
        } else if (ESCAPES[e] !== undefined) out += ESCAPES[e];
        else throw new Error(`test-chat-template.cpp: unknown escape \\${e}`);
      }
      this.at++;
    }
    return out;
  }
  value(): string | boolean | ChatMessage[] {
    this.skip();
    if (this.src.startsWith('true', this.at) || this.src.startsWith('false', this.at)) {
      const v = this.src.startsWith('true', this.at);
      this.at += v ? 4 : 5;
      return v;
    }
    if (this.src.startsWith('{{', this.at)) {
      const messages: ChatMessage[] = [];
      this.at++;
      for (this.skip(); this.src[this.at] === '{'; this.skip()) {
        this.at++;
        const role = this.literal();
        this.skip();
        this.at++; // ','
        const content = this.literal();
        this.skip();
        this.at++; // '}'
        messages.push({ role, content });
        this.skip();
        if (this.src[this.at] === ',') this.at++;
      }
      this.at++; // '}'
      return messages;
    }
    return this.literal();
  }
}

/** Every case of test-chat-template.cpp's main_automated_tests. */
export function llamaCppChatCases(): LlamaCppChatCase[] {
  const src = fs.readFileSync(llamaCppFile('tests/test-chat-template.cpp'), 'utf8');
  const start = src.indexOf('std::vector<TestCase> test_cases {');
  const end = src.indexOf('\n    };', start);
  if (start < 0 || end < 0) throw new Error('test-chat-template.cpp: no test_cases list');
  const body = src.slice(start, end);
  const marker = /\/\*\s*\.(\w+)=?\s*\*\//g;
  const cases: Record<string, string | boolean | ChatMessage[]>[] = [];
  for (let m = marker.exec(body); m !== null; m = marker.exec(body)) {
    if (m[1] === 'name') cases.push({});
    const r = new Reader(body, m.index + m[0].length);
    const current = cases.at(-1);
    if (current === undefined) throw new Error(`test-chat-template.cpp: .${m[1]} before the first .name`);
    current[at(m, 1)] = r.value();
    marker.lastIndex = r.at;
  }
  return cases.map((c) => ({
    name: c['name'] as string,
    template: c['template_str'] as string,
    expectedLegacy: c['expected_output'] as string,
    expected: (c['expected_output_jinja'] as string) || (c['expected_output'] as string),
    bosToken: (c['bos_token'] as string | undefined) ?? '',
    eosToken: (c['eos_token'] as string | undefined) ?? '',
    supportedWithJinja: (c['supported_with_jinja'] as boolean | undefined) ?? true,
    messages: [...LLAMA_CPP_CONVERSATION, ...((c['extra_conversation'] as ChatMessage[] | undefined) ?? [])],
  }));
}
