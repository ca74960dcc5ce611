import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Herald runs from its TypeScript sources (through tsx) or from the compiled build in `dist/`, where
 * this file is `dist/runtime/project-files.js`. Both find the project's files from here.
 */
export const compiled = path.extname(__filename) === '.js';

/** The folder with package.json and `.tools/`, above `dist/` when compiled. */
export const projectRoot = path.resolve(__dirname, compiled ? '../..' : '..');

/** The folder holding Herald's code: the project itself, or `dist/`. */
const codeRoot = path.resolve(__dirname, '..');

/** The node arguments that run one of Herald's scripts (`scripts/<name>`) in a child process. */
export function scriptArgs(name: string, ...args: string[]): string[] {
  return compiled
    ? [path.join(codeRoot, 'scripts', `${name}.js`), ...args]
    : ['--import', 'tsx', path.join(codeRoot, 'scripts', `${name}.ts`), ...args];
}

/** The workflow bundle `npm run build` made, if this is the compiled build and it is there. */
export function prebuiltWorkflowBundle(workflowSpans: boolean): { codePath: string } | undefined {
  if (!compiled) return undefined;
  const codePath = path.join(codeRoot, workflowSpans ? 'workflow-bundle-spans.js' : 'workflow-bundle.js');
  return existsSync(codePath) ? { codePath } : undefined;
}
