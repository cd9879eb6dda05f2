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
const SCRIPT_FOLDERS = ['../../queue/lua', '../../stream/lua'];

let loaded: ScriptDefinition[] | undefined;

/**
 * Reads every script once. The number of keys comes from the header: the
 * highest `KEYS[n]` it lists. The command name is `nrb` + the file name in
 * camel case (`dead-letter.lua` → `nrbDeadLetter`). A first line
 * `#!lua flags=...` (Redis 7 script flags, e.g. `allow-oom`) is sent with
 * the script, as Redis reads it on `EVAL` and `EVALSHA`.
 */
function loadScripts(): ScriptDefinition[] {
  if (loaded) return loaded;
  const here = fileURLToPath(new URL('.', import.meta.url));
  loaded = SCRIPT_FOLDERS.flatMap((folder) => {
    const dir = join(here, folder);
    return readdirSync(dir)
      .filter((file) => file.endsWith('.lua'))
      .map((file) => {
        const lua = readFileSync(join(dir, file), 'utf8');
        const header = lua.split('\n').filter((line) => line.startsWith('--')).join('\n');
        const indexes = [...header.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
        const camel = basename(file, '.lua').replace(/(^|-)(\w)/g, (_m, _d: string, c: string) => c.toUpperCase());
        return { name: `nrb${camel}`, numberOfKeys: Math.max(0, ...indexes), lua };
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
  }
}
