// The layout's import rules, enforced by ESLint (`npm run lint`, part of `npm test`).
//
// Each package may import only the Sporbar packages listed for it: the ones below it, so data flows
// one way (SDK → Kafka → ingest → store → projections → API) and no package reaches up into one that
// consumes its output. `common` and `schemas` import no I/O library (database, Kafka, web server,
// logger, network; the one exception is `@sporbar/common/oidc-token`, whose jose fetches an issuer's
// discovery document and JWKS with the global fetch, shared by the gateway and the access API). Tests
// and benchmarks may import across (they wire real components together).

/** The I/O libraries `common` and `schemas` must not import. */
export const ioLibraries = [
  'pg', 'pg-copy-streams', '@electric-sql/pglite', '@electric-sql/pglite/*', '@eventstore/db-client', 'kafkajs',
  'fastify', 'fastify-plugin', '@fastify/*', 'pino', 'prom-client', 'node:net', 'node:http', 'node:https', 'node:dgram',
];

/** Package folder → the Sporbar packages its sources may import. */
export const allowedImports = {
  'services/common': [],
  schemas: ['common'],
  'services/key-store': ['common', 'schemas'],
  'services/event-store': ['common'],
  'services/producer-sdk': ['common', 'schemas', 'key-store'],
  'services/producer-gateway': ['common', 'schemas', 'key-store', 'producer'],
  'services/ingest': ['common', 'schemas', 'key-store', 'event-store'],
  projections: ['common', 'schemas', 'key-store', 'event-store'],
  'services/retention': ['common', 'schemas', 'key-store', 'event-store', 'producer', 'projections'],
  'services/auditor': ['common', 'schemas', 'key-store', 'event-store', 'producer', 'projections'],
  'services/log': ['common', 'schemas', 'event-store', 'auditor', 'witness'],
  'services/access-api': ['common', 'schemas', 'key-store', 'event-store', 'producer', 'projections', 'auditor', 'log'],
  'services/embedded': ['common', 'schemas', 'key-store', 'event-store', 'producer', 'ingest', 'projections', 'access-api', 'auditor', 'log'],
  // The operator's command line (keys, tokens): imported by no package.
  'services/operator': ['common', 'schemas', 'key-store', 'auditor'],
  'services/witness': ['common', 'auditor'],
  'infra/kafka': [],
  'infra/keycloak': [],
  'infra/production': [],
  'infra/tlog-interop': [],
};

const allPackages = ['common', 'schemas', 'key-store', 'event-store', 'producer', 'producer-gateway', 'ingest', 'projections', 'retention', 'access-api', 'auditor', 'log', 'embedded', 'operator', 'witness', 'kafka-infra', 'keycloak-infra', 'production', 'tlog-interop'];

/** ESLint flat-config entries: one per package, on its sources only (src/). */
export function importRuleConfigs() {
  return Object.entries(allowedImports).map(([folder, allowed]) => {
    const forbidden = allPackages.filter((p) => !allowed.includes(p) && `@sporbar/${p}` !== ownName(folder));
    const patterns = [
      {
        group: forbidden.flatMap((p) => [`@sporbar/${p}`, `@sporbar/${p}/*`]),
        message: `${folder} may import only ${allowed.length ? allowed.map((p) => `@sporbar/${p}`).join(', ') : 'no other Sporbar package'} (tools/import-rules.js: data flows one way).`,
      },
      // Across packages by path, never by relative import.
      { group: ['../../*/src/*', '../../../*/src/*', '../../../../*/src/*'], message: 'import another package by its name, not by a relative path into its sources.' },
    ];
    if (folder === 'services/common' || folder === 'schemas') {
      patterns.push({ group: ioLibraries, message: `${folder} holds no I/O: no database, Kafka, web or logging library.` });
    }
    return { files: [`${folder}/src/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
  });
}

function ownName(folder) {
  return { 'services/producer-sdk': '@sporbar/producer', 'infra/kafka': '@sporbar/kafka-infra', 'infra/keycloak': '@sporbar/keycloak-infra' }[folder] ?? `@sporbar/${folder.split('/').at(-1)}`;
}
