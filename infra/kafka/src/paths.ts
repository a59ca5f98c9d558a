import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Absolute path of the `@sporbar/kafka-infra` package (infra/kafka). */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Where Maven copies the broker jars (git-ignored). */
export const LIBS_DIR = path.join(PACKAGE_DIR, 'libs');
/** Parent of every broker's run directory (git-ignored): run/<name>/{data,broker.log,broker.pid,...}. */
export const RUN_ROOT = path.join(PACKAGE_DIR, 'run');
export const POM_FILE = path.join(PACKAGE_DIR, 'pom.xml');

export const KAFKA_VERSION = '3.9.1';
