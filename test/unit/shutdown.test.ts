import { execFile } from 'node:child_process';
import path from 'node:path';
import { Shutdown } from '../../runtime/shutdown';

describe('Shutdown', () => {
  it('runs steps last-registered first, once, and names the step under way', async () => {
    const shutdown = new Shutdown();
    const ran: string[] = [];
    let release!: () => void;
    shutdown.add('database', () => ran.push('database'));
    shutdown.add('worker', () => new Promise<void>((resolve) => (release = resolve)).then(() => ran.push('worker')));
    const first = shutdown.run();
    const second = shutdown.run();
    expect(shutdown.pending).toBe('worker');
    release();
    await Promise.all([first, second]);
    expect(ran).toEqual(['worker', 'database']);
    expect(shutdown.pending).toBeUndefined();
  });

  // A process whose only step never ends, stopped with SIGTERM: it must still exit, saying why.
  const script = `
    const { Shutdown, stopOnSignals } = require('./runtime/shutdown');
    const shutdown = new Shutdown();
    shutdown.add('a step that ' + process.env.STEP, () => process.env.STEP === 'hangs' ? new Promise(() => {}) : undefined);
    stopOnSignals('demo', shutdown, 1000);
    setInterval(() => {}, 1000);
    console.log('ready');
  `;
  const stopWithSigterm = (step: 'hangs' | 'ends') =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '-e', script],
        { cwd: path.resolve(__dirname, '../..'), env: { ...process.env, STEP: step } },
        (error, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr }),
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) child.kill('SIGTERM');
      });
    });

  it('exits 0 once every step has run', async () => {
    const { code, output } = await stopWithSigterm('ends');
    expect(output).toContain('[demo] SIGTERM: stopping ...');
    expect(code).toBe(0);
  });
  it('exits 1 at the deadline, naming the step it waits for', async () => {
    const { code, output } = await stopWithSigterm('hangs');
    expect(output).toContain('[demo] SIGTERM: still waiting for a step that hangs after 1 s; exiting');
    expect(code).toBe(1);
  });
});
