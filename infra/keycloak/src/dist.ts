import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DIST_DIR, DIST_ROOT, KEYCLOAK_ARTIFACT, KEYCLOAK_VERSION, RUN_ROOT } from './paths.ts';
import { mavenCommand } from './prereqs.ts';

/** Written into the unpacked distribution once everything is there. */
const MARKER = '.complete.json';

interface Marker {
  readonly artifact: string;
  readonly unpackedAt: string;
}

/** True when dist/keycloak-<version>/ is a complete unpacked distribution of the pinned version. */
export function keycloakDistPresent(distDir: string = DIST_DIR): boolean {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(distDir, MARKER), 'utf8')) as Marker;
    return marker.artifact === KEYCLOAK_ARTIFACT && fs.existsSync(path.join(distDir, 'bin', 'kc.sh'));
  } catch {
    return false;
  }
}

function run(cmd: string, args: readonly string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    child.on('error', (err) => reject(new Error(`could not run ${cmd} (${what}): ${err.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${cmd} exit ${code ?? signal}):\n${output.slice(-4000)}`));
    });
  });
}

let inFlight: Promise<string> | undefined;

/**
 * Makes sure dist/keycloak-<version>/ holds the unpacked Keycloak distribution: on first use Maven
 * copies `org.keycloak:keycloak-quarkus-dist:<version>:zip` (from its local repository, or Maven
 * Central), `unzip` unpacks it into a temp dir on the same filesystem, a marker is written, and the
 * folder is renamed into place, so an interrupted fetch never leaves half a distribution. Returns the
 * distribution's directory.
 */
export function ensureKeycloakDist(): Promise<string> {
  if (keycloakDistPresent()) return Promise.resolve(DIST_DIR);
  inFlight ??= fetchDist().finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}

async function fetchDist(): Promise<string> {
  fs.mkdirSync(RUN_ROOT, { recursive: true });
  fs.mkdirSync(DIST_ROOT, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(DIST_ROOT, '.dist-tmp-'));
  try {
    await run(mavenCommand(), ['-q', '-B', 'dependency:copy', `-Dartifact=${KEYCLOAK_ARTIFACT}`, `-DoutputDirectory=${tmp}`], `Maven copying ${KEYCLOAK_ARTIFACT}`);
    const zip = path.join(tmp, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`);
    if (!fs.existsSync(zip)) throw new Error(`Maven finished but ${path.basename(zip)} is not in ${tmp}`);
    await run('unzip', ['-q', zip, '-d', tmp], 'unpacking the Keycloak distribution');
    fs.rmSync(zip);
    const unpacked = path.join(tmp, `keycloak-${KEYCLOAK_VERSION}`);
    if (!fs.existsSync(path.join(unpacked, 'bin', 'kc.sh'))) throw new Error(`the zip did not hold keycloak-${KEYCLOAK_VERSION}/bin/kc.sh`);
    const marker: Marker = { artifact: KEYCLOAK_ARTIFACT, unpackedAt: new Date().toISOString() };
    fs.writeFileSync(path.join(unpacked, MARKER), JSON.stringify(marker, null, 2) + '\n');
    if (keycloakDistPresent()) return DIST_DIR; // someone else finished first
    fs.rmSync(DIST_DIR, { recursive: true, force: true });
    try {
      fs.renameSync(unpacked, DIST_DIR);
    } catch (err) {
      if (!keycloakDistPresent()) throw err; // lost a race against another fetch: fine if it completed
    }
    return DIST_DIR;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
