#!/bin/sh
# Run by docker-compose.yml's temporal-namespace job once the server answers: the namespace Herald uses.
set -eu
temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention 72h
echo "namespace $TEMPORAL_NAMESPACE is ready"
