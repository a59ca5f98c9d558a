/**
 * From an OIDC issuer's verified access-token claims to Sporbar's role and the citizen's CPR claim.
 * Pure: the signature, iss, aud, exp and lifetime are checked before (@sporbar/common/oidc-token).
 * Never logs or echoes a claim's value: a refusal names the claim, not what it held.
 */
import { SporbarError } from '@sporbar/common/errors';
import { findControlCharacter, findCprLike } from '@sporbar/schemas';
import type { Role } from './auth.ts';

export const DEFAULT_OIDC_ROLE_MAP = 'sporbar-citizen=citizen,sporbar-caseworker=caseworker,sporbar-dpo=dpo,sporbar-auditor=auditor';
const SPORBAR_ROLES: readonly Role[] = ['citizen', 'caseworker', 'dpo', 'auditor'];

const badMap = (message: string): SporbarError => new SporbarError('SPB_ERR_CONFIG', message);

/** `issuerRole=sporbarRole,…` → a map. Throws (a config problem) on a malformed pair, an unknown Sporbar role or an issuer role named twice. */
export function parseRoleMap(text: string): ReadonlyMap<string, Role> {
  const map = new Map<string, Role>();
  for (const raw of text.split(',')) {
    const pair = raw.trim();
    if (pair === '') continue;
    const m = /^([^=\s]+)=([a-z]+)$/.exec(pair);
    if (!m) throw badMap(`"${pair}" is not issuerRole=sporbarRole`);
    const [, from, to] = m as unknown as [string, string, string];
    if (!SPORBAR_ROLES.includes(to as Role)) throw badMap(`"${to}" is not a Sporbar role (${SPORBAR_ROLES.join(', ')})`);
    if (map.has(from)) throw badMap(`the issuer role "${from}" is mapped twice`);
    map.set(from, to as Role);
  }
  if (map.size === 0) throw badMap('maps no role');
  return map;
}

/** A dotted claim path (`realm_access.roles`, `cpr`): segments of letters, digits, `_`, `-`, `:`. */
export const CLAIM_PATH = /^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/;

/** The value at a dotted path of the claims, or undefined. Own properties only (no `__proto__` tricks). */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let here: unknown = claims;
  for (const part of path.split('.')) {
    if (here === null || typeof here !== 'object' || Array.isArray(here) || !Object.hasOwn(here, part)) return undefined;
    here = (here as Record<string, unknown>)[part];
  }
  return here;
}

export interface ClaimMapping {
  readonly cprClaim: string;
  readonly rolesClaim: string;
  readonly roleMap: ReadonlyMap<string, Role>;
}

const refused = (message: string): SporbarError => new SporbarError('SPB_ERR_UNAUTHORIZED', `bearer token refused: ${message}`);

/** The one Sporbar role the token's roles claim maps to; none or several → 401. */
export function sporbarRoleOf(claims: Record<string, unknown>, mapping: ClaimMapping): Role {
  const value = claimAt(claims, mapping.rolesClaim);
  const names = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const roles = new Set<Role>();
  for (const n of names) {
    const r = mapping.roleMap.get(n);
    if (r) roles.add(r);
  }
  if (roles.size === 0) throw refused(`its ${mapping.rolesClaim} claim names no Sporbar role`);
  if (roles.size > 1) throw refused(`its ${mapping.rolesClaim} claim maps to more than one Sporbar role (${[...roles].sort().join(', ')}): ambiguous, so refused`);
  return [...roles][0]!;
}

/** What the principal is built from: role, the token's sub (checked: no CPR shape, no control characters) and, for a citizen, the CPR claim. */
export function identityOf(claims: Record<string, unknown>, mapping: ClaimMapping): { role: Role; sub: string; cpr: string | undefined } {
  const role = sporbarRoleOf(claims, mapping);
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub === '') throw refused('it has no sub');
  if (findCprLike(sub) || findControlCharacter(sub)) throw refused('its sub holds something shaped like a CPR number or a control character');
  if (role !== 'citizen') return { role, sub, cpr: undefined };
  const cpr = claimAt(claims, mapping.cprClaim);
  if (typeof cpr !== 'string') throw refused(`a citizen token must carry the ${mapping.cprClaim} claim`);
  return { role, sub, cpr };
}
