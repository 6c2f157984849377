#!/bin/sh
# Runs Criterion test binaries; appends "<suite> <passed> <failed>" to
# build/results and fails if any test failed or crashed.
#   tests/run-unit.sh SUITE BIN...
set -u
suite=$1; shift
results=${RESULTS:-build/results}
pass=0; fail=0; status=0
for bin in "$@"; do
	out=$("$bin" --jobs 2 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	t=$(printf '%s' "$line" | sed -n 's/.*Tested: *\([0-9]*\).*/\1/p')
	p=$(printf '%s' "$line" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
	if [ -z "$t" ] || [ $rc -ne 0 ]; then
		printf '%s\n' "$out"
		echo "$suite: $(basename "$bin"): FAILED (exit $rc)"
		status=1
		f=$(( ${t:-1} - ${p:-0} )); [ $f -gt 0 ] || f=1
	else
		echo "$suite: $(basename "$bin"): $p/$t passed"
		f=0
	fi
	pass=$((pass + ${p:-0})); fail=$((fail + f))
done
mkdir -p "$(dirname "$results")"
echo "$suite $pass $fail" >> "$results"
echo "$suite: $pass passed, $fail failed"
exit $status
