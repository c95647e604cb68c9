#!/bin/bash
# The main job on tapir's embedded default: a datastore and a virtual tape
# library in a scratch directory, backups, and byte-for-byte checked restores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
exec bash scripts/demo.sh "$PWD/build/tapir"
