import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Absolute path of the `@sporbar/keycloak-infra` package (infra/keycloak). */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
export const KEYCLOAK_VERSION = '26.5.6';
/** The Maven Central coordinates of the distribution. */
export const KEYCLOAK_ARTIFACT = `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`;
/** Where the distribution is unpacked (git-ignored): dist/keycloak-<version>/{bin,lib,conf,...}. */
export const DIST_ROOT = path.join(PACKAGE_DIR, 'dist');
export const DIST_DIR = path.join(DIST_ROOT, `keycloak-${KEYCLOAK_VERSION}`);
/** Parent of every server's run directory (git-ignored): run/<name>/{h2,keycloak.log,keycloak.json,...}. */
export const RUN_ROOT = path.join(PACKAGE_DIR, 'run');
