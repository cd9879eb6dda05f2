import { fileURLToPath } from 'node:url';

/**
 * The bench runs either from its TypeScript sources (through SWC, as the
 * smoke test does) or compiled to .bench-out/build (what `npm run bench`
 * does, so the processes measured carry no compiler in memory).
 */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The repository root. */
export const ROOT = fileURLToPath(new URL(FROM_SOURCE ? '..' : '../../..', import.meta.url));

/** Node flags a child needs to run the sibling of this file. */
export const CHILD_EXEC_ARGV = FROM_SOURCE ? ['--conditions=nest-redis-broker-source', '--import', '@swc-node/register/esm-register'] : [];

/** The child entry point beside this file. */
export const CHILD_ENTRY = fileURLToPath(new URL(FROM_SOURCE ? './child.ts' : './child.js', import.meta.url));
