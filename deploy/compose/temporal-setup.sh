#!/bin/sh
# Run once by docker-compose.yml's temporal-setup job (in temporalio/admin-tools): creates Temporal's two
# databases or upgrades their schemas to the server's version, as scripts/temporal-cluster.sh does here.
set -eu
schema=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  kind=temporal
  [ "$db" = temporal_visibility ] && kind=visibility
  sql="temporal-sql-tool --plugin postgres12 --ep $POSTGRES_SEEDS -p $DB_PORT -u $POSTGRES_USER --pw $POSTGRES_PWD --db $db"
  # Both fail once done; a real failure (a wrong password) stops at update-schema below.
  $sql create-database >/dev/null 2>&1 || echo "database $db exists"
  $sql setup-schema -v 0.0 >/dev/null 2>&1 || echo "schema of $db exists"
  $sql update-schema -d "$schema/$kind/versioned"
done
echo "Temporal's schemas are up to date"
