/**
 * The logger the SDK writes to: the part of a pino logger it uses (a pino Logger, or a child of one,
 * fits), so the SDK needs no logging library of its own. Keys and values of messages are never logged.
 * Without one the SDK is silent.
 */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type LogLevel = keyof TransportLogger;

/** Logs nothing: the default. */
export const silentLogger: TransportLogger = { debug() {}, info() {}, warn() {}, error() {} };

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Writes `level` and above to the console (console.debug/info/warn/error), for callers without a logger of their own. */
export function consoleLogger(level: LogLevel = 'info'): TransportLogger {
  const min = LEVELS.indexOf(level);
  const at =
    (l: LogLevel) =>
    (obj: object, msg?: string): void => {
      if (LEVELS.indexOf(l) >= min) console[l](msg ?? '', obj);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
