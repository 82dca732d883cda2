#!/usr/bin/env bash
# The one-command demo. Until the CLI (ocicnictl) lands, it installs what is
# missing and builds every target of the project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bazel build //...
echo "demo: everything built. The pod-networking demo arrives with ocicnictl."
