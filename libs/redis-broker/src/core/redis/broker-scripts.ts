import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from 'ioredis';
import type { RedisClient } from './redis-client.js';

/** One argument of a broker script. */
export type ScriptArg = string | Buffer | number;

interface ScriptDefinition {
  name: string;
  numberOfKeys: number;
  lua: string;
}

/** Folders holding `.lua` files, one atomic step each, relative to this file. */
const SCRIPT_FOLDERS = ['../../queue/lua', '../../stream/lua', '../../runtime/limits/lua', '../../schedule/lua'];
/** Folder of the Lua blocks scripts share, pulled in by `--@include <name>`. */
const INCLUDE_FOLDER = 'lua-include';
const INCLUDE_LINE = /^--@include ([a-z][a-z0-9-]*)[ \t]*$/gm;

let loaded: ScriptDefinition[] | undefined;

/**
 * Replaces each `--@include <name>` line of a script with the shared block
 * `<name>.lua`, so a repeated piece (the Redis clock in ms, the dead-letter
 * record write) is written once. A block is pulled in at most once per script
 * (later lines naming it again are dropped); blocks include nothing
 * themselves. Throws on a block `read` cannot find, naming the script.
 */
export function expandLuaIncludes(script: string, source: string, read: (name: string) => string | undefined): string {
  const seen = new Set<string>();
  return source.replace(INCLUDE_LINE, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    const block = read(name);
    if (block === undefined) throw new Error(`Lua script ${script} includes unknown block "${name}"`);
    if (/^--@include /m.test(block)) throw new Error(`Lua block ${name}.lua includes another block; blocks must be flat`);
    return block.trimEnd();
  });
}

/**
 * The number of keys a script takes: the highest `KEYS[n]` its header (the
 * leading comment lines) lists.
 */
export function declaredKeyCount(source: string): number {
  const header: string[] = [];
  for (const line of source.split('\n')) {
    if (line.startsWith('#!')) continue;
    if (!line.startsWith('--')) break;
    header.push(line);
  }
  const indexes = [...header.join('\n').matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
  return Math.max(0, ...indexes);
}

/**
 * Reads every script once. The number of keys comes from the header: the
 * highest `KEYS[n]` it lists. The command name is `nrb` + the file name in
 * camel case (`dead-letter.lua` → `nrbDeadLetter`). A first line
 * `#!lua flags=...` (Redis 7 script flags, e.g. `allow-oom`) is sent with
 * the script, as Redis reads it on `EVAL` and `EVALSHA`; shared blocks are
 * pulled in below it (see {@link expandLuaIncludes}).
 */
function loadScripts(): ScriptDefinition[] {
  if (loaded) return loaded;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const includes = new Map<string, string>();
  const includeDir = join(here, INCLUDE_FOLDER);
  for (const file of readdirSync(includeDir)) {
    if (file.endsWith('.lua')) includes.set(basename(file, '.lua'), readFileSync(join(includeDir, file), 'utf8'));
  }
  loaded = SCRIPT_FOLDERS.flatMap((folder) => {
    const dir = join(here, folder);
    return readdirSync(dir)
      .filter((file) => file.endsWith('.lua'))
      .map((file) => {
        const source = readFileSync(join(dir, file), 'utf8');
        const lua = expandLuaIncludes(file, source, (name) => includes.get(name));
        const camel = basename(file, '.lua').replace(/(^|-)(\w)/g, (_m, _d: string, c: string) => c.toUpperCase());
        return { name: `nrb${camel}`, numberOfKeys: declaredKeyCount(source), lua };
      });
  });
  return loaded;
}

/** Defines every broker script as a command on `client` (`client.nrbFetch(...)`, `client.nrbFetchBuffer(...)`). */
export function defineBrokerScripts(client: RedisClient): void {
  for (const script of loadScripts()) {
    client.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
}

type Script<R> = (...args: ScriptArg[]) => R;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    nrbFetch: Script<Result<(string | number)[], Context>>;
    nrbFetchBuffer: Script<Result<(Buffer | number)[], Context>>;
    nrbAck: Script<Result<number, Context>>;
    nrbRetry: Script<Result<number, Context>>;
    nrbDeadLetter: Script<Result<number, Context>>;
    nrbHeartbeat: Script<Result<number, Context>>;
    nrbExpiredConsumers: Script<Result<string[], Context>>;
    nrbReap: Script<Result<[number, number], Context>>;
    nrbRelease: Script<Result<number, Context>>;
    nrbSnapshotBuffer: Script<Result<Buffer[], Context>>;
    nrbPromote: Script<Result<[number, number], Context>>;
    nrbEnqueue: Script<Result<number, Context>>;
    nrbDeadRequeue: Script<Result<number, Context>>;
    nrbStreamDeadLetter: Script<Result<string, Context>>;
    nrbStreamDeadRequeue: Script<Result<number, Context>>;
    nrbStreamIdleConsumers: Script<Result<number, Context>>;
    nrbStreamRefreshIdle: Script<Result<number, Context>>;
    nrbDefer: Script<Result<number, Context>>;
    nrbRateAcquire: Script<Result<number[], Context>>;
    nrbRateDrop: Script<Result<number, Context>>;
    nrbRateCommit: Script<Result<number, Context>>;
    nrbLeaseAcquire: Script<Result<[number, number], Context>>;
    nrbLeaseRelease: Script<Result<number, Context>>;
    nrbLeaseRenew: Script<Result<number, Context>>;
    nrbScheduleUpsert: Script<Result<number, Context>>;
    nrbScheduleRemove: Script<Result<number, Context>>;
    nrbScheduleDue: Script<Result<(string | number)[], Context>>;
    nrbScheduleClaim: Script<Result<number, Context>>;
    nrbScheduleQueuePush: Script<Result<number, Context>>;
    nrbScheduleStreamAppend: Script<Result<number, Context>>;
  }
}
