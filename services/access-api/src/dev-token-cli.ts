// npm run dev:token -w @sporbar/access-api -- citizen 010190-1234   (or caseworker | dpo | auditor)
// Prints a development token signed with the public dev key; production refuses that key.
import { devToken } from './dev-token.ts';
import { ROLES, type Role } from './auth.ts';

const [role = 'citizen', cpr] = process.argv.slice(2);
if (!ROLES.includes(role as Role) || (role === 'citizen' && !cpr)) {
  console.error(`usage: dev:token <${ROLES.join('|')}> [cpr for a citizen]`);
  process.exit(2);
}
console.log(devToken({ role: role as Role, sub: `dev-${role}`, ...(cpr ? { cpr } : {}), expiresInSeconds: 3600 }));
