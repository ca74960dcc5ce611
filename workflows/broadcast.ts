import { executeChild, log, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Channel } from '../domain/channels';
import {
  BROADCAST_CHUNKS_IN_FLIGHT,
  broadcastChunkWorkflowId,
  type BroadcastChunk,
  type BroadcastProgress,
  type BroadcastRequest,
  type ChunkOutcome,
} from '../domain/broadcast';
import { channelTaskQueue, MANY_SENDS, PRIORITY_KEYS } from '../domain/delivery-policy';
import { broadcastProgressQuery, cancelSignal } from './definitions';

const { finishBroadcast } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

function sendOn(channel: Channel) {
  return proxyActivities<Activities>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
    ...MANY_SENDS,
  }).sendBroadcastChunk;
}

/**
 * One message to a large audience: chunks of recipients go to child workflows a few at a time, so a
 * broadcast never holds every worker slot; a cancel stops the chunks not yet started.
 */
export async function broadcastWorkflow(request: BroadcastRequest): Promise<BroadcastProgress> {
  const progress: BroadcastProgress = {
    status: 'sending',
    chunksCompleted: 0,
    chunksFailed: 0,
    chunkCount: request.chunkCount,
  };
  let cancelled = false;
  setHandler(broadcastProgressQuery, () => progress);
  setHandler(cancelSignal, () => {
    cancelled = true;
  });

  let next = 0;
  const lane = async () => {
    while (!cancelled && next < request.chunkCount) {
      const chunk = next++;
      try {
        await executeChild(broadcastChunkWorkflow, {
          workflowId: broadcastChunkWorkflowId(request.tenantId, request.broadcastId, chunk),
          args: [{ ...request, chunk }],
          priority: { priorityKey: PRIORITY_KEYS[request.priority] },
        });
        progress.chunksCompleted++;
      } catch (error) {
        // One chunk that cannot be sent (its child workflow shows why) does not stop the others.
        log.error('broadcast chunk failed', { chunk, error });
        progress.chunksFailed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BROADCAST_CHUNKS_IN_FLIGHT, request.chunkCount) }, lane));
  const status = cancelled ? 'cancelled' : progress.chunksFailed > 0 ? 'failed' : 'completed';
  await finishBroadcast({
    tenantId: request.tenantId,
    broadcastId: request.broadcastId,
    status,
    chunksCompleted: progress.chunksCompleted,
    chunksFailed: progress.chunksFailed,
  });
  // Only now does the progress query say it ended: its row, and the contacts deleted with it, are written.
  progress.status = status;
  return progress;
}

/** One chunk: each channel's sends in one activity; recipients in quiet hours wait for another pass. */
export async function broadcastChunkWorkflow(chunk: BroadcastChunk): Promise<ChunkOutcome> {
  const byChannel = new Map<Channel, ChunkOutcome>();
  let pending = [...chunk.channels];
  while (pending.length > 0) {
    const at = new Date().toISOString();
    const outcomes = await Promise.all(pending.map((channel) => sendOn(channel)({ ...chunk, channel, at })));
    pending.forEach((channel, i) => byChannel.set(channel, outcomes[i]!));
    pending = pending.filter((channel) => byChannel.get(channel)!.heldUntil);
    const wake = Math.min(...pending.map((channel) => Date.parse(byChannel.get(channel)!.heldUntil!)));
    if (pending.length > 0) await sleep(Math.max(wake - Date.now(), 1));
  }
  const total: ChunkOutcome = { sent: 0, failed: 0, suppressed: 0 };
  for (const o of byChannel.values()) {
    total.sent += o.sent;
    total.failed += o.failed;
    total.suppressed += o.suppressed;
  }
  return total;
}
