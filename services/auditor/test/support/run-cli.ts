import { Writable } from 'node:stream';
import { runCli } from '../../src/cli.ts';

/** `sporbar-audit` in process with these arguments: its exit code and everything it wrote to stdout and stderr. */
export async function runCliCaptured(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const errStream = new Writable({
    write(chunk, _enc, cb) {
      err += String(chunk);
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  const code = await runCli([...args], { out: (t) => (out += t), err: errStream });
  return { code, out, err };
}
