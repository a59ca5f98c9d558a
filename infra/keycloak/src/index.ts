export { startKeycloak, stopKeycloak, readKeycloakState, keycloakTargetOf, getFreePort, type KeycloakServer, type KeycloakState, type KeycloakTarget, type StartKeycloakOptions } from './server.ts';
export { provisionRealmFiles } from './provision-files.ts';
export {
  provisionRealm,
  adminToken,
  clientCredentialsToken,
  passwordToken,
  clientRepresentation,
  withAdminOnlyAttributes,
  keycloakAnswers,
  keyProviders,
  addRsaKeyProvider,
  deleteKeyProvider,
  type ClientSpec,
  type UserSpec,
  type KeyProvider,
  type RealmSpec,
  type ProvisionedRealm,
  type TokenResponse,
} from './admin.ts';
export { ensureKeycloakDist, keycloakDistPresent } from './dist.ts';
export { checkPrerequisites, type Prerequisites } from './prereqs.ts';
export { KEYCLOAK_VERSION, KEYCLOAK_ARTIFACT, DIST_DIR } from './paths.ts';
