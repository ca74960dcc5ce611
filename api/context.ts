import type { Client } from '@temporalio/client';
import type { onRequestAsyncHookHandler } from 'fastify';
import type { Database } from '../db/connect';
import type { Preferences } from '../domain/preferences';
import type { RenderPool } from '../runtime/render-pool';
import type { InboxStreams } from './inbox-streams';
import type { StartDispatcher } from './start-dispatcher';
import type { TenantLimits } from './tenant-limits';

/** What every route plugin is handed: shared services, no globals. */
export interface ApiContext {
  db: Database;
  temporal: Client;
  taskQueue: string;
  /** Starts the workflows of accepted notifications. */
  starts: StartDispatcher;
  /** Stored preferences of a request's recipients; concurrent small reads share one query. */
  preferencesOf: (tenantId: string, recipientIds: string[]) => Promise<Map<string, Preferences>>;
  receiptWindowMs: number;
  retryWindowMs: number;
  /** How often a running experiment looks at its counts. */
  experimentEvaluateEveryMs: number;
  /** Signs and checks the acknowledge and unsubscribe links messages carry; read once, when first needed. */
  linkSecret: () => Promise<string>;
  webhookSecret?: string;
  /** Where providers reach Herald: the URL Twilio signs is built from it. */
  publicUrl: string;
  twilioAuthToken?: string;
  sendgridWebhookPublicKey?: string;
  /** Tenants' webhook URLs may name private addresses; otherwise they must be public. */
  webhookAllowPrivate: boolean;
  /** Each tenant's request rate and daily quota. */
  limits: TenantLimits;
  /** Drops remembered keys after a revocation or a change of limits, so this instance sees it at once. */
  forgetKeys: () => void;
  /** Checks templates when they are saved and renders previews, on threads a hostile template cannot stall. */
  renderer: Pick<RenderPool, 'check' | 'preview'>;
  /** The live inboxes open in this process; absent without a database listener. */
  inboxStreams?: InboxStreams;
  /** Turns the caller's key into `request.tenantId`, or answers 401, before anything else looks at the request. */
  authenticate: onRequestAsyncHookHandler;
}
