import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../../../packages/tokenizer/fixtures/chat-templates/', import.meta.url));

/** A real chat template from llama.cpp's models/templates (copied with provenance into packages/tokenizer/fixtures). */
export function chatTemplateFixture(name: string): string {
  return readFileSync(join(DIR, `${name}.jinja`), 'utf8');
}
