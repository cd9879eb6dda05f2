// Checks every Markdown link of the docs (README.md, CHANGELOG.md, docs/*.md,
// bench/README.md): relative, inside the repository, and, with #anchor,
// naming a heading of the target. Run by `npm run lint`.
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const files = ['README.md', 'CHANGELOG.md', 'bench/README.md',
  ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

function prose(text) {
  // Drop fenced code blocks and inline code, keep line numbers.
  let fence = false;
  return text.split('\n').map((line) => {
    if (/^\s*```/.test(line)) { fence = !fence; return ''; }
    return fence ? '' : line.replace(/`[^`]*`/g, (m) => (m.includes('](') ? m : ''));
  });
}
function slug(heading) {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}
const anchorCache = new Map();
function anchors(file) {
  if (!anchorCache.has(file)) {
    const seen = new Map(); const set = new Set();
    let fence = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*```/.test(line)) { fence = !fence; continue; }
      const m = !fence && /^#{1,6} (.*)$/.exec(line);
      if (!m) continue;
      const base = slug(m[1]); const n = seen.get(base) ?? 0;
      seen.set(base, n + 1); set.add(n ? `${base}-${n}` : base);
    }
    anchorCache.set(file, set);
  }
  return anchorCache.get(file);
}
let bad = 0; let count = 0;
for (const rel of files) {
  const file = join(root, rel);
  if (!existsSync(file)) { console.log(`missing file ${rel}`); bad++; continue; }
  prose(readFileSync(file, 'utf8')).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      count++;
      const target = m[1];
      const where = `${rel}:${i + 1}: ${target}`;
      if (/^[a-z]+:/i.test(target)) { console.log(`external link ${where}`); bad++; continue; }
      const [path, anchor] = target.split('#');
      const dest = path ? resolve(dirname(file), path) : file;
      if (relative(root, dest).startsWith('..')) { console.log(`outside the repo ${where}`); bad++; continue; }
      if (!existsSync(dest)) { console.log(`no such file ${where}`); bad++; continue; }
      if (anchor !== undefined && !(statSync(dest).isFile() && anchors(dest).has(anchor))) {
        console.log(`no such heading ${where}`); bad++;
      }
    }
  });
}
console.log(`${count} links checked in ${files.length} files, ${bad} broken`);
process.exit(bad ? 1 : 0);
