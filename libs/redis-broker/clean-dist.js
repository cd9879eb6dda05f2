// Empties dist/ before a build, so files of renamed or deleted sources never ship.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

rmSync(join(dirname(fileURLToPath(import.meta.url)), 'dist'), { recursive: true, force: true });
