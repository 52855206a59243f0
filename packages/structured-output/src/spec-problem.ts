import type { StructuredOutputSpec } from '@loom/common';
import { checkJsonSchema } from './check-json-schema.js';
import { STRUCTURED_OUTPUT_LIMITS as L } from './limits.js';

/**
 * Why a spec is refused before any compile (its size against the documented limits, the JSON schema's
 * own checks), or null. The message completes "<param> ..." (e.g. "has 2000 choices; at most 1024").
 */
export function structuredOutputProblem(spec: StructuredOutputSpec): string | null {
  switch (spec.type) {
    case 'json_object':
      return null;
    case 'json_schema': {
      if (spec.schema.length > L.maxSchemaChars)
        return `is ${spec.schema.length} characters of JSON; at most ${L.maxSchemaChars}`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(spec.schema);
      } catch (e) {
        return `is not valid JSON: ${(e as Error).message}`;
      }
      const p = checkJsonSchema(parsed);
      return p ? `${p.pointer ? `at ${p.pointer} ` : ''}${p.message}` : null;
    }
    case 'regex':
      if (spec.pattern.length === 0) return 'is empty';
      return spec.pattern.length > L.maxRegexChars
        ? `is ${spec.pattern.length} characters; at most ${L.maxRegexChars}`
        : null;
    case 'grammar':
      if (spec.grammar.trim().length === 0) return 'is empty';
      return spec.grammar.length > L.maxGrammarChars
        ? `is ${spec.grammar.length} characters; at most ${L.maxGrammarChars}`
        : null;
    case 'choice': {
      const c = spec.choices;
      if (c.length === 0) return 'has no choices';
      if (c.length > L.maxChoices) return `has ${c.length} choices; at most ${L.maxChoices}`;
      let total = 0;
      for (const s of c) {
        if (s.length > L.maxChoiceChars) return `has a choice of ${s.length} characters; at most ${L.maxChoiceChars}`;
        total += s.length;
      }
      return total > L.maxChoicesTotalChars
        ? `has ${total} characters of choices; at most ${L.maxChoicesTotalChars}`
        : null;
    }
  }
}
