import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the program this process was started
 * with, not a module a test or another program imported. `process.argv[1]` is resolved through
 * symlinks first: npm installs a package's bin as a link (node_modules/.bin/sporbar-audit), and
 * compared unresolved, the installed command ran nothing and exited 0.
 */
export function isMainModule(moduleUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (argv1 === undefined) return false;
  try {
    return pathToFileURL(realpathSync(resolve(argv1))).href === moduleUrl;
  } catch {
    return false;
  }
}
