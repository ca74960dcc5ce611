import type { Channel } from './channels';
import type { Message, Priority } from './notification';

/** Recipients in one request at most. */
export const MAX_BROADCAST_RECIPIENTS = 100_000;
/** Recipients per child workflow: a chunk's sends are one activity, its outcome one small result. */
export const BROADCAST_CHUNK_SIZE = 500;
/** Chunks sending at once: a large broadcast leaves worker slots to everything else. */
export const BROADCAST_CHUNKS_IN_FLIGHT = 4;

/** What the broadcast workflow and each of its chunks need; the recipients stay in the database. */
export interface BroadcastRequest {
  tenantId: string;
  broadcastId: string;
  channels: Channel[];
  message: Message;
  priority: Priority;
  category?: string;
  /** Past preferences and quiet hours, as for a critical notification. */
  critical?: boolean;
  createdAt: string;
  chunkCount: number;
}

export interface BroadcastChunk extends BroadcastRequest {
  chunk: number;
}

/** One channel of one chunk, sent by one activity on the channel's queue. */
export interface ChunkSend extends BroadcastChunk {
  channel: Channel;
  /** The workflow's now: quiet hours are judged at the workflow's time, not the worker's clock. */
  at: string;
}

/**
 * Where a chunk's deliveries stand after a pass, counting those settled by earlier passes;
 * `heldUntil` when some recipients are in quiet hours until then and wait for another pass.
 */
export interface ChunkOutcome {
  sent: number;
  failed: number;
  suppressed: number;
  heldUntil?: string;
}

/** `failed`: a chunk could not be sent at all (its child workflow says why); the other chunks were. */
export const BROADCAST_STATUSES = ['accepted', 'sending', 'completed', 'cancelled', 'failed'] as const;
export type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];

export interface BroadcastProgress {
  status: BroadcastStatus;
  chunksCompleted: number;
  chunksFailed: number;
  chunkCount: number;
}

export function chunksOf<T>(list: readonly T[], size = BROADCAST_CHUNK_SIZE): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < list.length; i += size) chunks.push(list.slice(i, i + size));
  return chunks;
}

export function broadcastWorkflowId(tenantId: string, broadcastId: string): string {
  return `broadcast/${tenantId}/${broadcastId}`;
}

export function broadcastChunkWorkflowId(tenantId: string, broadcastId: string, chunk: number): string {
  return `${broadcastWorkflowId(tenantId, broadcastId)}/chunk-${chunk}`;
}
