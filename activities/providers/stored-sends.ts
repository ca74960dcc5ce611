import { GroupCommit } from '../../domain/group-commit';

/**
 * Sends that are rows in Herald's own database (the dev outbox, the in-app inbox), written many sends to an
 * insert: one statement per message cost the drain a commit each. `insert` returns the rows' ids by delivery
 * key, a retried send's row included; a group that fails is written again one row at a time.
 */
export function storedSends<Row extends { deliveryKey: string }>(
  insert: (rows: Row[]) => Promise<{ id: number; deliveryKey: string }[]>,
): (row: Row) => Promise<number> {
  const writes = new GroupCommit<Row, number>(async (rows) => {
    const ids = new Map((await insert(rows)).map((r) => [r.deliveryKey, r.id]));
    return rows.map((row) => ids.get(row.deliveryKey)!);
  });
  return (row) => writes.add(row);
}
