import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, Options as AjvOptions, ValidateFunction } from 'ajv';

/** Validate `value` against the spec's `components.schemas[schemaName]`; returns readable errors (empty = valid). */
export type SchemaValidator = (schemaName: string, value: unknown) => string[];

const SPEC_ID = 'openai-openapi';

/**
 * OpenAPI 3 → JSON Schema, node by node: `nullable: true` becomes a union with null (OpenAPI 3.0
 * style, which this 3.1 spec still uses in places) and `discriminator` is dropped (ajv's version
 * has stricter rules than OpenAPI's). Everything else (x-* keys, examples) ajv ignores in
 * non-strict mode.
 */
export function openApiToJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openApiToJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'nullable' || k === 'discriminator') continue;
    out[k] = openApiToJsonSchema(v);
  }
  if ((node as { nullable?: unknown }).nullable !== true) return out;
  if (typeof out.type === 'string' && !('$ref' in out)) {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

/**
 * A validator for response bodies against OpenAI's own OpenAPI spec. All of
 * `components.schemas` is registered under one id, so the spec's internal
 * `#/components/schemas/...` references resolve as they are. Validators compile lazily, once
 * per schema name. ajv is loaded on first use so that the gateway itself never needs it.
 */
export function openAiSchemaValidator(specPath: string): SchemaValidator {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { components: { schemas: Record<string, unknown> } };
  const Ajv = createRequire(import.meta.url)('ajv') as new (o: AjvOptions) => AjvClass;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
  ajv.addSchema({ $id: SPEC_ID, components: { schemas: openApiToJsonSchema(spec.components.schemas) } });
  const compiled = new Map<string, ValidateFunction>();
  return (schemaName, value) => {
    if (!(schemaName in spec.components.schemas)) throw new Error(`No schema '${schemaName}' in ${specPath}`);
    let validate = compiled.get(schemaName);
    if (!validate) {
      validate = ajv.compile({ $ref: `${SPEC_ID}#/components/schemas/${schemaName}` });
      compiled.set(schemaName, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) =>
        `${schemaName}${e.instancePath} ${e.message ?? 'invalid'}${e.params ? ' ' + JSON.stringify(e.params) : ''}`,
    );
  };
}
