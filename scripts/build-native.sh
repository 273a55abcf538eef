#!/usr/bin/env bash
# Builds cairn's N-API addon (native/) with the node-gyp npm bundles. Uses Node's installed headers
# when npm has no nodedir configured, so no header download is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(rebuild --directory native)
if [ -z "${npm_config_nodedir:-}" ]; then
  for d in "$(dirname "$(dirname "$(command -v node)")")" /usr /usr/local; do
    if [ -f "$d/include/node/node_api.h" ]; then args+=(--nodedir="$d"); break; fi
  done
fi
exec node-gyp "${args[@]}"
