import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC, not esbuild: Nest's dependency injection and pipes need
// emitDecoratorMetadata, which esbuild drops.
export default defineConfig({
  plugins: [
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
      module: { type: 'es6' },
    }),
  ],
  resolve: {
    // Tests import the library as users do, by package name, but run its
    // TypeScript sources (child processes do the same with --conditions=nest-redis-broker-source).
    alias: [
      { find: /^nest-redis-broker\/testing$/, replacement: fileURLToPath(new URL('./libs/redis-broker/src/testing/index.ts', import.meta.url)) },
      { find: /^nest-redis-broker\/internal$/, replacement: fileURLToPath(new URL('./libs/redis-broker/src/internal.ts', import.meta.url)) },
      { find: /^nest-redis-broker\/microservices$/, replacement: fileURLToPath(new URL('./libs/redis-broker/src/microservices/index.ts', import.meta.url)) },
      { find: /^nest-redis-broker\/observability$/, replacement: fileURLToPath(new URL('./libs/redis-broker/src/observability/index.ts', import.meta.url)) },
      { find: /^nest-redis-broker$/, replacement: fileURLToPath(new URL('./libs/redis-broker/src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    // An `.only` left in a test file would silently skip every other test of the run.
    allowOnly: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time: the e2e files start redis-server processes and Nest apps on a shared 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
    // Two projects, run apart by `npm test` (unit first, so a broken invariant stops the run in
    // seconds instead of after the end-to-end suite); a file path given on the command line is
    // found in whichever project holds it.
    projects: [
      {
        extends: true,
        // The pure pieces, without Redis: each file runs in milliseconds.
        test: { name: 'unit', include: ['test/unit/**/*.spec.ts'] },
      },
      {
        extends: true,
        // Real redis-server processes and Nest apps.
        test: { name: 'e2e', include: ['test/**/*.spec.ts'], exclude: ['test/unit/**'] },
      },
    ],
  },
});
