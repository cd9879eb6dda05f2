/**
 * One stream field's value as written: strings as they are, numbers,
 * booleans and bigints as their text, anything else JSON-encoded.
 */
export function encodeStreamField(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}
