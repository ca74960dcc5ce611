/**
 * Writes Herald's workflow bundle to the file named by the first argument (workers run it at start);
 * `--workflow-spans` bundles the interceptors that make workflow spans.
 */
import { writeFile } from 'node:fs/promises';
import { bundleWorkflows } from '../worker/workflow-bundle';

const file = process.argv[2];
if (!file) throw new Error('usage: bundle-workflows.ts <output file> [--workflow-spans]');
bundleWorkflows({ workflowSpans: process.argv.includes('--workflow-spans') })
  .then((bundle) => writeFile(file, bundle.code))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
