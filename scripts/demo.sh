#!/bin/bash
# Runs the main job with the given tapir binary in a scratch directory.
set -euo pipefail
TAPIR=${1:-build/tapir}
"$TAPIR" version
