import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared folder next to the checkout: models (`models/`), OpenAI's spec (`specs/`), the llama.cpp peer. */
export const SHARED_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared');
