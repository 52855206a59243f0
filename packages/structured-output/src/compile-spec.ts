import type { StructuredOutputSpec } from '@loom/common';
import { withFormatPatterns } from './format-patterns.js';
import type { XG, XGrammar } from './xgrammar-module.js';

/** The schema `json_object` stands for (vLLM compiles the same): any JSON object. */
export const JSON_OBJECT_SCHEMA = '{"type":"object"}';

/**
 * Compiles one spec with `compiler` (which holds the model's vocabulary). May throw (through xgrammar's
 * abort: see xgrammar-module.ts) for a spec that was not checked.
 */
export async function compileSpec(
  xg: XGrammar,
  compiler: XG.GrammarCompiler,
  spec: StructuredOutputSpec,
): Promise<XG.CompiledGrammar> {
  return compiler.compileGrammar(await specToEbnf(xg, spec));
}

/**
 * The EBNF grammar (root rule `root`) of a spec. JSON is one line with `, ` and `: ` unless the spec
 * allows any whitespace (see StructuredOutputSpec); it goes through xgrammar's JSON-schema converter and
 * then JSON_SCHEMA_EBNF_FIXES; formats xgrammar gets wrong become patterns first (format-patterns.ts).
 */
export async function specToEbnf(xg: XGrammar, spec: StructuredOutputSpec): Promise<string> {
  switch (spec.type) {
    case 'json_schema':
      return jsonSchemaToEbnf(xg, spec.schema, spec.strict, spec.anyWhitespace ?? false);
    case 'json_object':
      return jsonSchemaToEbnf(xg, JSON_OBJECT_SCHEMA, true, spec.anyWhitespace ?? false);
    case 'regex':
      return regexToEbnf(xg, spec.pattern);
    case 'choice':
      return choiceToEbnf(spec.choices);
    case 'grammar':
      return spec.grammar;
  }
}

/**
 * Repairs of what xgrammar 0.1.27's JSON-schema converter writes, each found by the random-walk tests
 * (compile-spec.test.ts): without them a grammar-valid output could fail JSON.parse.
 */
export const JSON_SCHEMA_EBNF_FIXES: readonly { why: string; from: string; to: string }[] = [
  {
    why: 'a length-bounded string ({minLength, maxLength}) admits raw control characters, which JSON forbids',
    from: '[^"\\\\\\r\\n]',
    to: '[^\\0-\\x1f"\\\\]',
  },
];

/**
 * xgrammar's EBNF for a JSON schema (strict mode = no properties or items beyond the schema's), repaired.
 * Indent -1 is xgrammar's "no indent": one line, separators `, ` and `: `.
 */
export async function jsonSchemaToEbnf(
  xg: XGrammar,
  schema: string,
  strict: boolean,
  anyWhitespace: boolean,
): Promise<string> {
  let ebnf = await xg.Testings._jsonSchemaToEBNF(withFormatPatterns(schema), anyWhitespace, -1, undefined, strict);
  for (const f of JSON_SCHEMA_EBNF_FIXES) ebnf = ebnf.replaceAll(f.from, f.to);
  return ebnf;
}

/**
 * An EBNF grammar whose root matches exactly the strings `pattern` fully matches, by xgrammar's own
 * regex converter. This build exposes that converter only inside its JSON-schema converter, where a
 * string with `pattern` becomes `"\"" <regex as EBNF> "\""`; the body between those quotes is taken.
 * regex-to-ebnf.test.ts pins the behaviour of the pinned version.
 */
export async function regexToEbnf(xg: XGrammar, pattern: string): Promise<string> {
  const ebnf = await xg.Testings._jsonSchemaToEBNF(JSON.stringify({ type: 'string', pattern }), false);
  const rules = new Map<string, string>();
  for (const line of ebnf.split('\n')) {
    const at = line.indexOf(' ::= ');
    if (at > 0) rules.set(line.slice(0, at), line.slice(at + 5));
  }
  let body = rules.get('root');
  // root may name the string's own rule.
  if (body !== undefined && rules.has(body)) body = rules.get(body);
  const quote = '"\\""';
  if (body === undefined || !body.startsWith(`${quote} `) || !body.endsWith(` ${quote}`))
    throw new Error(`xgrammar's regex conversion changed shape; cannot read the regex grammar out of: ${ebnf}`);
  return `root ::= ${body.slice(quote.length + 1, body.length - quote.length - 1)}\n`;
}

/** `root ::= "a" | "b" | ...` with each choice escaped as an EBNF string literal. */
export function choiceToEbnf(choices: readonly string[]): string {
  return `root ::= ${choices.map(ebnfString).join(' | ')}\n`;
}

/** A string literal of xgrammar's EBNF: quotes and backslashes escaped, control characters as \xHH. */
export function ebnfString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
