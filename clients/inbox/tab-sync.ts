import type { LocalTarget } from './message-state';
import type { InboxChange, InboxCounts } from './types';

/** The part of the browser's BroadcastChannel used here. */
export interface BroadcastChannelLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

export type BroadcastChannelClass = new (name: string) => BroadcastChannelLike;

/** What one tab tells the others of the same inbox, with the stamp it was made at (see LiveList). */
export type TabMessage =
  | {
      type: 'change';
      change: InboxChange;
      target: LocalTarget;
      until?: string;
      counts: InboxCounts;
      stamp: number;
    }
  | { type: 'delete'; ids: number[]; stamp: number };

/** Tells the other tabs of this browser what this one changed, at once; without BroadcastChannel, nothing. */
export function tabSync(name: string, Channel: BroadcastChannelClass | undefined, receive: (m: TabMessage) => void) {
  if (!Channel) return { post() {}, close() {} };
  const channel = new Channel(name);
  channel.onmessage = (event) => receive(event.data as TabMessage);
  return {
    post: (message: TabMessage) => channel.postMessage(message),
    close: () => channel.close(),
  };
}
