/**
 * Thrown at bootstrap when a module or handler option is invalid. The message
 * names the option, the value given and the accepted values.
 * @publicApi
 */
export class InvalidBrokerOptionsError extends Error {
  override readonly name = 'InvalidBrokerOptionsError';
}
