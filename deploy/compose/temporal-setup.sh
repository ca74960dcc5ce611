#!/bin/sh
# Run once by docker-compose.yml's temporal-setup job (in temporalio/admin-tools): creates Temporal's two
# databases or upgrades their schemas to the server's version, as scripts/temporal-cluster.sh does here.
set -eu
schema=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  kind=temporal
  [ "$db" = temporal_visibility ] && kind=visibility
  sql="temporal-sql-tool --plugin postgres12 --ep $POSTGRES_SEEDS -p 5432 -u $POSTGRES_USER --pw $POSTGRES_PWD --db $db"
  $sql create-database 2>/dev/null || echo "database $db exists"
  $sql setup-schema -v 0.0 2>/dev/null || echo "schema of $db exists"
  $sql update-schema -d "$schema/$kind/versioned"
done
echo "Temporal's schemas are up to date"
