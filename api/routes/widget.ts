import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { projectRoot } from '../../runtime/project-files';
import type { ApiContext } from '../context';
import { notFound } from '../problems';
import { issueRecipientToken, MAX_TOKEN_TTL_MS } from '../recipient-tokens';

/** Where `scripts/build-widget.mjs` puts the bundle, from the sources and in the compiled build alike. */
export const WIDGET_FILE = path.join(projectRoot, 'dist/widget/herald-inbox.js');

export interface WidgetOptions extends Pick<ApiContext, 'linkSecret'> {
  /** Serves /demo/inbox: this recipient's inbox, live, with a token made here. Only where the dev outbox is on. */
  demoInbox?: { tenantId: string; recipientId: string };
  widgetFile?: string;
}

/** Neither is part of the API: kept out of the OpenAPI document. */
const hidden = () => ({ schema: { hide: true } });

/**
 * The `<herald-inbox>` widget's script, for apps' pages to load (from any origin), and in development a
 * page that shows it live.
 */
export const widgetRoutes: FastifyPluginAsync<WidgetOptions> = async (app, options) => {
  const file = options.widgetFile ?? WIDGET_FILE;
  let bundle: Promise<{ plain: Buffer; gzipped: Buffer }> | undefined;
  // Read once: a process never sees the bundle change. Missing, it is looked for again next time.
  const load = () =>
    (bundle ??= Promise.all([readFile(file), readFile(`${file}.gz`)]).then(([plain, gzipped]) => ({ plain, gzipped })));

  app.get('/widget/herald-inbox.js', hidden(), async (request, reply) => {
    const { plain, gzipped } = await load().catch(() => {
      bundle = undefined;
      throw notFound('The inbox widget is not built: node scripts/build-widget.mjs (npm run build does it)');
    });
    const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
    if (gzip) reply.header('content-encoding', 'gzip');
    return (
      reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('vary', 'accept-encoding')
        // A module script from another origin is fetched with CORS.
        .header('access-control-allow-origin', '*')
        .send(gzip ? gzipped : plain)
    );
  });

  const demo = options.demoInbox;
  if (!demo) return;
  app.get('/demo/inbox', hidden(), async (request, reply) => {
    // It hands out a token for the dev tenant's recipient: to this machine only.
    if (!fromThisMachine(request)) throw notFound('The inbox demo answers on this machine only');
    const { token } = issueRecipientToken(
      await options.linkSecret(),
      demo.tenantId,
      demo.recipientId,
      MAX_TOKEN_TTL_MS,
    );
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(demoPage(`${request.protocol}://${request.host}`, demo.recipientId, token));
  });
};

function fromThisMachine(request: FastifyRequest): boolean {
  return ipaddr.isValid(request.ip) && ipaddr.process(request.ip).range() === 'loopback';
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function demoPage(origin: string, recipientId: string, token: string): string {
  const body = JSON.stringify({ channels: ['in_app'], recipients: [{ id: recipientId }], message: 'Hi' });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald inbox demo</title>
<script type="module" src="/widget/herald-inbox.js"></script>
<style>
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d2430}
header{display:flex;align-items:center;justify-content:space-between;padding:.5rem 1.5rem;border-bottom:1px solid #d9dde3}
main{max-width:46rem;margin:2rem auto;padding:0 1.5rem}
pre{padding:1rem;border-radius:8px;background:#f4f5f7;overflow-x:auto;white-space:pre-wrap}
</style>
</head>
<body>
<header><strong>Your app</strong><herald-inbox recipient-id="${escape(recipientId)}" token="${escape(token)}"></herald-inbox></header>
<main>
<h1>The in-app inbox, live</h1>
<p>The bell above is <code>&lt;herald-inbox&gt;</code> showing the inbox of <code>${escape(recipientId)}</code> in the dev
tenant. Send a message from a terminal in Herald's folder, and watch it arrive:</p>
<pre>export HERALD_KEY=$(cat .herald/dev-api-key)
curl -s ${escape(origin)}/notify -H "Authorization: Bearer $HERALD_KEY" -H 'Content-Type: application/json' \\
  -d '${escape(body)}'</pre>
<p>This page got its token from Herald as your app's backend would, with <code>POST /recipients/${escape(recipientId)}/tokens</code>,
and hands it to the widget: the browser never sees an API key.</p>
</main>
</body>
</html>`;
}
