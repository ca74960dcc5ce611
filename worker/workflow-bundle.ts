import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { projectRoot, scriptArgs } from '../runtime/project-files';

export interface BundleOptions {
  /**
   * Spans for workflow runs and the calls they make, through the worker's sink. Without them the
   * workflow only passes its caller's trace on to its activities, at a fraction of the memory.
   */
  workflowSpans: boolean;
}

/** The workflow interceptors a bundle carries: the worker uses the bundle's, whatever it is told. */
export function workflowInterceptorModules({ workflowSpans }: BundleOptions): string[] {
  return [require.resolve(workflowSpans ? '../workflows/tracing' : '../workflows/trace-propagation')];
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

/** Herald's workflow code and its interceptors, bundled by webpack in this process. */
export function bundleWorkflows(options: BundleOptions): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: workflowInterceptorModules(options),
    logger: quietLogger,
  });
}

/**
 * The same bundle made by a short-lived child process: webpack leaves ≈120 MiB behind in the heap
 * of the process that runs it, which a long-running worker would carry for nothing.
 */
export async function bundleWorkflowsInChildProcess(options: BundleOptions): Promise<WorkflowBundle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-workflows-'));
  const file = path.join(dir, 'bundle.js');
  try {
    await promisify(execFile)(
      process.execPath,
      scriptArgs('bundle-workflows', file, ...(options.workflowSpans ? ['--workflow-spans'] : [])),
      { cwd: projectRoot },
    );
    return { code: await readFile(file, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
