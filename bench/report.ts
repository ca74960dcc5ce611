/** One figure of the benchmark's table, with its ratio to a baseline measured in the same run. */
export interface Row {
  stage: string;
  figure: string;
  value: number;
  unit: string;
  baseline?: string;
  ratio?: number;
}

/** What a section of the benchmark reports to: its figures, and the counts that did not add up. */
export interface Report {
  record(row: Row): void;
  check(ok: boolean, what: string): void;
}

/** A figure as the table prints it: three significant digits or so, whole numbers from 100. */
export const fmt = (n: number) =>
  !Number.isFinite(n)
    ? String(n)
    : Math.abs(n) >= 100
      ? n.toFixed(0)
      : Math.abs(n) >= 1
        ? n.toFixed(2)
        : n.toPrecision(2);
