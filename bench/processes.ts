import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

export interface Child {
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Spawns a TypeScript entry point with tsx and waits until its output contains `ready`. */
export async function spawnTs(
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: string,
  timeoutMs = 120_000,
): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + timeoutMs;
  while (!output.includes(ready)) {
    if (child.exitCode !== null) throw new Error(`${entry} exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`${entry} did not start in time:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The pid of the Temporal dev server listening on `port`. */
export function devServerPid(port: number): number | undefined {
  try {
    const out = execFileSync('pgrep', ['-f', `start-dev.*--port ${port}`])
      .toString()
      .trim();
    return Number(out.split('\n')[0]);
  } catch {
    return undefined;
  }
}
