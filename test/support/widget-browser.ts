import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

const root = path.resolve(__dirname, '../..');

/** A page of an app at Herald's own origin, with the widget for one recipient. */
export const appPage = (recipient: string, token: string, attributes = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>An app</title>
<script type="module" src="/widget/herald-inbox.js"></script></head>
<body><header style="display:flex;justify-content:flex-end;padding:8px">
<herald-inbox recipient-id="${recipient}" token="${token}" ${attributes}></herald-inbox></header>
<main><h1>An app</h1></main></body></html>`;

/** Debian's Chromium, installed by the project's script when missing, launched. */
export function launchChromium(): Promise<Browser> {
  const executablePath = execFileSync('bash', [path.join(root, 'scripts/install-chromium.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return chromium.launch({ executablePath });
}

/** The widget's script, built for the calling test file alone: `npm run build`, in another test, empties dist/ while it runs. */
export function buildWidget(): Buffer {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'herald-widget-')), 'herald-inbox.js');
  execFileSync(process.execPath, [path.join(root, 'scripts/build-widget.mjs'), file]);
  return readFileSync(file);
}

/** A fresh browser context whose pages load `widget` as `/widget/herald-inbox.js`. */
export async function widgetContext(browser: Browser, widget: Buffer): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
  await context.route('**/widget/herald-inbox.js', (route) =>
    route.fulfill({ body: widget, contentType: 'text/javascript' }),
  );
  return context;
}
