// Dependency rules of STYLE.md §2, checked by `npm run deps`.
// Layers of libs/redis-broker/src, lowest first: core ← runtime ← discovery
// ← queue | stream | pubsub | schedule ← broker ← the entry points (observability,
// dashboard, testing, microservices, cli, index.ts, internal.ts). A folder imports only
// from layers below it; the three features never import each other.
const LIB = '^libs/redis-broker/src/';

/** A module of the library outside the given folders (and outside the library's own entry files). */
const libOutside = (...folders) => `${LIB}(?!(?:${folders.join('|')})/)`;

export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle makes the load order (and every refactor) depend on which file is read first. bench/ is left out: its '
        + 'child process loads each system module by dynamic import, and the systems take a type back from it.',
      from: { pathNot: '^bench/' },
      to: { circular: true },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'core/ is the bottom layer: errors, options, keys, events, the Redis connection.',
      from: { path: `${LIB}core/` },
      to: { path: libOutside('core') },
    },
    {
      name: 'runtime-imports-core-only',
      severity: 'error',
      comment: 'runtime/ (loop, limiter, batching, backoff, deadlines) knows no feature and no handler.',
      from: { path: `${LIB}runtime/` },
      to: { path: libOutside('core', 'runtime') },
    },
    {
      name: 'discovery-imports-core-and-runtime',
      severity: 'error',
      comment: 'discovery/ (decorators, explorer, registry) sees handlers, not the features that run them.',
      from: { path: `${LIB}discovery/` },
      to: { path: libOutside('core', 'runtime', 'discovery') },
    },
    {
      name: 'features-never-import-each-other',
      severity: 'error',
      comment: 'queue/, stream/, pubsub/ and schedule/ share only what lies below them: move a shared helper down to core/ or runtime/. '
        + 'schedule/ writes to queues and streams through the wire format and core/keys.ts alone.',
      from: { path: `${LIB}(queue|stream|pubsub|schedule)/` },
      to: { path: `${LIB}(?!(?:core|runtime|discovery|$1)/)` },
    },
    {
      name: 'broker-imports-the-layers-below',
      severity: 'error',
      comment: 'broker/ is the composition root: it wires the layers below and is wired by nothing but the entry points.',
      from: { path: `${LIB}broker/` },
      to: { path: libOutside('core', 'runtime', 'discovery', 'queue', 'stream', 'pubsub', 'schedule', 'broker') },
    },
    {
      name: 'entry-points-do-not-import-each-other',
      severity: 'error',
      comment:
        'observability/, dashboard/ and testing/ stand side by side on the layers below. One exception: the dashboard '
        + 'shows the catalog (BrokerCatalog, public in the main entry), which lives in observability/ and needs no optional peer.',
      from: { path: `${LIB}(observability|dashboard|testing)/` },
      to: {
        path: `${LIB}(?:observability|dashboard|testing|cli|microservices)/|${LIB}(?:index|internal)\\.ts$`,
        pathNot: [`${LIB}$1/`, `${LIB}observability/broker-catalog\\.ts$`],
      },
    },
    {
      name: 'microservices-stands-alone',
      severity: 'error',
      comment:
        'microservices/ (the Nest transport, optional peer @nestjs/microservices) is an entry point on the layers below: '
        + 'no other entry point imports it, and it imports none of them.',
      from: { path: `${LIB}microservices/` },
      to: { path: `${LIB}(?:observability|dashboard|testing|cli)/|${LIB}(?:index|internal)\\.ts$` },
    },
    {
      name: 'only-microservices-imports-nestjs-microservices',
      severity: 'error',
      comment: '@nestjs/microservices is an optional peer: the main entry (and every other one) must load without it.',
      from: { path: LIB, pathNot: `${LIB}microservices/` },
      to: { path: '^node_modules/@nestjs/microservices/' },
    },
    {
      name: 'cli-only-through-entry-points',
      severity: 'error',
      comment: 'The CLI is a user of the package: it imports index.ts, internal.ts and the entry points, never a deep path.',
      from: { path: `${LIB}cli/` },
      to: {
        path: LIB,
        pathNot: [`${LIB}cli/`, `${LIB}(?:index|internal)\\.ts$`, `${LIB}(?:observability|testing)/index\\.ts$`],
      },
    },
    {
      name: 'nothing-imports-the-entry-files',
      severity: 'error',
      comment: 'index.ts and internal.ts only re-export; a module importing them would close a cycle through the whole library.',
      from: { path: LIB, pathNot: `${LIB}cli/` },
      to: { path: `${LIB}(?:index|internal)\\.ts$` },
    },
    {
      name: 'apps-use-the-package-name',
      severity: 'error',
      comment:
        'apps/, src/, test/ and bench/ import `nest-redis-broker` (and its entry points) by name, never a path into libs/. ' +
        'The one exception is test/unit/: unit tests of pure internal pieces (models, parsers, validators) import them where they live.',
      from: { path: '^(apps|src|test|bench)/', pathNot: '^test/unit/' },
      // An import by package name resolves into libs/ through the workspace link: that one is allowed.
      to: { path: '^libs/', dependencyTypesNot: ['aliased-workspace'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['nest-redis-broker-source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
  },
};
