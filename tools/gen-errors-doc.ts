// Writes docs/errors.md from the SPB_ERR_* registry: `npx tsx tools/gen-errors-doc.ts`.
import { writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../services/common/src/errors.ts';

const rows = Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.retriable ? 'yes' : 'no'} | ${e.doc} |`);
writeFileSync(
  new URL('../docs/errors.md', import.meta.url),
  `# Error codes

Every error Sporbar raises on purpose carries one of these codes (\`services/common/src/errors.ts\` is the
registry; this page is generated from it by \`npx tsx tools/gen-errors-doc.ts\`, and a test fails when
they disagree). API answers are \`{ "code": "...", "message": "..." }\` with the status below; dead
letters carry the code as their reason.

| code | HTTP status | retry may help | meaning |
| --- | --- | --- | --- |
${rows.join('\n')}
`,
);
