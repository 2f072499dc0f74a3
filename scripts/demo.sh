#!/usr/bin/env bash
# make demo: the bundled DDoS guard under load, an SLO verdict, and a
# before/after comparison of one tuning knob (the guard's model cache).
# Everything runs in-process on 127.0.0.1; about a minute and a half.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/slogate}
OUT=${OUT:-out/demo}
mkdir -p "$OUT"
SCENARIO=${SCENARIO:-guard-baseline}

banner() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

banner "1/4  $SCENARIO with the guard's model cache OFF (untuned: every request is scored)"
"$BIN" run "$SCENARIO" --env ENABLE_MODEL_CACHE=false --out "$OUT/before.json" --quiet
before=$?

banner "2/4  the same scenario with the model cache ON (tuned)"
"$BIN" run "$SCENARIO" --env ENABLE_MODEL_CACHE=true --out "$OUT/after.json" --quiet
after=$?

banner "3/4  before → after: improvement and whether it is significant"
"$BIN" compare "$OUT/before.json" "$OUT/after.json" --scope run

banner "4/4  reports"
"$BIN" compare "$OUT/before.json" "$OUT/after.json" --format html -o "$OUT/compare.html" \
	|| "$BIN" report "$OUT/after.json" --format html -o "$OUT/compare.html"
"$BIN" report "$OUT/after.json" --format html -o "$OUT/report.html"
echo "HTML report:     $OUT/report.html"
echo "HTML comparison: $OUT/compare.html"
echo "exit codes: untuned run $before, tuned run $after (0 pass, 1 fail, 3 inconclusive)"
exit 0
