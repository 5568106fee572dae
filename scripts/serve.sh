#!/usr/bin/env bash
# The main job: set up .venv, ingest sop/, load (or train) the triage model, serve the API on
# http://127.0.0.1:8000 (docs at /docs). Settings: COPILOT_* environment variables or .env.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
exec .venv/bin/copilot serve "$@"
