#!/usr/bin/env bash
# Developer checks: JIT options stay in textmine/_numba.py, then the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -rnE "numba\.njit\(|fastmath=" textmine --include=*.py | grep -v "^textmine/_numba.py"; then
    echo "numba.njit( / fastmath= outside textmine/_numba.py" >&2
    exit 1
fi
python3 -m pytest -q "$@"
