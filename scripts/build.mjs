// `npm run build`: Herald compiled to dist/, so production runs `node dist/main/<role>.js` without tsx
// or dev dependencies, and workers load their workflow bundle instead of making one at start.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const step = (what) => console.log(`[build] ${what}`);
const node = (...args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });

rmSync(dist, { recursive: true, force: true });
step('compiling TypeScript (tsconfig.build.json)');
node(path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json');
step('copying the migrations and the render thread entry');
cpSync(path.join(root, 'db/migrations'), path.join(dist, 'db/migrations'), { recursive: true });
cpSync(path.join(root, 'runtime/render-thread.mjs'), path.join(dist, 'runtime/render-thread.mjs'));
step('bundling the workflows, with and without workflow spans');
node(path.join(dist, 'scripts/bundle-workflows.js'), path.join(dist, 'workflow-bundle.js'));
node(path.join(dist, 'scripts/bundle-workflows.js'), path.join(dist, 'workflow-bundle-spans.js'), '--workflow-spans');
step('bundling the inbox widget');
node(path.join(root, 'scripts/build-widget.mjs'));
step(`done: node dist/main/api.js, node dist/main/worker.js, node dist/main/embedded.js`);
