#!/usr/bin/env bash
# The storefront benchmark: (re)creates the `bench` database on 127.0.0.1:5432,
# seeds 10,000 products, serves with one production worker on 127.0.0.1:8765 and
# the floor (bench/floor.py) on 8766, runs each scenario against both at
# concurrency 8 and 32 (3 s warm-up + 15 s, median of 3) and rewrites
# bench/RESULTS.md. Takes about 12 minutes. Options: --help.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
exec timeout 1800 "$python" -m bench.run "$@"
