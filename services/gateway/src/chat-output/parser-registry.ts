import type { OutputParser, ToolSchemas } from './chat-delta.js';
import { callObject, writeCallsAsJson, writePythonic, type WrittenCall } from './call-writers.js';
import { ChatOutputParser } from './chat-output-parser.js';
import { HarmonyParser } from './harmony-parser.js';
import { NameArgsParser, type NameArgsFormat } from './name-args-parser.js';
import { PythonicParser } from './pythonic-parser.js';
import { TaggedJsonParser, type TaggedJsonFormat } from './tagged-json-parser.js';
import { ThinkTagParser, type ThinkTags } from './think-tag-parser.js';
import { XmlParamsParser, type XmlParamsFormat } from './xml-params-parser.js';

/** What a parser is made for: one choice of one request. */
export interface ParserContext {
  /** The text the template's add_generation_prompt appended (parsers that start mid-structure read it). */
  generationPrompt: string;
  /** Each tool's parameters schema, by name. */
  schemas: ToolSchemas;
  /** The request lets the model call tools (tools given, tool_choice not 'none'). */
  toolsActive: boolean;
}

export interface ParserSpec {
  make: (ctx: ParserContext) => OutputParser;
  /**
   * Earlier calls in the family's own syntax, for templates that expect them in the content rather
   * than in `tool_calls` (Granite 3.3, LFM2, SmolLM3). Without it: writeCallsAsJson.
   */
  write?: (calls: readonly WrittenCall[]) => string;
}

const ARGS = ['arguments', 'parameters'];

const HERMES: TaggedJsonFormat = {
  open: ['<tool_call>'],
  close: '</tool_call>',
  json: { nameKeys: ['name'], argsKeys: ARGS, array: 'allow' },
};

const DEEPSEEK: NameArgsFormat = {
  open: ['<｜tool▁call▁begin｜>'],
  ignore: ['<｜tool▁calls▁begin｜>', '<｜tool▁calls▁end｜>'],
  namePrefix: 'function<｜tool▁sep｜>',
  nameEnd: ['<｜tool▁sep｜>', '\n'],
  argsPrefix: '```json',
  argsSuffix: '```',
  close: '<｜tool▁call▁end｜>',
};

const QWEN3_CODER: XmlParamsFormat = {
  regionOpen: ['<tool_call>'],
  regionClose: ['</tool_call>'],
  callOpen: '<function=',
  nameEnd: ['>'],
  paramOpen: '<parameter=',
  keyEnd: '>',
  paramClose: '</parameter>',
  callClose: '</function>',
};

/**
 * Tool-call parsers by vLLM's `--tool-call-parser` names. Each knows one family's call syntax
 * (see the parser classes for the exact shapes).
 */
export const TOOL_PARSERS: Readonly<Record<string, ParserSpec>> = {
  hermes: {
    make: () => new TaggedJsonParser(HERMES),
    write: (calls) => calls.map((c) => `<tool_call>\n${JSON.stringify(callObject(c))}\n</tool_call>`).join('\n'),
  },
  llama3_json: {
    make: () =>
      new TaggedJsonParser({
        open: ['<|python_tag|>'],
        bare: true,
        json: { nameKeys: ['name'], argsKeys: ARGS, array: 'never', nameFirst: true },
      }),
  },
  mistral: {
    make: () =>
      new NameArgsParser({
        open: ['[TOOL_CALLS]'],
        nameEnd: ['[ARGS]'],
        idStart: '[CALL_ID]',
        idEnd: '[ARGS]',
        jsonAfterOpen: { nameKeys: ['name'], argsKeys: ARGS, array: 'allow' },
      }),
  },
  granite: {
    make: () =>
      new TaggedJsonParser({ open: ['<|tool_call|>'], json: { nameKeys: ['name'], argsKeys: ARGS, array: 'allow' } }),
    write: (calls) => `<|tool_call|>${writeCallsAsJson(calls)}`,
  },
  deepseek_v3: { make: () => new NameArgsParser(DEEPSEEK) },
  deepseek_v31: { make: () => new NameArgsParser(DEEPSEEK) },
  deepseek_v32: {
    make: (ctx) =>
      new XmlParamsParser(
        {
          // V3.2 writes function_calls, V4 tool_calls.
          regionOpen: ['<｜DSML｜function_calls>', '<｜DSML｜tool_calls>'],
          regionClose: ['</｜DSML｜function_calls>', '</｜DSML｜tool_calls>'],
          callOpen: '<｜DSML｜invoke name="',
          nameEnd: ['">'],
          paramOpen: '<｜DSML｜parameter name="',
          keyEnd: '>',
          paramClose: '</｜DSML｜parameter>',
          callClose: '</｜DSML｜invoke>',
          parseKey: (raw) => {
            const key = raw.slice(0, raw.indexOf('"') < 0 ? raw.length : raw.indexOf('"'));
            const str = /string="(true|false)"/.exec(raw)?.[1];
            return str === undefined ? { key } : { key, string: str === 'true' };
          },
        },
        ctx.schemas,
      ),
  },
  kimi_k2: {
    make: () =>
      new NameArgsParser({
        open: ['<|tool_call_begin|>'],
        ignore: ['<|tool_calls_section_begin|>', '<|tool_calls_section_end|>'],
        nameEnd: ['<|tool_call_argument_begin|>'],
        close: '<|tool_call_end|>',
        // `functions.get_weather:0`: the name between the namespace and the index; the whole is the id.
        parseName: (raw) => ({ name: raw.replace(/^functions\./, '').replace(/:\d+$/, ''), id: raw }),
      }),
  },
  openai: { make: (ctx) => new HarmonyParser(ctx.toolsActive) },
  qwen3_coder: { make: (ctx) => new XmlParamsParser(QWEN3_CODER, ctx.schemas) },
  glm45: {
    make: (ctx) =>
      new XmlParamsParser(
        {
          regionOpen: ['<tool_call>'],
          regionClose: ['</tool_call>'],
          callOpen: '',
          nameEnd: ['\n', '<arg_key>', '</tool_call>'],
          keepAfterName: ['<arg_key>', '</tool_call>'],
          paramOpen: '<arg_key>',
          keyEnd: '</arg_key>',
          valueOpen: '<arg_value>',
          paramClose: '</arg_value>',
          callClose: '</tool_call>',
        },
        ctx.schemas,
      ),
  },
  minimax_m2: {
    make: (ctx) =>
      new XmlParamsParser(
        {
          regionOpen: ['<minimax:tool_call>'],
          regionClose: ['</minimax:tool_call>'],
          callOpen: '<invoke name="',
          nameEnd: ['">'],
          paramOpen: '<parameter name="',
          keyEnd: '">',
          paramClose: '</parameter>',
          callClose: '</invoke>',
        },
        ctx.schemas,
      ),
  },
  functionary_v3_1: { make: () => new NameArgsParser({ open: ['<function='], nameEnd: ['>'], close: '</function>' }) },
  command_r7b: {
    make: () =>
      new TaggedJsonParser({
        open: ['<|START_ACTION|>'],
        close: '<|END_ACTION|>',
        ignore: ['<|START_RESPONSE|>', '<|END_RESPONSE|>'],
        json: { nameKeys: ['tool_name', 'name'], argsKeys: ARGS, array: 'allow' },
      }),
  },
  nemotron_v2: {
    make: () =>
      new TaggedJsonParser({
        open: ['<TOOLCALL>'],
        close: '</TOOLCALL>',
        json: { nameKeys: ['name'], argsKeys: ARGS, array: 'allow' },
      }),
  },
  firefunction_v2: {
    make: () =>
      new TaggedJsonParser({ open: ['functools'], json: { nameKeys: ['name'], argsKeys: ARGS, array: 'only' } }),
  },
  pythonic: { make: () => new PythonicParser({ bare: true }), write: writePythonic },
  lfm2: {
    make: () => new PythonicParser({ open: '<|tool_call_start|>', close: '<|tool_call_end|>' }),
    write: (calls) => `<|tool_call_start|>${writePythonic(calls)}<|tool_call_end|>`,
  },
};

const think = (tags: ThinkTags): ParserSpec => ({ make: (ctx) => new ThinkTagParser(tags, ctx.generationPrompt) });

/** Reasoning parsers by vLLM's `--reasoning-parser` names. */
export const REASONING_PARSERS: Readonly<Record<string, ParserSpec>> = {
  qwen3: think({ start: '<think>', end: '</think>' }),
  deepseek_r1: think({ start: '<think>', end: '</think>', implicitStart: true }),
  mistral: think({ start: '[THINK]', end: '[/THINK]' }),
  seed_oss: think({ start: '<seed:think>', end: '</seed:think>' }),
  command_r7b: think({ start: '<|START_THINKING|>', end: '<|END_THINKING|>' }),
  // One harmony parser does both jobs for gpt-oss: the tool parser's slot holds it.
  openai_gptoss: { make: (ctx) => new HarmonyParser(ctx.toolsActive) },
};

/**
 * The tool-call parser a chat template calls for, by the markers its source writes (as llama.cpp's
 * common/chat.cpp picks a format); undefined when it has no known tool syntax. Order matters: more
 * specific syntaxes first (Qwen3-Coder's `<tool_call><function=` before Hermes's `<tool_call>`).
 */
export function detectToolParser(template: string | undefined): string | undefined {
  if (!template) return undefined;
  const has = (s: string) => template.includes(s);
  if (has('<|channel|>')) return 'openai';
  if (has('[TOOL_CALLS]')) return 'mistral';
  if (has('DSML')) return 'deepseek_v32';
  if (has('tool▁call▁begin')) return has('```json') ? 'deepseek_v3' : 'deepseek_v31';
  if (has('<|tool_calls_section_begin|>')) return 'kimi_k2';
  if (has('<minimax:tool_call>')) return 'minimax_m2';
  if (has('<arg_key>')) return 'glm45';
  if (has('<tool_call>') && has('<function=') && has('<parameter=')) return 'qwen3_coder';
  if (has('<tool_call>')) return 'hermes';
  if (has('<|tool_call|>')) return 'granite';
  if (has('<|START_ACTION|>')) return 'command_r7b';
  if (has('<TOOLCALL>')) return 'nemotron_v2';
  if (has('<|tool_call_start|>')) return 'lfm2';
  if (has('<function=')) return 'functionary_v3_1';
  if (has('functools[')) return 'firefunction_v2';
  if (has('<|python_tag|>') || (has('<|start_header_id|>') && has('ipython'))) return 'llama3_json';
  return undefined;
}

/** The reasoning parser a chat template calls for, by its thinking markers; undefined when none. */
export function detectReasoningParser(template: string | undefined): string | undefined {
  if (!template) return undefined;
  const has = (s: string) => template.includes(s);
  if (has('<|channel|>')) return 'openai_gptoss';
  if (has('[THINK]')) return 'mistral';
  if (has('<seed:think>')) return 'seed_oss';
  if (has('<|START_THINKING|>')) return 'command_r7b';
  if (has('<think>')) return 'qwen3';
  return undefined;
}

/**
 * One choice's parser: `tool` (when the request lets the model call tools) and `reasoning`, by
 * name; undefined when neither applies. gpt-oss's harmony parser does both jobs alone.
 */
export function makeOutputParser(
  tool: string | undefined,
  reasoning: string | undefined,
  ctx: ParserContext,
): OutputParser | undefined {
  const t = tool === undefined ? undefined : TOOL_PARSERS[tool];
  const r =
    reasoning === undefined || (tool === 'openai' && reasoning === 'openai_gptoss')
      ? undefined
      : REASONING_PARSERS[reasoning];
  if (!t && !r) return undefined;
  return new ChatOutputParser(r?.make(ctx), t?.make(ctx));
}
