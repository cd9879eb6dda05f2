import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../libs/redis-broker/src/core/error-text.js';

describe('redactUrl', () => {
  it.each([
    ['redis://host:6379', 'redis://host:6379'],
    ['rediss://cache.internal:6380/2', 'rediss://cache.internal:6380/2'],
  ])('leaves a URL without credentials as written: %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it.each([
    ['redis://user:pw@host:6379/0', 'redis://user:***@host:6379/0'],
    ['redis://:secret@host', 'redis://***@host'],
    // The password ends at the last `@` of the authority, as ioredis parses it.
    ['redis://:p@ss@host', 'redis://***@host'],
    // A lone user may be a password written without its colon.
    ['redis://sEcReT@host', 'redis://***@host'],
    ['redis://:pw@host#frag', 'redis://***@host#frag'],
  ])('hides the password of %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it.each([
    ['redis://host?password=hunter2&db=1', 'redis://host?password=***&db=1'],
    ['redis://host?auth=abc', 'redis://host?auth=***'],
    ['redis://host?api_token=t&key=k&secret=s', 'redis://host?api_token=***&key=***&secret=***'],
    ['redis://host?%70assword=x', 'redis://host?%70assword=***'],
    ['redis://:pw@h?x=1&token', 'redis://***@h?x=1&token'],
  ])('hides query parameters named like a credential: %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('hides the credentials of a mistyped scheme and of a Cluster node written without one', () => {
    expect(redactUrl('http://user:pw@host')).toBe('http://user:***@host');
    expect(redactUrl('user:pw@host:7000')).toBe('user:***@host:7000');
  });

  it.each([
    // An unencoded `/`, `?` or `#` in a password puts an `@` after the host.
    ['redis://u:p/w@host', 'redis://***@host'],
    ['redis://u:p?w@host', 'redis://***'],
    ['redis://u:p#w@host', 'redis://***'],
    ['not a url @ all', '***@ all'],
    ['garbage?password=x', 'garbage?password=***'],
  ])('hides everything up to the last @ of text that does not parse cleanly: %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrl(url)).not.toMatch(/\bp\/w|p\?w|p#w/);
  });

  it('shows an empty string as it is', () => {
    expect(redactUrl('')).toBe('');
  });
});
