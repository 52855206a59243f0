/**
 * Documented bounds of one structured-output constraint (services/gateway/README.md lists them). Past
 * any of them the request is a 400 naming the parameter, before anything is compiled; within them a
 * compile still has to finish within COMPILE_TIMEOUT_MS. Together they bound the work one request can
 * ask of the grammar compiler.
 */
export const STRUCTURED_OUTPUT_LIMITS = Object.freeze({
  /** UTF-16 code units of the JSON schema as compact JSON text. */
  maxSchemaChars: 64 * 1024,
  /** Nesting depth of objects and arrays in the schema document (xgrammar recurses per level). */
  maxSchemaDepth: 64,
  /** Characters of an EBNF grammar. */
  maxGrammarChars: 64 * 1024,
  /** Characters of a regular expression. */
  maxRegexChars: 4 * 1024,
  /** Number of choices, and characters of each and of all together. */
  maxChoices: 1024,
  maxChoiceChars: 1024,
  maxChoicesTotalChars: 64 * 1024,
  /**
   * UTF-16 code units of a request's whole tool list as compact JSON (chat `tools`, Responses `tools`):
   * it is rendered into every prompt, and a forced call compiles it (then within maxSchemaChars too).
   */
  maxToolsChars: 256 * 1024,
  /** Wall time one compile for the model's vocabulary may take (the gateway's check). */
  compileTimeoutMs: 10_000,
});
