// Copies the repository's README, LICENSE and CHANGELOG into the package
// folder before `npm pack` (the copies are git-ignored): npm ships only files
// inside the package folder. A missing file stops the pack.
//
// The README and CHANGELOG link to docs/ and other files of the repository by
// relative path. npmjs.com resolves such links against the package, where
// docs/ is not, so the copies get absolute links into the repository named in
// package.json (`repository.url`, at `main`).
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(packageDir, '..', '..');
const { repository } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const repoUrl = repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

/** `[text](target)` with a target that is not absolute, an anchor or a mail link. */
const RELATIVE_LINK = /(\]\()(?!https?:|mailto:|#)([^)\s]+)(\))/g;

function absoluteLinks(markdown, base) {
  return markdown.replace(RELATIVE_LINK, (_, open, target, close) => {
    const path = target.replace(/^\.\//, '');
    const kind = path.endsWith('/') || !/\.[a-z0-9]+(?:#.*)?$/i.test(path) ? 'tree' : 'blob';
    return `${open}${base}/${kind}/main/${path}${close}`;
  });
}

for (const name of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
  const from = join(repoRoot, name);
  if (!existsSync(from)) {
    console.error(`copy-package-docs: ${from} is missing; the package must ship it`);
    process.exit(1);
  }
  if (name.endsWith('.md')) writeFileSync(join(packageDir, name), absoluteLinks(readFileSync(from, 'utf8'), repoUrl));
  else copyFileSync(from, join(packageDir, name));
}
