import assert from 'node:assert/strict';
import { openAiSchemaValidator, type SchemaValidator } from './openai-schema.js';
import { OPENAI_SPEC } from './spec-path.js';

let validate: SchemaValidator | undefined;

/** Asserts `value` matches OpenAI's spec schema `schema`, listing every mismatch and the value. */
export function assertValid(schema: string, value: unknown): void {
  validate ??= openAiSchemaValidator(OPENAI_SPEC);
  assert.deepEqual(validate(schema, value), [], `${schema}: ${JSON.stringify(value)}`);
}
