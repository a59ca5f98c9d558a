import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * One bash process that runs script steps one after the other, as an operator's terminal does: what a
 * step exports or defines (variables, functions) is there for the next. A step that fails ends the
 * session (`set -e` in the script) and `run` rejects with the step's output.
 */
export interface ShellSession {
  /** Runs `script` in the session; resolves with what it printed (stdout and stderr, interleaved). */
  run(script: string, options?: { timeoutMs?: number }): Promise<string>;
  /** Everything printed so far. */
  transcript(): string;
  close(): Promise<void>;
}

export function openShellSession(options: { cwd: string; env: NodeJS.ProcessEnv }): ShellSession {
  const child: ChildProcessWithoutNullStreams = spawn('bash', ['--noprofile', '--norc'], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let all = '';
  let pending: { marker: string; start: number; resolve: (out: string) => void; reject: (err: Error) => void } | undefined;
  let exited: number | null | undefined;
  const check = () => {
    if (!pending) return;
    const at = all.indexOf(pending.marker, pending.start);
    if (at >= 0) {
      const p = pending;
      pending = undefined;
      p.resolve(all.slice(p.start, at));
    }
  };
  const onData = (chunk: Buffer) => {
    all += chunk.toString('utf8');
    check();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // 'close', not 'exit': it comes after the pipes are drained, so the step's last words are in the error.
  child.on('close', (code, signal) => {
    exited = code;
    if (pending) {
      const p = pending;
      pending = undefined;
      p.reject(new Error(`the shell exited (${code ?? signal}) during the step; its output:\n${all.slice(p.start).slice(-6000)}`));
    }
  });
  return {
    run(script, { timeoutMs = 600_000 } = {}) {
      if (exited !== undefined) return Promise.reject(new Error(`the shell has exited (${exited})`));
      if (pending) return Promise.reject(new Error('a step is still running'));
      const marker = `__step_done_${randomBytes(8).toString('hex')}__`;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending = undefined;
          reject(new Error(`the step did not finish in ${timeoutMs} ms; its output:\n${all.slice(start).slice(-6000)}`));
        }, timeoutMs);
        const start = all.length;
        pending = {
          marker,
          start,
          resolve: (out) => (clearTimeout(timer), resolve(out)),
          reject: (err) => (clearTimeout(timer), reject(err)),
        };
        // The marker is printed by a command after the step, so it only appears once the step is done.
        child.stdin.write(`${script}\nprintf '%s\\n' ${marker}\n`);
      });
    },
    transcript: () => all,
    async close() {
      if (exited !== undefined) return;
      child.stdin.end();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (child.kill('SIGKILL'), resolve()), 10_000);
        child.once('close', () => (clearTimeout(timer), resolve()));
      });
    },
  };
}
