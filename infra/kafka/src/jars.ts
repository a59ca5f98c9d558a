import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LIBS_DIR, POM_FILE, RUN_ROOT } from './paths.ts';
import { mavenCommand } from './prereqs.ts';

/** Written into libs/ once every jar is there; records which pom produced it. */
const MARKER = '.complete.json';

interface Marker {
  pomSha256: string;
  jars: string[];
  fetchedAt: string;
}

function pomHash(): string {
  return createHash('sha256').update(fs.readFileSync(POM_FILE)).digest('hex');
}

/** True when libs/ holds a complete set of jars resolved from the current pom.xml. */
export function kafkaJarsPresent(libsDir: string = LIBS_DIR): boolean {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(libsDir, MARKER), 'utf8')) as Marker;
    if (marker.pomSha256 !== pomHash() || marker.jars.length === 0) return false;
    return marker.jars.every((jar) => fs.existsSync(path.join(libsDir, jar)));
  } catch {
    return false;
  }
}

function runMaven(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(mavenCommand(), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) =>
      reject(new Error(`could not run Maven (${mavenCommand()}): ${err.message}. Install Maven 3.8+ or set MVN.`)),
    );
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`Maven failed (exit ${code ?? signal}) resolving the Kafka jars:\n${output.slice(-4000)}`));
    });
  });
}

let inFlight: Promise<string> | undefined;

/**
 * Makes sure libs/ holds the jars of Kafka (kafka_2.13, see pom.xml) and slf4j-reload4j,
 * resolving them with Maven (`dependency:copy-dependencies`) on first use. Cached: returns
 * immediately when the marker file says libs/ is complete. Returns the libs directory.
 */
export function ensureKafkaJars(): Promise<string> {
  if (kafkaJarsPresent()) return Promise.resolve(LIBS_DIR);
  inFlight ??= fetchJars().finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}

async function fetchJars(): Promise<string> {
  // Resolve into a private temp dir (under the git-ignored run/ dir, same filesystem), then
  // rename into place, so a concurrent or interrupted fetch never leaves a half-filled libs/.
  fs.mkdirSync(RUN_ROOT, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(RUN_ROOT, '.libs-tmp-'));
  try {
    await runMaven(
      [
        '-q',
        '-B',
        '-f',
        POM_FILE,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${tmp}`,
        '-DincludeScope=runtime',
      ],
      path.dirname(POM_FILE),
    );
    const jars = fs.readdirSync(tmp).filter((f) => f.endsWith('.jar')).sort();
    if (!jars.some((j) => /^kafka_2\.13-.*\.jar$/.test(j))) {
      throw new Error(`Maven finished but no kafka_2.13 jar was copied (got: ${jars.join(', ') || 'nothing'})`);
    }
    const marker: Marker = { pomSha256: pomHash(), jars, fetchedAt: new Date().toISOString() };
    fs.writeFileSync(path.join(tmp, MARKER), JSON.stringify(marker, null, 2) + '\n');
    if (kafkaJarsPresent()) return LIBS_DIR; // someone else finished first
    fs.rmSync(LIBS_DIR, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, LIBS_DIR);
    } catch (err) {
      if (!kafkaJarsPresent()) throw err; // lost a race against another fetch: fine if it completed
    }
    return LIBS_DIR;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
