import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { problemErrorHandler } from '../../api/problems';
import { widgetRoutes, type WidgetOptions } from '../../api/routes/widget';

const SECRET = 'link-secret-for-tests';

/** The widget's script, served to apps' pages, and the demo page that shows it live. */
describe('serving the inbox widget', () => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'herald-widget-serving-'));
  const file = path.join(folder, 'herald-inbox.js');
  const script = 'customElements.define("herald-inbox", class extends HTMLElement {});';
  writeFileSync(file, script);
  writeFileSync(`${file}.gz`, gzipSync(script));

  async function api(options: Partial<WidgetOptions> = {}) {
    const app = Fastify();
    app.setErrorHandler(problemErrorHandler);
    await app.register(swagger, { openapi: {} });
    await app.register(widgetRoutes, { linkSecret: async () => SECRET, widgetFile: file, ...options });
    return app;
  }

  it('serves the script to any origin, gzipped to browsers that take it, and keeps it out of the OpenAPI document', async () => {
    const app = await api();
    const gzipped = await app.inject({ url: '/widget/herald-inbox.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gzipped.statusCode).toBe(200);
    expect(gzipped.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'content-encoding': 'gzip',
      'access-control-allow-origin': '*',
      vary: 'accept-encoding',
    });
    expect(gunzipSync(gzipped.rawPayload).toString()).toBe(script);
    const plain = await app.inject({ url: '/widget/herald-inbox.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(script);
    await app.ready();
    expect(Object.keys(app.swagger().paths ?? {})).toEqual([]);
    expect((await app.inject({ url: '/demo/inbox' })).statusCode).toBe(404);
  });

  it('says how to build the script when it is not built', async () => {
    const app = await api({ widgetFile: path.join(folder, 'missing.js') });
    const res = await app.inject({ url: '/widget/herald-inbox.js' });
    expect(res.statusCode).toBe(404);
    expect(res.json().detail).toMatch(/scripts\/build-widget\.mjs/);
  });

  it("shows the demo recipient's inbox, with a token of its own, to this machine only", async () => {
    const app = await api({ demoInbox: { tenantId: 'dev', recipientId: 'ada' } });
    const page = await app.inject({ url: '/demo/inbox', headers: { host: 'localhost:8080' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toMatch(/<herald-inbox recipient-id="ada" token="hrt_[^"]+"><\/herald-inbox>/);
    expect(page.body).toContain('curl -s http://localhost:8080/notify');
    const elsewhere = await app.inject({ url: '/demo/inbox', remoteAddress: '192.0.2.7' });
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.body).not.toContain('hrt_');
  });
});
