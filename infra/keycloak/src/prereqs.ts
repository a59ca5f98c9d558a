import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** The java binary: $JAVA_HOME/bin/java when JAVA_HOME is set, else `java` from PATH. */
export function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', 'java') : 'java';
}

export function mavenCommand(): string {
  return process.env.MVN ?? 'mvn';
}

function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}

export interface Prerequisites {
  readonly java: boolean;
  readonly maven: boolean;
  readonly unzip: boolean;
}

/** Whether `java`, `mvn` and `unzip` can be executed on this machine. */
export function checkPrerequisites(): Prerequisites {
  return { java: runs(javaCommand(), ['-version']), maven: runs(mavenCommand(), ['-v', '-B']), unzip: runs('unzip', ['-v']) };
}
