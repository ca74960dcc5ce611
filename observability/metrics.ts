import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's operational metrics. Labels are bounded sets (route templates, channels, providers,
 * priorities, outcomes): never ids, addresses or tenants.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'herald_' });
// Gauges whose names end in `_total`, which only counters may (promtool check metrics): each is the sum of its
// twin by type (herald_nodejs_active_handles, _requests, _resources), which stays.
for (const kind of ['handles', 'requests', 'resources'])
  registry.removeSingleMetric(`herald_nodejs_active_${kind}_total`);

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export const httpRequests = new Counter({
  name: 'herald_http_requests_total',
  help: 'HTTP requests answered, by route template, method and status code',
  labelNames: ['route', 'method', 'status_code'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'herald_http_request_duration_seconds',
  help: 'Time to answer an HTTP request',
  labelNames: ['route', 'method', 'status_code'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const eagerWorkflowStarts = new Counter({
  name: 'herald_eager_workflow_starts_total',
  help: "Notification workflows whose first task ran on this process's worker straight from the start (eager start)",
  registers: [registry],
});

export const workflowStartFailures = new Counter({
  name: 'herald_workflow_start_failures_total',
  help: 'Starts of accepted notifications that Temporal did not take (tried again until it does)',
  registers: [registry],
});

export const notificationsAccepted = new Counter({
  name: 'herald_notifications_accepted_total',
  help: 'Notifications accepted by POST /notify',
  labelNames: ['priority'] as const,
  registers: [registry],
});

export const deliveryAttempts = new Counter({
  name: 'herald_delivery_attempts_total',
  help: 'Send attempts by outcome: sent, delivered, retrying (a transient error), failed_over (to the next provider) or failed (for good)',
  labelNames: ['channel', 'provider', 'priority', 'outcome'] as const,
  registers: [registry],
});

export const deliveryRetries = new Counter({
  name: 'herald_delivery_retries_total',
  help: 'Send attempts after the first',
  labelNames: ['channel', 'provider'] as const,
  registers: [registry],
});

export const providerFailovers = new Counter({
  name: 'herald_provider_failovers_total',
  help: 'Deliveries a provider gave up on and handed to the next provider of the channel',
  labelNames: ['channel', 'provider'] as const,
  registers: [registry],
});

export const acceptToProvider = new Histogram({
  name: 'herald_accept_to_provider_seconds',
  help: 'From acceptance to the provider taking the message',
  labelNames: ['channel', 'priority'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const acceptToDelivered = new Histogram({
  name: 'herald_accept_to_delivered_seconds',
  help: 'From acceptance to confirmed delivery (on the spot, or by receipt)',
  labelNames: ['channel', 'priority'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const linkClicks = new Counter({
  name: 'herald_link_clicks_total',
  help: "Clicks on links in templated messages, through Herald's redirect, by channel",
  labelNames: ['channel'] as const,
  registers: [registry],
});

export const receiptsReceived = new Counter({
  name: 'herald_receipts_total',
  help: 'Delivery receipts accepted on the webhook, by receipt status',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const circuitOpen = new Gauge({
  name: 'herald_provider_circuit_open',
  help: '1 while a provider circuit is open (sends fail fast and are retried later), else 0',
  labelNames: ['provider'] as const,
  registers: [registry],
});

/** Seconds elapsed since a moment given as an ISO string (workflow input) or a Date (database row). */
export const secondsSince = (since: string | Date) => Math.max(0, (Date.now() - new Date(since).getTime()) / 1000);
