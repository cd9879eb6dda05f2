// Copies the repository's README, LICENSE and CHANGELOG into the package
// folder before `npm pack` (the copies are git-ignored): npm ships only files
// inside the package folder. A missing file stops the pack.
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(packageDir, '..', '..');

for (const name of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
  const from = join(repoRoot, name);
  if (!existsSync(from)) {
    console.error(`copy-package-docs: ${from} is missing; the package must ship it`);
    process.exit(1);
  }
  copyFileSync(from, join(packageDir, name));
}
