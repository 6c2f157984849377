#!/bin/sh
# tests/fuzz/run.sh replay NAME...          replay each seed corpus (ASan build)
# tests/fuzz/run.sh fuzz SECONDS NAME...    run each libFuzzer target
# Seeds live in tests/fuzz/corpus/NAME/ (version controlled); what a fuzz run
# finds goes to build/fuzz/corpus/NAME/, crashes to build/fuzz/crashes/.
set -u
build=${BUILD:-build}
results=${RESULTS:-$build/results}
mode=$1; shift
pass=0; fail=0
if [ "$mode" = fuzz ]; then secs=$1; shift; fi
for name in "$@"; do
	seeds=tests/fuzz/corpus/$name
	if [ "$mode" = replay ]; then
		if ASAN_OPTIONS=abort_on_error=1 "$build/replay/${name}_fuzz" "$seeds"; then
			echo "replay: $name: ok"; pass=$((pass + 1))
		else
			echo "replay: $name: FAILED"; fail=$((fail + 1))
		fi
	else
		work=$build/fuzz/corpus/$name
		crashes=$build/fuzz/crashes/$name
		mkdir -p "$work" "$crashes"
		log=$build/fuzz/$name.log
		if "$build/fuzz/${name}_fuzz" -max_total_time="$secs" -timeout=10 \
			-rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 \
			"$work" "$seeds" > "$log" 2>&1; then
			runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
			echo "fuzz: $name: ${runs:-?} runs in ${secs}s, no crash"; pass=$((pass + 1))
		else
			tail -n 40 "$log"
			echo "fuzz: $name: FAILED (crash input in $crashes)"; fail=$((fail + 1))
		fi
	fi
done
mkdir -p "$(dirname "$results")"
echo "$mode $pass $fail" >> "$results"
[ $fail -eq 0 ]
