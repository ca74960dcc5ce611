import type { Client } from '@temporalio/client';
import type { preHandlerAsyncHookHandler } from 'fastify';
import type { Database } from '../db/connect';

/** What every route plugin is handed: shared services, no globals. */
export interface ApiContext {
  db: Database;
  temporal: Client;
  taskQueue: string;
  receiptWindowMs: number;
  webhookSecret?: string;
  /** Where providers reach Herald: the URL Twilio signs is built from it. */
  publicUrl: string;
  twilioAuthToken?: string;
  sendgridWebhookPublicKey?: string;
  authenticate: preHandlerAsyncHookHandler;
}
