import { randomInt } from 'node:crypto';
import type { LoomConfig, ModelCard, StructuredOutputSpec } from '@loom/common';
import { structuredOutputProblem } from '@loom/structured-output';
import type { ToolSchemas } from '../chat-output/chat-delta.js';
import { ChatOutputParser } from '../chat-output/chat-output-parser.js';
import { forcedCallParser, forcedCallSchema, type ForcedMode } from '../chat-output/forced-call.js';
import {
  detectReasoningParser,
  detectToolParser,
  makeOutputParser,
  REASONING_PARSERS,
  TOOL_PARSERS,
} from '../chat-output/parser-registry.js';
import { ApiError } from '../errors/api-error.js';
import type { RequestedStructuredOutput } from '../generation/structured-output-request.js';
import type { ChatOutputOptions } from './chat-format.js';
import type { ChatTool, ToolMode } from './chat-request.js';

/** The parsers a model's output gets, by name (undefined: none). */
export interface ModelParsers {
  tool: string | undefined;
  reasoning: string | undefined;
}

/**
 * `--tool-call-parser` and `--reasoning-parser` for a model: a name, 'none', or 'auto' (the
 * family its chat template writes, as llama.cpp picks it: the tool_use template's, when it has one).
 */
export function modelParsers(
  config: Pick<LoomConfig, 'toolCallParser' | 'reasoningParser'>,
  card: ModelCard,
): ModelParsers {
  const pick = (setting: string, detect: () => string | undefined) =>
    setting === 'auto' || setting === '' ? detect() : setting === 'none' ? undefined : setting;
  return {
    tool: pick(config.toolCallParser, () => detectToolParser(card.toolUseChatTemplate ?? card.chatTemplate)),
    reasoning: pick(config.reasoningParser, () => detectReasoningParser(card.chatTemplate)),
  };
}

/** Refuses a --tool-call-parser / --reasoning-parser that names no parser (at start, not per request). */
export function checkParserSettings(config: Pick<LoomConfig, 'toolCallParser' | 'reasoningParser'>): void {
  const check = (value: string, flag: string, known: Readonly<Record<string, unknown>>) => {
    if (value === 'auto' || value === 'none' || value === '' || value in known) return;
    throw new Error(`${flag} '${value}' is not a parser; use auto, none or one of: ${Object.keys(known).join(', ')}`);
  };
  check(config.toolCallParser, '--tool-call-parser / LOOM_TOOL_CALL_PARSER', TOOL_PARSERS);
  check(config.reasoningParser, '--reasoning-parser / LOOM_REASONING_PARSER', REASONING_PARSERS);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomAlnum = (n: number) => Array.from({ length: n }, () => ALNUM[randomInt(ALNUM.length)]).join('');

/** The mode when it forces a call ('required', a named function), else undefined. */
export function forcedMode(mode: ToolMode): ForcedMode | undefined {
  return mode.kind === 'required' || mode.kind === 'named' ? mode : undefined;
}

/**
 * The constraint a forced call is decoded under (vLLM's way, for any model whatever its own call
 * syntax): JSON of the named function's parameters, or a list of {name, parameters} calls to the
 * tools (one without parallel_tool_calls). A problem with it is the tools' (their schemas), so a 400
 * names `tools` (past the structured-output limits here; what xgrammar rejects at the check). Strict (no properties
 * beyond the schemas') when every tool asks for strict.
 */
export function forcedCallConstraint(
  tools: readonly ChatTool[],
  mode: ForcedMode,
  parallel: boolean,
): RequestedStructuredOutput {
  const forced = tools.map((t) => ({
    name: t.function.name,
    parameters: t.function.parameters ?? { type: 'object', properties: {} },
  }));
  const spec: StructuredOutputSpec = {
    type: 'json_schema',
    schema: JSON.stringify(forcedCallSchema(forced, mode, parallel)),
    strict: tools.every((t) => t.function.strict === true),
  };
  // The structured-output limits, before any compile: size, depth, keywords xgrammar cannot enforce.
  const problem = structuredOutputProblem(spec);
  if (problem) throw ApiError.invalid(`Invalid 'tools': the forced call's schema ${problem}.`, 'tools');
  return { spec, param: 'tools' };
}

/**
 * How one request's output is read: which parsers (tool calls only when the request lets the model
 * call tools; a forced call's output is the constraint's JSON, read by its own parser, with no
 * reasoning) and the call ids (Mistral's templates take nine characters; OpenAI's are `call_…`).
 * `keepSpecialTokens`: a parser reads the text, so special tokens must stay in it unless the client
 * says otherwise: families mark calls and thinking with tokens a vocabulary may flag special
 * (`[TOOL_CALLS]`, gpt-oss's channels, `<tool_call>` in some tokenizers), as vLLM's parsers and
 * llama.cpp's chat parser both render them (end-of-generation tokens are never in the text).
 */
export function chatOutputPlan(
  parsers: ModelParsers,
  mode: ToolMode,
  tools: readonly ChatTool[],
  generationPrompt: string,
  options: Pick<ChatOutputOptions, 'includeReasoning' | 'parallelToolCalls'>,
): { output?: ChatOutputOptions; keepSpecialTokens: boolean } {
  const newCallId = parsers.tool === 'mistral' ? () => randomAlnum(9) : () => `call_${randomAlnum(24)}`;
  const forced = forcedMode(mode);
  if (forced)
    return {
      output: { parser: () => new ChatOutputParser(undefined, forcedCallParser(forced)), ...options, newCallId },
      keepSpecialTokens: false,
    };
  const toolsActive = mode.kind !== 'none';
  const tool = toolsActive ? parsers.tool : undefined;
  const schemas: ToolSchemas = new Map(tools.map((t) => [t.function.name, t.function.parameters ?? {}]));
  const ctx = { generationPrompt, schemas, toolsActive };
  if (!makeOutputParser(tool, parsers.reasoning, ctx)) return { keepSpecialTokens: false };
  return {
    output: { parser: () => makeOutputParser(tool, parsers.reasoning, ctx)!, ...options, newCallId },
    keepSpecialTokens: true,
  };
}
