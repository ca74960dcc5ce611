// A render thread's entry. In the compiled build it loads the JavaScript beside it. From the sources,
// a new thread inherits neither Jest's transform nor, reliably, the loader a process was started with,
// so it registers tsx's require hook itself (unless `.ts` loads already) and then loads the TypeScript.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
if (existsSync(new URL('./render-thread.js', import.meta.url))) require('./render-thread.js');
else {
  if (!require.extensions['.ts']) require('tsx/cjs/api').register();
  require('./render-thread.ts');
}
