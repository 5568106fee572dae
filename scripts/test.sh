#!/usr/bin/env bash
# The whole test suite: set up .venv, then run pytest (real Chroma, SQLite, PostgreSQL when reachable,
# the real app). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
