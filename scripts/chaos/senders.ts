/**
 * Which Herald process opened a connection to a provider: the fakes ask when one opens, so each
 * message they take names the process that sent it, and a duplicate names the crash that cut the first
 * send. Read from Linux's /proc: the client end's socket inode by its port, then the process group
 * holding a descriptor for it.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The process group, of `groups`, whose process holds the client end of the loopback connection
 * from `clientPort` to `serverPort`; undefined when none does (or /proc cannot tell).
 */
export function connectionOwner(clientPort: number, serverPort: number, groups: readonly number[]): number | undefined {
  const inode = socketInode(clientPort, serverPort);
  if (inode === undefined) return undefined;
  const link = `socket:[${inode}]`;
  for (const { pid, group } of processesIn(groups)) {
    for (const fd of entries(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return group;
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return undefined;
}

/** The inode of the TCP socket whose local port is `clientPort` and remote port `serverPort`. */
function socketInode(clientPort: number, serverPort: number): string | undefined {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      // An open connection (state 01); a closed one lingering in TIME_WAIT has no owner (inode 0).
      if (fields[3] !== '01' || fields[9] === '0') continue;
      if (portOf(fields[1]!) === clientPort && portOf(fields[2]!) === serverPort) return fields[9];
    }
  }
  return undefined;
}

const portOf = (address: string) => parseInt(address.slice(address.lastIndexOf(':') + 1), 16);

/** Every process in these process groups, with its group. */
function processesIn(groups: readonly number[]): { pid: string; group: number }[] {
  const wanted = new Set(groups);
  const found: { pid: string; group: number }[] = [];
  for (const pid of entries('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      // pid (comm) state ppid pgrp …; the command name may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (wanted.has(group)) found.push({ pid, group });
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
