/**
 * Throw this from a handler to say "retrying cannot help": the message goes
 * straight to the dead-letter place with this error's message as the reason,
 * whatever attempts are left.
 *
 * @example
 * ```ts
 * if (!order) throw new NonRetryableError(`order ${id} does not exist`);
 * ```
 * @publicApi
 */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
}
