import { z } from 'zod';
import { checkToolList, functionName, type ChatRequest, type ChatTool } from '../chat/chat-request.js';
import type { RequestedStructuredOutput } from '../generation/structured-output-request.js';
import { structuredOutputOf } from '../generation/structured-output-request.js';
import { parseAt } from './response-items.js';
import type { ResponseRequest } from './response-request.js';

const functionTool = z.object({
  type: z.literal('function'),
  name: functionName,
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

/**
 * The Responses API's flat function tools and tool_choice in chat's nested shapes, so the chat tool
 * path (templates, per-family parsers, forced calls) serves them unchanged. Checked as chat checks
 * them (unique names, a tool_choice that names listed functions), the 400s naming Responses' params.
 */
export function chatToolsOf(body: Pick<ResponseRequest, 'tools' | 'tool_choice'>): {
  tools: ChatTool[];
  choice: ChatRequest['tool_choice'];
} {
  const tools: ChatTool[] = (body.tools ?? []).map((raw, i) => {
    const t = parseAt(functionTool, raw, ['tools', i]);
    return {
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters, strict: t.strict },
    };
  });
  const c = body.tool_choice;
  const choice: ChatRequest['tool_choice'] =
    c == null || typeof c === 'string'
      ? c
      : c.type === 'function' && 'name' in c
        ? { type: 'function', function: { name: c.name as string } }
        : {
            type: 'allowed_tools',
            allowed_tools: {
              mode: (c as { mode: 'auto' | 'required' }).mode,
              tools: (c as { tools: { name: string }[] }).tools.map((t) => ({
                type: 'function' as const,
                function: { name: t.name },
              })),
            },
          };
  checkToolList(tools, choice, (i) => `tools[${i}]`);
  return { tools, choice };
}

/** The echo of the tools in the Response object (OpenAI's FunctionTool: strict and parameters always there). */
export function echoTools(tools: readonly ChatTool[]): object[] {
  return tools.map((t) => ({
    type: 'function',
    name: t.function.name,
    description: t.function.description ?? null,
    parameters: t.function.parameters ?? null,
    strict: t.function.strict ?? null,
  }));
}

/** `text.format` as the structured-output constraint (json_schema, json_object), a 400 naming `text.format`. */
export function textFormatConstraint(body: Pick<ResponseRequest, 'text'>): RequestedStructuredOutput | undefined {
  const f = body.text?.format;
  if (!f || f.type === 'text') return undefined;
  return structuredOutputOf(
    {
      response_format:
        f.type === 'json_object'
          ? f
          : {
              type: 'json_schema',
              json_schema: { name: f.name, description: f.description, schema: f.schema, strict: f.strict },
            },
    },
    'text.format',
  );
}
