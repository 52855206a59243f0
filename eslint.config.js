// typescript-eslint's recommended rules over every package's TypeScript sources and the plain-JS scripts.
// Formatting is prettier's job (npm run format), not a lint rule.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'services/worker/engine/build/**', '.loom/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (positional parameters, destructuring rests).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  // The gateway's web app: plain ES modules run by the browser.
  { files: ['services/gateway/public/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
);
