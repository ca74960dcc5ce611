import { readFileSync } from 'node:fs';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function latencySummary(values: number[]) {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
  };
}

/** Peak and current resident memory of a process, from /proc (Linux). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU time (user + system) each process has used so far, in seconds, from /proc (Linux; 100 ticks/s). */
export function cpuTimes(pids: readonly number[]): Map<number, number> {
  const times = new Map<number, number>();
  for (const pid of pids) {
    try {
      // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      times.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The process has exited since it was listed.
    }
  }
  return times;
}

/** CPU seconds the processes used since `before` was taken; processes started since count whole. */
export function cpuSecondsSince(before: Map<number, number>, pids: readonly number[]): number {
  let seconds = 0;
  for (const [pid, now] of cpuTimes(pids)) seconds += now - (before.get(pid) ?? 0);
  return seconds;
}

/**
 * Resident memory once it holds steady: within 2 % over 10 s (a sample every 2 s), 60 s at most. V8
 * and malloc return freed memory on their own schedule, so one reading right after load counts garbage.
 */
export async function steadyRssMb(pid: number): Promise<number> {
  const samples: number[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    samples.push(memoryOf(pid).rssMb);
    const recent = samples.slice(-6);
    const steady = recent.length === 6 && Math.max(...recent) <= Math.min(...recent) * 1.02;
    if (steady || Date.now() > deadline) return samples[samples.length - 1]!;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
