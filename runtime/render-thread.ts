import { parentPort } from 'node:worker_threads';
import {
  CompiledTemplateCache,
  TemplateRenderError,
  checkTemplate,
  compileEmail,
  previewTemplate,
  renderTemplate,
  type RenderJob,
  type TemplateContent,
  type TemplateErrorLocation,
} from '../domain/templates/render';

/** What the pool asks of a thread. */
export type RenderRequest =
  | { kind: 'render'; job: RenderJob }
  | { kind: 'check'; content: TemplateContent; sources: Record<string, string> }
  | { kind: 'preview'; job: RenderJob };

/** A thread's answers: `ready` once, when it can take work; then one reply per request. */
export type RenderReply =
  | { ready: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { reason: string } & TemplateErrorLocation };

/** Compiled versions this thread rendered lately: a warm send renders without parsing. */
const CACHED_VERSIONS = 1_000;

const cache = new CompiledTemplateCache(CACHED_VERSIONS);

function handle(request: RenderRequest): Promise<unknown> {
  switch (request.kind) {
    case 'render':
      return renderTemplate(request.job, cache);
    case 'check':
      return checkTemplate(request.content, request.sources);
    case 'preview':
      return previewTemplate(request.job, cache);
  }
}

/** The first MJML compile and render load and compile code lazily: done before the first timed job. */
async function warmUp(): Promise<void> {
  const mjml =
    '<mjml><mj-body><mj-section><mj-column><mj-text>{{ name }}</mj-text></mj-column></mj-section></mj-body></mjml>';
  const content: TemplateContent = { email: { subject: '{{ name }}', mjml } };
  const { html } = await compileEmail(content);
  await renderTemplate({ content, compiledEmailHtml: html, channel: 'email', data: { name: 'x' }, sources: {} });
}

function reply(message: RenderReply): void {
  parentPort!.postMessage(message);
}

async function main(): Promise<void> {
  if (!parentPort) throw new Error('render-thread runs as a worker thread of a render pool');
  parentPort.on('message', async ({ id, request }: { id: number; request: RenderRequest }) => {
    try {
      reply({ id, ok: true, value: await handle(request) });
    } catch (error) {
      const details =
        error instanceof TemplateRenderError ? error.toJSON() : { reason: (error as Error)?.message ?? String(error) };
      reply({ id, ok: false, error: details });
    }
  });
  await warmUp();
  reply({ ready: true });
}

void main();
