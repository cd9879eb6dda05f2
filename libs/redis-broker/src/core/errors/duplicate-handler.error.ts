/**
 * Thrown at bootstrap when two handlers claim the same queue (or stream group)
 * in one application.
 * @publicApi
 */
export class DuplicateHandlerError extends Error {
  override readonly name = 'DuplicateHandlerError';
}
