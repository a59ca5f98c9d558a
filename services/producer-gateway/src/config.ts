import { readSecret } from '@sporbar/common/config';

/** Everything the gateway reads from its environment, in one place (so it can move to a shared env schema). */
export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly spoolDir: string;
  readonly sealPublicKey: string;
  readonly routingSecret: string;
  readonly sourceSystem: string;
}

/** Reads the gateway's configuration; a missing secret is an SPB_ERR_CONFIG (readSecret). */
export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return {
    host: env['HOST'] ?? '127.0.0.1',
    port: Number(env['PORT'] ?? 3100),
    logLevel: env['LOG_LEVEL'] ?? 'info',
    brokers: (env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','),
    topic: env['SPORBAR_TOPIC'] ?? 'sporbar.disclosures',
    // The spool directory of the endpoint's first home (the SDK's sporbar-http-ingest): a spool left there is still delivered.
    spoolDir: env['SPORBAR_SPOOL_DIR'] ?? 'data/http-ingest-spool',
    sealPublicKey: readSecret(env, 'SPORBAR_SEAL_PUBLIC_KEY'),
    routingSecret: readSecret(env, 'SPORBAR_ROUTING_SECRET'),
    sourceSystem: env['SPORBAR_SOURCE_SYSTEM'] ?? 'http-ingest',
  };
}
