// A render thread's entry. A new thread inherits neither Jest's transform nor, reliably, the loader a
// process was started with, so it registers tsx's require hook itself (unless `.ts` loads already)
// and then loads the TypeScript it runs.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
if (!require.extensions['.ts']) require('tsx/cjs/api').register();
require('./render-thread.ts');
