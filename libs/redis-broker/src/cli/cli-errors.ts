/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** Redis unreachable, refused the command, or any other failure at run time. */
  failure: 1,
  /** Wrong command, option or argument. */
  usage: 2,
  /** The queue, stream, group or dead letter named does not exist. */
  notFound: 3,
} as const;

/** A mistake in the command line; exits with 2 after printing the usage hint. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

/** Something named on the command line is not in Redis; exits with 3. */
export class NotFoundError extends Error {
  readonly exitCode = EXIT.notFound;
}

/** Redis could not be reached or refused us; exits with 1. */
export class ConnectionFailedError extends Error {
  readonly exitCode = EXIT.failure;
}

/** The exit code an error maps to: its own, else 1. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof NotFoundError || error instanceof ConnectionFailedError) return error.exitCode;
  return EXIT.failure;
}

/** How `--json` names an error's exit code: `usage`, `not_found` or `failure`. */
export function errorKindOf(error: unknown): 'usage' | 'not_found' | 'failure' {
  const code = exitCodeOf(error);
  return code === EXIT.usage ? 'usage' : code === EXIT.notFound ? 'not_found' : 'failure';
}
