import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declaredKeyCount, expandLuaIncludes } from '../../libs/redis-broker/src/core/redis/broker-scripts.js';

const SRC = fileURLToPath(new URL('../../libs/redis-broker/src/', import.meta.url));
const INCLUDE_DIR = join(SRC, 'core/redis/lua-include');
const SCRIPT_DIRS = ['queue/lua', 'stream/lua'].map((dir) => join(SRC, dir));

function includes(): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const file of readdirSync(INCLUDE_DIR)) blocks.set(basename(file, '.lua'), readFileSync(join(INCLUDE_DIR, file), 'utf8'));
  return blocks;
}

describe('Lua includes', () => {
  it('replaces an include line with the named block', () => {
    const out = expandLuaIncludes('a.lua', '-- a\n--@include clock\nreturn now()\n', (name) =>
      name === 'clock' ? 'local function now() return 1 end\n' : undefined,
    );
    expect(out).toBe('-- a\nlocal function now() return 1 end\nreturn now()\n');
  });

  it('pulls a block in once even when two lines name it', () => {
    const out = expandLuaIncludes('a.lua', '--@include clock\n--@include clock\nreturn 1\n', () => 'local x = 1');
    expect(out.match(/local x = 1/g)).toHaveLength(1);
  });

  it('refuses an unknown block, naming the script and the block', () => {
    expect(() => expandLuaIncludes('fetch.lua', '--@include nowhere\n', () => undefined)).toThrow(
      'Lua script fetch.lua includes unknown block "nowhere"',
    );
  });

  it('refuses a block that includes another block', () => {
    expect(() => expandLuaIncludes('a.lua', '--@include outer\n', () => '--@include inner\n')).toThrow('blocks must be flat');
  });

  it('leaves a script without include lines unchanged', () => {
    const source = "#!lua flags=allow-oom\n-- KEYS[1] list\nreturn redis.call('LLEN', KEYS[1])\n";
    expect(expandLuaIncludes('a.lua', source, () => undefined)).toBe(source);
  });

  it('keeps every script of the library free of unresolved includes and of raw TIME reads', () => {
    const blocks = includes();
    const scripts = SCRIPT_DIRS.flatMap((dir) => readdirSync(dir).map((file) => join(dir, file)));
    expect(scripts.length).toBeGreaterThan(10);
    for (const path of scripts) {
      const source = readFileSync(path, 'utf8');
      const lua = expandLuaIncludes(basename(path), source, (name) => blocks.get(name));
      expect(lua, path).not.toMatch(/^--@include/m);
      // The clock is read in one place (the redis-time block), never inline.
      expect(source, path).not.toContain("redis.call('TIME')");
      // Keys are bound to named locals at the top; the code uses the names.
      const code = source.split('\n').filter((line) => !line.startsWith('--'));
      const keyUses = code.filter((line) => /KEYS\[\d+\]/.test(line));
      for (const line of keyUses) expect(line, path).toMatch(/^local [\w, ]+ = KEYS\[\d+\]/);
    }
  });
});

describe('declaredKeyCount', () => {
  it('reads the highest KEYS[n] of the leading comment block', () => {
    expect(declaredKeyCount('-- KEYS[1] a\n-- KEYS[3] c\n-- ARGV[1] x\nreturn 1\n')).toBe(3);
  });

  it('skips a Redis 7 shebang line before the header', () => {
    expect(declaredKeyCount('#!lua flags=allow-oom\n-- KEYS[2] b\nreturn 1\n')).toBe(2);
  });

  it('ignores KEYS[n] named in comments below the code', () => {
    expect(declaredKeyCount('-- KEYS[1] a\nlocal x = 1\n-- KEYS[9] not a key of this script\n')).toBe(1);
  });

  it('is 0 for a script that names no key', () => {
    expect(declaredKeyCount('-- nothing\nreturn 1\n')).toBe(0);
  });
});
