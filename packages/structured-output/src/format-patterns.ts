/**
 * String formats, as Loom enforces them. Random walks through xgrammar 0.1.27's own format grammars over
 * a real vocabulary, validated with ajv-formats (compile-spec.test.ts), showed outputs that fail:
 * `date` allows 02-30, `time` and `date-time` minute or second 60, `ipv4` leading zeros, `email` a domain
 * without a dot, `uri` a scheme alone, and `json-pointer` / `relative-json-pointer` raw quotes that end
 * the JSON string. Those formats are compiled from the patterns below instead: each matches a subset of
 * the format (Feb 29 is left out; addresses and URIs keep to their common shapes), so every output is
 * valid, and none can produce a character JSON must escape. The others keep xgrammar's own grammar.
 */
export const FORMAT_PATTERNS: Readonly<Record<string, string>> = Object.freeze({
  date: `^${date()}$`,
  time: `^${time()}$`,
  'date-time': `^${date()}T${time()}$`,
  ipv4: `^${octet()}(\\.${octet()}){3}$`,
  email: `^[a-zA-Z0-9_+-]+(\\.[a-zA-Z0-9_+-]+)*@${label()}(\\.${label()})+$`,
  uri: `^[a-zA-Z][a-zA-Z0-9+.-]*://${label()}(\\.${label()})*(/[a-zA-Z0-9._~-]*)*$`,
  'json-pointer': `^(/([a-zA-Z0-9_.-]|~[01])*)*$`,
  'relative-json-pointer': `^(0|[1-9][0-9]*)(#|(/([a-zA-Z0-9_.-]|~[01])*)*)$`,
});

/** Formats whose xgrammar grammar every random walk kept valid. */
export const XGRAMMAR_FORMATS: readonly string[] = [
  'duration',
  'ipv6',
  'hostname',
  'uuid',
  'uri-reference',
  'uri-template',
];

/** YYYY-MM-DD with each month's days (February to the 28th). */
function date(): string {
  const d28 = '(0[1-9]|1[0-9]|2[0-8])';
  const d30 = '(0[1-9]|[12][0-9]|30)';
  const d31 = '(0[1-9]|[12][0-9]|3[01])';
  return `[0-9]{4}-((0[13578]|1[02])-${d31}|(0[469]|11)-${d30}|02-${d28})`;
}

/** HH:MM:SS, optional fraction, then Z or an offset (RFC 3339 full-time; no leap second). */
function time(): string {
  const hh = '([01][0-9]|2[0-3])';
  const mm = '[0-5][0-9]';
  return `${hh}:${mm}:${mm}(\\.[0-9]{1,6})?(Z|[+-]${hh}:${mm})`;
}

/** 0..255 without leading zeros. */
function octet(): string {
  return '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
}

/** A DNS label: letters, digits and inner hyphens, at most 63. */
function label(): string {
  return '[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';
}

/**
 * The schema text with every `format` FORMAT_PATTERNS covers turned into that `pattern` (walking
 * every subschema position, whatever keyword holds it). Other text is left as it was.
 */
export function withFormatPatterns(schemaText: string): string {
  let changed = false;
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (typeof v !== 'object' || v === null) return v;
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = k === 'enum' || k === 'const' || k === 'default' ? x : visit(x);
    const pattern = typeof o.format === 'string' ? FORMAT_PATTERNS[o.format] : undefined;
    if (pattern !== undefined && o.pattern === undefined) {
      delete o.format;
      o.pattern = pattern;
      changed = true;
    }
    return o;
  };
  const out = visit(JSON.parse(schemaText));
  return changed ? JSON.stringify(out) : schemaText;
}
