import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface NodeProcessOptions {
  env: NodeJS.ProcessEnv;
  /** A process group of its own, so `stop` reaches the whole tree as a terminal's Ctrl-C would. */
  detached?: boolean;
  /** Run the entry under tsx directly instead of through `scripts/start.mjs`: the pid is the entry's own. */
  direct?: boolean;
  /** Node's own flags for the entry (with `direct`), such as `--cpu-prof`, which NODE_OPTIONS may not carry. */
  nodeArgs?: string[];
  /** Run the entry's compiled JavaScript in `dist/` (`npm run build`) with plain node, as the image does. */
  compiled?: boolean;
}

/** One of Herald's entry points in a child process, as `npm start`, `npm run api` or `npm run worker` run it. */
export class NodeProcess {
  readonly child: ChildProcess;
  private text = '';
  private readonly detached: boolean;

  constructor(entry: string | undefined, options: NodeProcessOptions) {
    this.detached = options.detached ?? false;
    const args = options.compiled
      ? [path.join(root, 'dist', entry!.replace(/\.ts$/, '.js'))]
      : options.direct
        ? [...(options.nodeArgs ?? []), '--import', 'tsx', path.join(root, entry!)]
        : [path.join(root, 'scripts/start.mjs'), ...(entry ? [entry] : [])];
    this.child = spawn(process.execPath, args, {
      cwd: root,
      env: options.env,
      detached: options.detached,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => (this.text += chunk.toString());
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
  }

  output(): string {
    return this.text;
  }

  /** Resolves once the output contains `text`; rejects if the process exits first. */
  async waitFor(text: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.text.includes(text)) {
      if (this.child.exitCode !== null)
        throw new Error(`exited (${this.child.exitCode}) before "${text}":\n${this.text}`);
      if (Date.now() > deadline) throw new Error(`no "${text}" in time:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async exit(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const [code] = (await once(this.child, 'exit')) as [number | null];
    return code;
  }

  /** Sends `signal` (to the whole group when detached) and returns the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = this.exit();
    if (this.detached) process.kill(-this.child.pid!, signal);
    else this.child.kill(signal);
    return exited;
  }
}

/** The pid of the local process listening on `host:port`'s port, when it is on this machine and visible. */
export function listeningPid(address: string): number | undefined {
  const port = address.slice(address.lastIndexOf(':') + 1);
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`]).toString();
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}
