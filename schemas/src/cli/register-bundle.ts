#!/usr/bin/env -S npx tsx
// `npm run register:bundle -w @sporbar/schemas`: writes register/register.bundle.json from the YAML files
// of register/ (each file parsed and checked against the JSON Schema, with the SHA-256 of its bytes), the
// file the package loads at run time. `--check`: exit 1 when the committed bundle differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGISTER_BUNDLE_FILE, REGISTER_DIR } from '../register/load-register.ts';
import { buildRegisterBundle, readRegisterTexts, registerBundleText } from '../register/register-yaml.ts';

const path = join(REGISTER_DIR, REGISTER_BUNDLE_FILE);
const text = registerBundleText(buildRegisterBundle(readRegisterTexts(REGISTER_DIR)));
if (process.argv.includes('--check')) {
  let current = '';
  try { current = readFileSync(path, 'utf8'); } catch { /* missing: differs */ }
  if (current !== text) {
    console.error(`✗ ${path} differs from the YAML files: run npm run register:bundle -w @sporbar/schemas`);
    process.exit(1);
  }
  console.log(`✓ ${path} is up to date`);
} else {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
