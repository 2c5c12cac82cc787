#!/usr/bin/env bash
# Regenerate data/sample/: two short simulated scenes with the faults of scripts/sample_faults.json.
# The simulator is deterministic: the same seed and fault spec give the same files.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf data/sample
.venv/bin/fusioncheck simulate data/sample --small --scenes 2 --seed 2026 --faults scripts/sample_faults.json
