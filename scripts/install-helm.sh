#!/usr/bin/env bash
# Prints the path of a helm executable, building Helm from source with Go when there is none.
set -euo pipefail
version=v4.3.2
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$repo/.tools/helm/bin
found=${HERALD_HELM:-$(command -v helm || true)}
if [ -z "$found" ] && [ -x "$bin/helm" ]; then found=$bin/helm; fi
if [ -z "$found" ]; then
  if ! command -v go >/dev/null; then
    echo "helm is not installed; install helm (https://helm.sh/docs/intro/install/) or Go 1.26+ to build helm $version, or set HERALD_HELM" >&2
    exit 1
  fi
  echo "Building helm $version with Go into .tools/helm/bin (a few minutes, once) ..." >&2
  GOBIN=$bin go install "helm.sh/helm/v4/cmd/helm@$version" >&2
  found=$bin/helm
fi
if ! command -v "$found" >/dev/null; then echo "$found is not an executable helm" >&2; exit 1; fi
echo "$found"
