#!/usr/bin/env bash
# make bench: speed and memory figures (never part of make test).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/slogate}
GOBIN_DIR=${GOBIN_DIR:-$PWD/bin/tools}
mkdir -p "$GOBIN_DIR"
if [ ! -x "$GOBIN_DIR/vegeta" ]; then
	echo "installing the vegeta CLI v12.13.0 into $GOBIN_DIR"
	GOBIN="$GOBIN_DIR" go install github.com/tsenart/vegeta/v12@v12.13.0
fi
echo "== Go benchmarks"
go test -run '^$' -bench . -benchtime 1s ./guardstub/guard/ 2>/dev/null | grep -E '^Benchmark' || true
go test -run '^$' -bench 'BenchmarkAnalyze' -benchtime 1s ./guardstub/ioc/ 2>/dev/null | grep -E '^Benchmark' || true
# The IOC latency model on a 100x clock: IOCs per minute per batch size.
go test -run '^$' -bench 'BenchmarkBatchModel' -benchtime 1x ./guardstub/ioc/ 2>/dev/null | grep -E '^Benchmark' || true
# Fortio v1.68.2 (newer releases need a newer Go toolchain); without it the
# comparison runs without Fortio and says why.
FORTIO=-
if [ -x "$GOBIN_DIR/fortio" ]; then
	FORTIO="$GOBIN_DIR/fortio"
else
	echo "installing Fortio v1.68.2 into $GOBIN_DIR"
	if GOBIN="$GOBIN_DIR" go install fortio.org/fortio@v1.68.2 >/dev/null 2>&1; then
		FORTIO="$GOBIN_DIR/fortio"
	else
		echo "Fortio v1.68.2 did not install (go install fortio.org/fortio@v1.68.2 failed): the comparison runs without Fortio"
	fi
fi
echo "== generator: slogate (vegeta and fast engines) vs vegeta CLI and Fortio"
python3 scripts/bench_generator.py "$BIN" "$GOBIN_DIR/vegeta" "$FORTIO" "$@"
for extra in scripts/bench_*.sh; do
	[ -x "$extra" ] && [ "$extra" != "scripts/bench.sh" ] && "$extra"
done
exit 0
