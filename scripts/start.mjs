// `npm start` on a fresh clone: install what is missing, then run Herald in one process tree.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ensureInstalled } from './ensure-installed.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = process.argv[2] ?? 'main/embedded.ts';

ensureInstalled();
// The inbox widget the API serves (and /demo/inbox shows), built from its sources, in a process of its own:
// esbuild keeps a service process while its caller lives.
const widget = spawnSync(process.execPath, [path.join(root, 'scripts/build-widget.mjs')], { encoding: 'utf8' });
if (widget.status !== 0)
  console.warn(`[herald] the inbox widget was not built: /widget/herald-inbox.js answers 404\n${widget.stderr.trim()}`);

const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
  cwd: process.cwd(),
  // glibc's malloc gives each busy thread an arena of its own, up to eight per core; Herald's threads
  // (the Temporal core's, Node's, the workflow thread) left ≈50 MiB more resident at idle than with two.
  env: { MALLOC_ARENA_MAX: '2', ...process.env },
  stdio: 'inherit',
});
// The terminal's Ctrl-C reaches the child too; a signal sent to this process alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
