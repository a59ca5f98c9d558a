/**
 * server.properties entries of the secured mode, and the client properties the Kafka CLI tools use
 * to reach it (pure).
 *
 * Listeners:
 *   SASL_SSL://127.0.0.1:<port>     clients and inter-broker traffic: TLS, then SASL/SCRAM-SHA-512
 *   CONTROLLER://127.0.0.1:<cport>  KRaft controller, SSL with *required client certificates*: only a
 *                                   holder of the broker's key (principal User:CN=sporbar-kafka-broker)
 *                                   gets past the handshake; loopback only, never advertised
 * Authorization: KRaft StandardAuthorizer, allow.everyone.if.no.acl.found=false,
 * super.users = User:admin (SCRAM, also the inter-broker user) and the broker certificate's principal.
 */
import { BROKER_TLS_PRINCIPAL, type BrokerTls } from './tls.ts';

export const ADMIN_USER = 'admin';

const jaas = (user: string, password: string) =>
  `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`;

export function secureServerProperties(o: {
  host: string;
  port: number;
  controllerPort: number;
  tls: BrokerTls;
  adminPassword: string;
}): Record<string, string | number | boolean> {
  return {
    listeners: `SASL_SSL://${o.host}:${o.port},CONTROLLER://${o.host}:${o.controllerPort}`,
    'advertised.listeners': `SASL_SSL://${o.host}:${o.port}`,
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:SSL',
    'inter.broker.listener.name': 'SASL_SSL',
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': o.tls.keystoreFile,
    'ssl.keystore.password': o.tls.storePassword,
    'ssl.key.password': o.tls.storePassword,
    'ssl.truststore.type': 'PKCS12',
    'ssl.truststore.location': o.tls.truststoreFile,
    'ssl.truststore.password': o.tls.storePassword,
    // The broker, as a client of its own listeners, checks the certificate's SAN against 127.0.0.1.
    'ssl.endpoint.identification.algorithm': 'https',
    'listener.name.controller.ssl.client.auth': 'required',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': jaas(ADMIN_USER, o.adminPassword),
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': false,
    'super.users': `User:${ADMIN_USER};${BROKER_TLS_PRINCIPAL}`,
  };
}

/**
 * Client properties (kafka-configs' --command-config) for `user` over SASL_SSL, trusting the CA PEM
 * file `caCertFile` (default: the JVM's own truststore).
 */
export function cliClientProperties(o: { caCertFile?: string | undefined; user: string; password: string }): string {
  return (
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=${jaas(o.user, o.password)}`,
      ...(o.caCertFile ? ['ssl.truststore.type=PEM', `ssl.truststore.location=${o.caCertFile}`] : []),
    ].join('\n') + '\n'
  );
}
