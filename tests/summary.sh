#!/bin/sh
# Adds up build/results ("<suite> <passed> <failed>" lines) and prints the
# suite's closing line. Fails if anything failed.
set -u
f=${1:-build/results}
[ -s "$f" ] || { echo "summary: no results in $f"; exit 1; }
cat "$f" | while read -r s p n; do echo "  $s: $p passed, $n failed"; done
awk '{p+=$2; n+=$3} END {printf "%d passed, %d failed\n", p, n; exit (n > 0 || p == 0)}' "$f"
