// One lint configuration for every workspace: recommended + type-aware-free TypeScript rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importRuleConfigs } from './tools/import-rules.js';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/data/**', '**/libs/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The citizen page's script runs in the browser.
    files: ['**/public/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', sessionStorage: 'readonly', fetch: 'readonly', URLSearchParams: 'readonly', FormData: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // The layout's import rules (which package may import which): tools/import-rules.js.
  ...importRuleConfigs(),
);
