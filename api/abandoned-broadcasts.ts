import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import { endOpenBroadcast, openBroadcasts } from '../db/broadcasts';
import type { Database } from '../db/connect';
import { broadcastWorkflowId, type BroadcastStatus } from '../domain/broadcast';

/** Open broadcasts looked at per sweep, newest first. */
const SWEEP_LIMIT = 500;
/** One look at a workflow's state: a Temporal server that does not answer must not hold the sweep. */
const DESCRIBE_DEADLINE_MS = 5_000;

/** The broadcast's end for a workflow that Temporal closed: finishing is the only way the workflow records its own. */
const ENDED_AS: Record<string, BroadcastStatus | undefined> = {
  TERMINATED: 'cancelled',
  CANCELLED: 'cancelled',
  TIMED_OUT: 'failed',
  FAILED: 'failed',
};

/**
 * Broadcasts still open on record whose workflow closed without finishing (terminated or cancelled in
 * Temporal, timed out, failed): a finishing workflow records its end and deletes the chunks itself, these
 * never will. Records their end and deletes their recipients' contact details; returns how many. A
 * broadcast whose workflow is not found (its start still pending, or a deployment on another namespace
 * sharing the database) is left alone. An aborted `signal` ends the sweep between two broadcasts.
 */
export async function endAbandonedBroadcasts(
  db: Database,
  temporal: Client,
  log: FastifyBaseLogger,
  signal?: AbortSignal,
): Promise<number> {
  let ended = 0;
  for (const { tenantId, id } of await openBroadcasts(db, SWEEP_LIMIT)) {
    if (signal?.aborted) break;
    const handle = temporal.workflow.getHandle(broadcastWorkflowId(tenantId, id));
    let closedAs: string;
    try {
      closedAs = (await temporal.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () => handle.describe())).status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) continue;
      throw error;
    }
    const status = ENDED_AS[closedAs];
    if (status && (await endOpenBroadcast(db, tenantId, id, status))) {
      ended++;
      log.warn({ broadcast_id: id, workflow_status: closedAs }, 'broadcast ended without finishing: contacts deleted');
    }
  }
  return ended;
}
