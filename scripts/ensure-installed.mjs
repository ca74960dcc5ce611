// Runs `npm ci` when the dependencies are not installed yet, so a fresh clone's first command works.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function ensureInstalled() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (existsSync(path.join(root, 'node_modules', '.package-lock.json'))) return;
  console.log('[herald] Installing dependencies with npm ci: about a minute on a fresh clone, once ...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // Errors only: four nested dependencies of Fastify and MJML declare Node 22 and run on 20.19, and their EBADENGINE
  // warnings would tell a reader their Node is too old when it is not.
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (result.status === 0) console.log('[herald] Dependencies installed');
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureInstalled();
