import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  TemplateRenderError,
  type RenderJob,
  type RenderOutcome,
  type TemplateCheck,
  type TemplateContent,
  type TemplatePreview,
} from '../domain/templates/render';
import type { RenderReply, RenderRequest } from './render-thread';

export interface RenderPoolOptions {
  /** Render threads; by default one per core but one, from one to four. */
  threads?: number;
  /** How long one job may run in a thread before the thread is terminated and the job fails. */
  timeoutMs?: number;
  /** Each thread's V8 old-generation heap: a thread past it is stopped and its job fails. */
  maxHeapMb?: number;
}

/** Tenant templates rendered off the main thread, each job under a timeout a thread cannot ignore. */
export interface RenderPool {
  /** Fails with a `TemplateRenderError` for the template's faults, a timeout or a thread out of memory. */
  render(job: RenderJob): Promise<RenderOutcome>;
  check(content: TemplateContent, sources: Record<string, string>): Promise<TemplateCheck>;
  /** Never fails for the template's own faults: they come back as warnings and problems. */
  preview(job: RenderJob): Promise<TemplatePreview>;
  /** Terminates the threads; jobs not finished fail. */
  close(): Promise<void>;
}

const THREAD_ENTRY = path.join(__dirname, 'render-thread.mjs');

interface Job {
  id: number;
  request: RenderRequest;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  /** Terminated, exited or failed: replaced, never given work again. */
  gone: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

/**
 * liquidjs's limits are checked between steps, so only a thread that can be terminated bounds a
 * hostile template. A job's clock starts when a thread takes it, never while it waits behind other
 * jobs, so a slow neighbour cannot fail an honest template (which is never retried).
 */
export function createRenderPool(options: RenderPoolOptions = {}): RenderPool {
  const size = Math.max(1, options.threads ?? Math.min(4, Math.max(1, availableParallelism() - 1)));
  const timeoutMs = options.timeoutMs ?? 2_000;
  // A thread with MJML loaded uses about 50 MB; a compiled email version in its cache about 65 KB.
  const maxHeapMb = options.maxHeapMb ?? 256;
  const queue: Job[] = [];
  let threads: Thread[] = [];
  let nextId = 1;
  let closed = false;
  /** Threads that failed to start are not started again until the next job comes: no restart loop. */
  let startFailed = false;

  const start = (): Thread => {
    const worker = new Worker(THREAD_ENTRY, { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    const thread: Thread = { worker, ready: false, gone: false };
    worker.on('message', (reply: RenderReply) => {
      if ('ready' in reply) {
        thread.ready = true;
        startFailed = false;
      } else if (thread.job?.id === reply.id) {
        const job = release(thread)!;
        if (reply.ok) job.resolve(reply.value);
        else job.reject(new TemplateRenderError(reply.error.reason, reply.error));
      }
      dispatch();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const reason =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `rendering needed more than the ${maxHeapMb} MB a render thread may use`
          : `the render thread failed: ${error.message}`;
      lost(thread, reason);
    });
    worker.on('exit', (code) => lost(thread, `the render thread stopped (exit code ${code})`));
    return thread;
  };

  const release = (thread: Thread): Job | undefined => {
    const job = thread.job;
    clearTimeout(thread.timer);
    thread.job = undefined;
    thread.timer = undefined;
    return job;
  };

  const replace = (thread: Thread) => {
    thread.gone = true;
    threads = threads.filter((t) => t !== thread);
    if (!closed && !startFailed) threads.push(start());
  };

  const lost = (thread: Thread, reason: string) => {
    if (thread.gone) return;
    const job = release(thread);
    if (!thread.ready) {
      // It never started (a missing dependency, a syntax error): no new thread would either.
      startFailed = true;
      replace(thread);
      if (threads.length === 0) {
        for (const waiting of queue.splice(0)) waiting.reject(new Error(`render threads cannot start: ${reason}`));
      }
    } else {
      replace(thread);
      job?.reject(new TemplateRenderError(reason));
    }
    dispatch();
  };

  const dispatch = () => {
    for (const thread of threads) {
      if (!thread.ready || thread.gone || thread.job || queue.length === 0) continue;
      const job = queue.shift()!;
      thread.job = job;
      thread.timer = setTimeout(() => {
        if (thread.job !== job) return;
        release(thread);
        replace(thread);
        void thread.worker.terminate();
        job.reject(new TemplateRenderError(`rendering took longer than ${timeoutMs} ms`));
        dispatch();
      }, timeoutMs);
      try {
        thread.worker.postMessage({ id: job.id, request: job.request });
      } catch (error) {
        // Data that cannot be copied (a function, a symbol) never reached the thread, which stays free.
        release(thread);
        job.reject(new TemplateRenderError(`the job cannot be sent to a render thread: ${(error as Error).message}`));
      }
    }
    // Idle threads must not keep the process alive; threads with work (or work waiting) must.
    const busy = queue.length > 0;
    for (const thread of threads) {
      if (busy || thread.job) thread.worker.ref();
      else thread.worker.unref();
    }
  };

  const submit = <T>(request: RenderRequest): Promise<T> => {
    if (closed) return Promise.reject(new Error('the render pool is closed'));
    if (threads.length < size) {
      // Threads that could not start are tried again when work comes, not in a loop.
      startFailed = false;
      while (threads.length < size) threads.push(start());
    }
    return new Promise<T>((resolve, reject) => {
      queue.push({ id: nextId++, request, resolve: resolve as (value: unknown) => void, reject });
      dispatch();
    });
  };

  // Threads start with the first job: a Herald that sends no templates never loads MJML.
  return {
    render: (job) => submit({ kind: 'render', job }),
    check: (content, sources) => submit({ kind: 'check', content, sources }),
    preview: (job) => submit({ kind: 'preview', job }),
    async close() {
      if (closed) return;
      closed = true;
      const stopping = threads;
      threads = [];
      const failure = new Error('the render pool is closed');
      for (const job of queue.splice(0)) job.reject(failure);
      for (const thread of stopping) {
        thread.gone = true;
        release(thread)?.reject(failure);
      }
      await Promise.all(stopping.map((thread) => thread.worker.terminate()));
    },
  };
}
