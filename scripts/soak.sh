#!/usr/bin/env bash
# make soak: a bounded soak of the bundled services, guard -> IOC, at a steady
# rate, checking that neither process grows while the load is flat.
#
# Starts `slogate serve ioc` and `slogate serve guard` (UPSTREAM_URL = that IOC
# service) on 127.0.0.1, drives POST /analyze bodies from the IOC corpus
# through the guard with `slogate run` at SOAK_RATE req/s for SOAK_DURATION,
# after SOAK_WARMUP seconds at that rate (not judged: caches fill, connection
# pools open), and samples both processes every SOAK_INTERVAL: resident memory
# (VmRSS in /proc/PID/status), open file descriptors (/proc/PID/fd) and
# goroutines (go_goroutines on each service's /metrics). At the end it prints, per
# process, the first, middle and last sample and the means of the first and
# last third of the load, and fails (exit 1) if from the first to the last
# third
#   RSS grows by more than SOAK_RSS_PCT % (30) and more than SOAK_RSS_MB MB (20),
#   open fds grow by more than SOAK_FD_GROWTH (20), or
#   goroutines grow by more than SOAK_GOROUTINE_GROWTH (50);
# exit 3 (inconclusive) instead when the load run itself was inconclusive (the
# machine could not hold the rate, so requests in flight, and with them
# goroutines and fds, grew with latency). A sample SOAK_SETTLE s after the load
# shows what is left once requests in flight drained.
# Exit 2 if the services do not start or the load run rejects its input.
#
#   SOAK_DURATION=60s make soak
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/slogate}
SOAK_DURATION=${SOAK_DURATION:-3m}
SOAK_RATE=${SOAK_RATE:-300}
SOAK_INTERVAL=${SOAK_INTERVAL:-3}
SOAK_SETTLE=${SOAK_SETTLE:-5}
# Seconds at the same rate before the measured run: caches fill and
# connection pools open to the load's concurrency.
SOAK_WARMUP=${SOAK_WARMUP:-20}
SOAK_CLIENTS=${SOAK_CLIENTS:-600}
SOAK_RSS_PCT=${SOAK_RSS_PCT:-30}
SOAK_RSS_MB=${SOAK_RSS_MB:-20}
SOAK_FD_GROWTH=${SOAK_FD_GROWTH:-20}
SOAK_GOROUTINE_GROWTH=${SOAK_GOROUTINE_GROWTH:-50}
# Simulated provider latency: 1/100 of the seed's 2-5 s per cold IOC.
SOAK_IOC_LATENCY_SCALE=${SOAK_IOC_LATENCY_SCALE:-0.01}

if [[ ! -x $BIN ]]; then
	echo "soak: $BIN not found; run make build first" >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/slogate-soak.XXXXXX")
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_listen LOG PATTERN: the address a service logs once it listens
# (the services bind port 0; the kernel picks a free port).
wait_listen() {
	local log=$1 pattern=$2 addr
	for _ in $(seq 100); do
		addr=$(grep -oE "$pattern" "$log" | head -1 | grep -oE '127\.0\.0\.1:[0-9]+')
		if [[ -n $addr ]]; then
			echo "$addr"
			return 0
		fi
		sleep 0.1
	done
	echo "soak: no listening address in $log after 10 s:" >&2
	cat "$log" >&2
	return 1
}

PROVIDER_LATENCY_SCALE=$SOAK_IOC_LATENCY_SCALE RATE_LIMIT_SCALE=0 \
	"$BIN" serve ioc --addr 127.0.0.1:0 2>"$work/ioc.log" &
ioc_pid=$!
pids+=("$ioc_pid")
ioc_addr=$(wait_listen "$work/ioc.log" 'addr=127\.0\.0\.1:[0-9]+') || exit 2

UPSTREAM_URL="http://$ioc_addr" TRUSTED_PROXIES=127.0.0.1/32 LOG_LEVEL=warn \
	"$BIN" serve guard --addr 127.0.0.1:0 2>"$work/guard.log" &
guard_pid=$!
pids+=("$guard_pid")
guard_addr=$(wait_listen "$work/guard.log" 'listening on http://127\.0\.0\.1:[0-9]+') || exit 2
echo "soak: IOC service pid $ioc_pid at $ioc_addr, guard pid $guard_pid at $guard_addr -> IOC"

cat >"$work/soak.yaml" <<YAML
name: soak-guard-ioc
description: steady POST /analyze (1-5 IOCs from the corpus) through the guard to the IOC service
target: {url: "http://$guard_addr", timeout: 10s}
clients: {count: $SOAK_CLIENTS, header: X-Forwarded-For}
requests:
  - {name: analyze, method: POST, path: /analyze, headers: {Content-Type: application/json}, generate: {corpus: ioc, min: 1, max: 5}}
outcomes: {success: ["200-399"], blocked: [429, 403]}
phases:
  - {name: warmup, kind: constant, rate: $SOAK_RATE, duration: ${SOAK_WARMUP}s, warmup: true}
  - {name: steady, kind: constant, rate: $SOAK_RATE, duration: $SOAK_DURATION}
slo:
  - {metric: error_rate, threshold: "< 1%"}
YAML

# sample NAME PID URL: one line "seconds name rss_kb fds goroutines".
sample() {
	local name=$1 pid=$2 url=$3 rss fds gor
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	gor=$(curl -s --max-time 2 "$url/metrics" | awk '/^go_goroutines / {print $2}')
	echo "$SECONDS $name ${rss:-NA} $fds ${gor:-NA}"
}
sampler() {
	while :; do
		sample ioc "$ioc_pid" "http://$ioc_addr"
		sample guard "$guard_pid" "http://$guard_addr"
		sleep "$SOAK_INTERVAL"
	done
}

echo "soak: $SOAK_RATE req/s through the guard, ${SOAK_WARMUP}s warm-up then $SOAK_DURATION measured; sampling every ${SOAK_INTERVAL}s"
SECONDS=0
sampler >"$work/samples" &
pids+=("$!")
"$BIN" run "$work/soak.yaml" --quiet --no-history --out "$work/result.json"
run_status=$?
kill "${pids[-1]}" 2>/dev/null
wait "${pids[-1]}" 2>/dev/null
# Once the load has stopped and requests in flight drained, what is left.
sleep "$SOAK_SETTLE"
{
	sample ioc "$ioc_pid" "http://$ioc_addr"
	sample guard "$guard_pid" "http://$guard_addr"
} | sed 's/^/settled /' >>"$work/samples"
if ((run_status == 2)); then
	echo "soak: the load run rejected its input (exit 2)" >&2
	exit 2
fi
if [[ -s $work/result.json ]]; then
	jq -r '"soak: load: \(.summary.requests) requests, \(.summary.throughput_rps * 10 | round / 10) req/s answered, success \(.summary.success_rate * 1000 | round / 10) %, blocked \(.summary.block_rate * 1000 | round / 10) %, errors \(.summary.error_rate * 1000 | round / 10) %, p99 \(.summary.latency_ms.p99) ms (run exit \($status))"' \
		--argjson status "$run_status" "$work/result.json"
fi

# The verdict: thirds of the samples taken during the load, per process.
awk -v rss_pct="$SOAK_RSS_PCT" -v rss_mb="$SOAK_RSS_MB" -v fd_max="$SOAK_FD_GROWTH" -v gor_max="$SOAK_GOROUTINE_GROWTH" '
	$1 == "settled" { srss[$3] = $4; sfds[$3] = $5; sgor[$3] = $6; next }
	$1 < warmup { next }
	$3 != "NA" && $5 != "NA" { n[$2]++; i = n[$2]; rss[$2, i] = $3; fds[$2, i] = $4; gor[$2, i] = $5; t[$2, i] = $1 }
	function mean(a, p, lo, hi,   s, k) { s = 0; for (k = lo; k <= hi; k++) s += a[p, k]; return s / (hi - lo + 1) }
	END {
		fail = 0
		printf "\n%-6s %-10s %8s %8s %8s %10s %10s %8s %8s\n", "proc", "metric", "start", "middle", "end", "first 1/3", "last 1/3", "growth", "settled"
		for (pi = 1; pi <= 2; pi++) {
			p = pi == 1 ? "guard" : "ioc"
			if (n[p] < 6) { printf "%s: only %d samples, need 6\n", p, n[p]; fail = 1; continue }
			k = int(n[p] / 3); mid = int((n[p] + 1) / 2)
			r1 = mean(rss, p, 1, k) / 1024; r3 = mean(rss, p, n[p] - k + 1, n[p]) / 1024
			f1 = mean(fds, p, 1, k); f3 = mean(fds, p, n[p] - k + 1, n[p])
			g1 = mean(gor, p, 1, k); g3 = mean(gor, p, n[p] - k + 1, n[p])
			printf "%-6s %-10s %8.1f %8.1f %8.1f %10.1f %10.1f %+8.1f %8.1f\n", p, "RSS MB", rss[p, 1] / 1024, rss[p, mid] / 1024, rss[p, n[p]] / 1024, r1, r3, r3 - r1, srss[p] / 1024
			printf "%-6s %-10s %8d %8d %8d %10.1f %10.1f %+8.1f %8s\n", p, "fds", fds[p, 1], fds[p, mid], fds[p, n[p]], f1, f3, f3 - f1, sfds[p]
			printf "%-6s %-10s %8d %8d %8d %10.1f %10.1f %+8.1f %8s\n", p, "goroutines", gor[p, 1], gor[p, mid], gor[p, n[p]], g1, g3, g3 - g1, sgor[p]
			if (r3 - r1 > rss_mb && r3 > r1 * (1 + rss_pct / 100)) { printf "GROWTH %s: RSS grew %.1f MB (%.0f %%), bound %d MB and %d %%\n", p, r3 - r1, 100 * (r3 / r1 - 1), rss_mb, rss_pct; fail = 1 }
			if (f3 - f1 > fd_max) { printf "GROWTH %s: open fds grew by %.1f, bound %d\n", p, f3 - f1, fd_max; fail = 1 }
			if (g3 - g1 > gor_max) { printf "GROWTH %s: goroutines grew by %.1f, bound %d\n", p, g3 - g1, gor_max; fail = 1 }
		}
		printf "(%d samples per process from %ds to %ds after a %ss warm-up, settled = %ss after the load; bounds from the first to the last third: RSS > %d %% and > %d MB, fds > %d, goroutines > %d)\n", n["ioc"], t["ioc", 1], t["ioc", n["ioc"]], warmup, settle, rss_pct, rss_mb, fd_max, gor_max
		exit fail
	}' settle="$SOAK_SETTLE" warmup="$SOAK_WARMUP" "$work/samples"
verdict=$?
if ((verdict == 0)); then
	echo "soak: flat - PASS"
	exit 0
fi
if ((run_status == 3)); then
	# Goroutines and fds track the requests in flight: when the machine could
	# not hold the rate, latency and so concurrency rose, and growth is not
	# evidence of a leak. The settled column says what stayed.
	echo "soak: INCONCLUSIVE - the load run could not hold the rate (exit 3); growth follows the requests in flight"
	exit 3
fi
echo "soak: FAIL"
exit 1
