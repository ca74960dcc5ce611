import type { TemplateContent } from '../../domain/templates/content';
import { TemplateRenderError, type RenderJob } from '../../domain/templates/render';
import { createRenderPool, type RenderPool } from '../../runtime/render-pool';

const sms = (text: string, data: Record<string, unknown> = {}): RenderJob => ({
  content: { sms: { text } },
  channel: 'sms',
  data,
  sources: {},
});

/** The error a job fails with (the test fails if it does not). */
async function failure(promise: Promise<unknown>): Promise<TemplateRenderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TemplateRenderError);
  return error as TemplateRenderError;
}

describe('render pool: templates rendered in worker threads under a timeout and a heap limit', () => {
  let pool: RenderPool;

  beforeAll(() => {
    // Shorter than liquidjs's own render limit (1 s), so only terminating the thread can stop a slow job.
    pool = createRenderPool({ threads: 2, timeoutMs: 300 });
  });
  afterAll(() => pool.close());

  it('renders, checks and previews in a thread', async () => {
    expect((await pool.render(sms('Hi {{ name }}', { name: 'Io' }))).message).toEqual({ text: 'Hi Io' });
    const content: TemplateContent = {
      email: { subject: 's', mjml: '<mjml><mj-body><mj-text>x</mj-text></mj-body></mjml>' },
    };
    expect((await pool.check(content, {})).problems).toEqual([
      expect.objectContaining({ channel: 'email', field: 'mjml' }),
    ]);
    const preview = await pool.preview({ ...sms('Hi {{ name }}'), lenient: true });
    expect(preview.rendered).toEqual({ text: 'Hi ' });
    expect(preview.warnings).toEqual([expect.objectContaining({ code: 'missing_variable' })]);
  });

  it('brings a template’s error back as a TemplateRenderError with its message and place', async () => {
    const error = await failure(pool.render(sms('a\n {{ who }}', {})));
    expect(error.message).toBe('sms text: undefined variable: who (line 2, column 5)');
    expect([error.channel, error.field, error.line, error.column]).toEqual(['sms', 'text', 2, 5]);
  });

  it('stops a huge loop at liquidjs’s memory limit, and serves the next job', async () => {
    const error = await failure(pool.render(sms('{% for i in (1..100000000) %}x{% endfor %}')));
    expect(error.message).toMatch(/^sms text: memory alloc limit exceeded/);
    expect((await pool.render(sms('next'))).message.text).toBe('next');
  });

  it('terminates a thread whose job runs past the timeout, and serves the next job', async () => {
    // Nine million empty iterations stay within the memory limit and take seconds.
    const slow = sms('{% for a in (1..3000) %}{% for b in (1..3000) %}{% endfor %}{% endfor %}');
    const started = Date.now();
    const error = await failure(pool.render(slow));
    expect(error.message).toBe('rendering took longer than 300 ms');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await pool.render(sms('still here {{ n }}', { n: 1 }))).message.text).toBe('still here 1');
  });

  it('refuses huge output, built by filters or by a loop over data', async () => {
    const doubling =
      '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}';
    expect((await failure(pool.render(sms(doubling)))).message).toMatch(/memory alloc limit exceeded/);
    const repeated = sms('{% for i in (1..50) %}{{ chunk }}{% endfor %}', { chunk: 'y'.repeat(100_000) });
    expect((await failure(pool.render(repeated))).message).toBe('sms text: renders longer than 1000000 characters');
    expect((await pool.render(sms('fine'))).message.text).toBe('fine');
  });

  it('gives a job its whole timeout from when a thread takes it, not from when it was queued', async () => {
    const single = createRenderPool({ threads: 1, timeoutMs: 300 });
    try {
      const slow = single.render(sms('{% for a in (1..3000) %}{% for b in (1..3000) %}{% endfor %}{% endfor %}'));
      const queued = single.render(sms('queued {{ n }}', { n: 2 }));
      await failure(slow);
      // It waited for the slow job's timeout and a new thread, far longer than 300 ms, and still renders.
      expect((await queued).message.text).toBe('queued 2');
    } finally {
      await single.close();
    }
  });

  it('fails a job whose thread runs out of heap, and serves the next job', async () => {
    // A timeout long enough for the heap to run out first.
    const small = createRenderPool({ threads: 1, maxHeapMb: 96, timeoutMs: 60_000 });
    try {
      // Data alone larger than the thread's heap: copying it into the thread exhausts it.
      const rows = Array.from({ length: 2_000_000 }, (_, i) => ({ id: i, name: `row ${i}` }));
      const error = await failure(small.render(sms('{{ rows.size }}', { rows })));
      expect(error.message).toMatch(/more than the 96 MB/);
      expect((await small.render(sms('after'))).message.text).toBe('after');
    } finally {
      await small.close();
    }
  });

  it('fails jobs still waiting when it is closed, and refuses new ones', async () => {
    const closing = createRenderPool({ threads: 1 });
    const waiting = closing.render(sms('x')).then(
      () => undefined,
      (e: unknown) => e,
    );
    await closing.close();
    expect(await waiting).toEqual(new Error('the render pool is closed'));
    await expect(closing.render(sms('y'))).rejects.toThrow('the render pool is closed');
  });
});
