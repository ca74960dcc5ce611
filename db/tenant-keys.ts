import { sql, type AnyColumn, type SQL } from 'drizzle-orm';

/**
 * `(tenant, id) in ((t1, a), (t2, b), …)`: rows of several tenants in one query, each id matched only
 * within its own tenant. Callers skip the query when there are no keys.
 */
export function inTenantKeys(
  tenantColumn: AnyColumn,
  idColumn: AnyColumn,
  keys: readonly (readonly [tenantId: string, id: string])[],
): SQL {
  const rows = sql.join(
    keys.map(([tenantId, id]) => sql`(${tenantId}, ${id})`),
    sql`, `,
  );
  return sql`(${tenantColumn}, ${idColumn}) in (${rows})`;
}
