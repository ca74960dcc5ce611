import { workflowInfo } from '@temporalio/workflow';
import type { Channel } from '../domain/channels';
import type { NotificationSnapshot, Receipt } from '../domain/notification';

/**
 * Past this many events a run carries on as a new one even if the server has not suggested it (servers
 * older than the suggestion, or configured without it); Temporal's hard limit is 51,200.
 */
const HISTORY_EVENTS_BEFORE_CONTINUING = 10_000;

/** Whether this run's history is long enough to carry on as a new run at its next safe point. */
export function historyFull(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_BEFORE_CONTINUING;
}

/** Where one recipient's plan stopped when its run carried on as a new one. */
export type RecipientCursor =
  /** Holding for its send time or quiet hours until `until`. */
  | { at: 'hold'; reason: 'scheduled' | 'held'; until: string }
  /**
   * At step `step` of round `round` of its steps, numbered `stepNumber`, which runs at `waitUntil` (absent:
   * at once) unless its condition is met first.
   */
  | { at: 'step'; round: number; step: number; stepNumber: number; waitUntil?: string };

/** What the delivery runner knows besides the deliveries. */
export interface RunnerCarry {
  receiptsApplied: number;
  /** Receipts that overtook their send's reply, by provider message id. */
  earlyReceipts: [string, Receipt[]][];
  failedChannels: Channel[];
}

/**
 * A notification's state, carried into a new run (continue-as-new) so no history grows without bound:
 * in the plan (`plan`), waiting for an acknowledgement to be resolved (`ack-wait`), in an escalation it
 * re-opened (`reopened`), or waiting for receipts and an operator's retry once the plan has run (`outcome`).
 */
export interface Continuation {
  phase: 'plan' | 'ack-wait' | 'reopened' | 'outcome';
  state: NotificationSnapshot;
  runner: RunnerCarry;
  /** Recipients whose plan had not ended, and where it stood. */
  cursors: Record<string, RecipientCursor>;
  stepsTaken: Record<string, number>;
  blocked: Record<string, Channel[]>;
  forgotten: string[];
  cancelled: boolean;
  resolved: boolean;
  retryRequested: boolean;
  reopens: number;
  /** `ack-wait`: when an unresolved acknowledgement re-opens the escalation. */
  ackWaitUntil?: string;
  /** `outcome`: until when receipts and a retry are awaited, and how many receipts the record holds. */
  receiptDeadline?: string;
  retryDeadline?: string;
  recordedReceipts?: number;
}
