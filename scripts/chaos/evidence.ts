/**
 * Evidence for a notification that did not settle, kept before the run tears everything down: its
 * workflow's history as `temporal workflow show` prints it, and the pending starts left in the
 * database (an accepted notification whose workflow never started).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import { notificationWorkflowId } from '../../workflows/definitions';
import type { Order } from './load';

const run = promisify(execFile);

export async function keepEvidence(
  unsettled: Order[],
  options: { runDir: string; tenantId: string; temporalAddress: string; databaseUrl: string },
): Promise<void> {
  if (unsettled.length === 0) return;
  const dir = path.join(options.runDir, 'unsettled');
  mkdirSync(dir, { recursive: true });
  const cli = ensureTemporalBinary('cli', () => undefined);
  for (const order of unsettled.slice(0, 10)) {
    const workflowId = notificationWorkflowId(options.tenantId, order.id);
    const show = cli
      ? await run(cli, ['workflow', 'show', '--workflow-id', workflowId, '--address', options.temporalAddress], {
          maxBuffer: 1 << 24,
        }).then(
          ({ stdout }) => stdout,
          (error: { stderr?: string; message: string }) => error.stderr || error.message,
        )
      : 'no Temporal CLI';
    writeFileSync(path.join(dir, `${order.tag}.txt`), `${workflowId}\n\n${show}`);
  }
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      'select workflow_id, priority, accepted_at, claimed_until from pending_starts where tenant_id = $1 order by accepted_at',
      [options.tenantId],
    );
    writeFileSync(path.join(dir, 'pending-starts.json'), JSON.stringify(rows, null, 1));
  } finally {
    await client.end();
  }
}
