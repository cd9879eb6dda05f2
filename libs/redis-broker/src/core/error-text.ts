// How errors and connection targets become text: errorText for any thrown
// value, validationText for ValidationPipe's violations, and the one place a
// connection URL is made safe to print (every log line, error message and CLI
// or launcher output that names a Redis target goes through redactUrl).
import type { BadRequestException } from '@nestjs/common';

/** The message of an unknown thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** ValidationPipe puts the list of violations in the response body; keep them. */
export function validationText(error: BadRequestException): string {
  const response = error.getResponse();
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const message = (response).message;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return error.message;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** Query parameters ioredis (or a mistyped URL) may carry a credential in: `?password=...`. */
const SECRET_PARAM = /pass|secret|token|auth|key/i;
const HIDDEN = '***';

/**
 * A connection URL with its credentials hidden, for logs and error messages:
 * `redis://user:pw@host:6379/0` → `redis://user:***@host:6379/0`.
 *
 * The URL is parsed as ioredis parses it (WHATWG `URL`), so the password ends
 * at the last `@` of the authority (`redis://:p@ss@host` → `redis://***@host`).
 * The user name is kept only when a password follows it (`user@host` alone
 * may be a password written without its colon); query parameters whose name
 * suggests a credential (`password`, `auth`, `token`, ...) show `***`. Any
 * scheme is handled, so a mistyped `http://user:pw@host` is hidden too, and
 * so is a Cluster node written `user:pw@host:port` without a scheme. Text that
 * does not parse as a URL, or that has an `@` after the host (a password with
 * an unencoded `/`, `?` or `#`), is hidden from the scheme up to its last `@`,
 * and a query after it is hidden whole.
 * @publicApi
 */
export function redactUrl(url: string): string {
  const scheme = SCHEME.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  let parsed: URL | undefined;
  try {
    parsed = new URL(`${scheme || 'redis://'}${rest}`);
  } catch {
    parsed = undefined;
  }
  const tail = parsed ? `${parsed.pathname}${parsed.search}${parsed.hash}` : '';
  if (!parsed || tail.includes('@')) return redactUnparsable(scheme, rest);
  // Parsed, with no `@` after the host: the last `@` ends the user info. The
  // rest is shown as written (the parser would normalise it).
  const at = rest.lastIndexOf('@');
  const user = parsed.password && parsed.username ? `${parsed.username}:` : '';
  const location = rest.slice(at + 1);
  const query = location.indexOf('?');
  return `${scheme}${at === -1 ? '' : `${user}${HIDDEN}@`}${query === -1 ? location : `${location.slice(0, query)}${redactQuery(location.slice(query))}`}`;
}

function redactUnparsable(scheme: string, rest: string): string {
  const at = rest.lastIndexOf('@');
  if (at === -1) {
    const query = rest.indexOf('?');
    return `${scheme}${query === -1 ? rest : `${rest.slice(0, query)}?${HIDDEN}`}`;
  }
  const host = rest.slice(at + 1);
  // A query or fragment before the last `@` may have been a password's `?`
  // or a `?password=` holding an `@`: nothing after the scheme is safe then.
  if (/[?#]/.test(rest.slice(0, at)) || /[?#]/.test(host)) return `${scheme}${HIDDEN}`;
  return `${scheme}${HIDDEN}@${host}`;
}

function redactQuery(search: string): string {
  if (search === '') return '';
  const params = search
    .slice(1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && SECRET_PARAM.test(safeDecode(name)) ? `${name}=${HIDDEN}` : pair;
    });
  return `?${params.join('&')}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
