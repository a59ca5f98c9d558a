/**
 * A tiny throttled progress printer for long work (stderr; silent with --quiet). On a terminal it
 * rewrites one line; elsewhere (CI logs) it prints a line at most every `everyMs`.
 */
export interface Progress {
  update(message: string): void;
  done(message?: string): void;
}

export function createProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream; everyMs?: number } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const everyMs = options.everyMs ?? (tty ? 200 : 2000);
  let last = 0;
  let shown = false;
  if (options.quiet) return { update: () => undefined, done: () => undefined };
  return {
    update(message) {
      const now = Date.now();
      if (now - last < everyMs) return;
      last = now;
      shown = true;
      stream.write(tty ? `\r\x1b[2K${message}` : `${message}\n`);
    },
    done(message) {
      if (tty && shown) stream.write('\r\x1b[2K');
      if (message) stream.write(`${message}\n`);
      shown = false;
    },
  };
}

/** "1,234,567 events (312,000/s)" */
export function rate(count: number, startedMs: number): string {
  const s = (Date.now() - startedMs) / 1000;
  return `${count.toLocaleString('en-US')} events${s > 0 ? ` (${Math.round(count / s).toLocaleString('en-US')}/s)` : ''}`;
}
