// Copies the library's non-TypeScript files (Lua scripts, static pages) from
// src/ to dist/, keeping their folders: the compiled loader reads them there.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const ASSET = /\.(lua|html|css|svg)$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (ASSET.test(name)) cpSync(path, join(dist, relative(src, path)));
  }
}
walk(src);
