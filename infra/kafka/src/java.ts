import { spawn } from 'node:child_process';
import { javaCommand } from './prereqs.ts';

/** Run a short-lived JVM (a Kafka CLI tool) to completion; resolves with its output, rejects with its tail. */
export function runJava(what: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(javaCommand(), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => reject(new Error(`could not run java (${javaCommand()}): ${err.message}`)));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${what} failed (exit ${code}):\n${out.slice(-4000)}`)),
    );
  });
}
