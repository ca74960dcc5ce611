import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';

/** Workflow interceptors for tracing; a prebuilt bundle must include them too. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/tracing')];

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

/** Herald's workflow code and its interceptors, bundled by webpack in this process. */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: quietLogger,
  });
}

/**
 * The same bundle made by a short-lived child process: webpack leaves ≈120 MiB behind in the heap
 * of the process that runs it, which a long-running worker would carry for nothing.
 */
export async function bundleWorkflowsInChildProcess(): Promise<WorkflowBundle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-workflows-'));
  const file = path.join(dir, 'bundle.js');
  try {
    const root = path.resolve(__dirname, '..');
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'scripts/bundle-workflows.ts'), file],
      { cwd: root },
    );
    return { code: await readFile(file, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
