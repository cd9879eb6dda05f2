import { InvalidBrokerOptionsError } from '../errors/invalid-broker-options.error.js';
import { messages } from '../messages.js';

// The checks every option validator is made of: each failure throws
// InvalidBrokerOptionsError naming the option, the value and what is accepted.

/** Shown instead of a connection value in errors, which may carry a password. */
export const HIDDEN = '(value hidden: it may hold credentials)';

export function expectRecord(path: string, value: unknown, shown: unknown = value): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, shown, 'an object');
}

export function rejectUnknown(prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new InvalidBrokerOptionsError(messages.unknownOption(prefix + key, known));
  }
}

export function int(path: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, value, `a whole number from ${min} to ${max}`);
  }
  return value;
}

export function bool(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, value, 'true or false');
  return value;
}

export function oneOf<T extends string>(path: string, value: unknown, fallback: T, accepted: readonly T[]): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !accepted.includes(value as T)) fail(path, value, accepted.map((a) => `"${a}"`).join(' or '));
  return value as T;
}

export function fail(path: string, value: unknown, accepted: string): never {
  throw new InvalidBrokerOptionsError(messages.invalidOption(path, value, accepted));
}
