#!/usr/bin/env bash
# Benchmarks of the k6 engine (issue 6), loopback only, bounded.
#
#   bench/k6/run.sh memory  [RATE] [DURATION]   peak RSS of one k6 run with --out slogate
#                                               (no k6 summary) vs stock k6's end-of-test summary
#   bench/k6/run.sh ceiling [RATES...]          highest rate each engine holds (not saturated)
#
# Env: SLOGATE (binary; default: built into $OUT), OUT (work dir, default /tmp/slogate-bench-k6),
#      STEP_DURATION (ceiling step length, default 10s), ENGINES (default "vegeta k6").
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/slogate-bench-k6}
mkdir -p "$OUT"
SLOGATE=${SLOGATE:-$OUT/slogate}
[ -x "$SLOGATE" ] || go build -o "$SLOGATE" ./cmd/slogate
go build -o "$OUT/target" ./bench/k6/target
export K6_NO_USAGE_REPORT=true K6_AUTO_EXTENSION_RESOLUTION=false

rm -f "$OUT/target.url"
"$OUT/target" > "$OUT/target.url" &
TARGET_PID=$!
trap 'kill $TARGET_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUT/target.url" ] && break; sleep 0.1; done
URL=$(cat "$OUT/target.url")

maxrss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

memory() {
  local rate=${1:-2000} duration=${2:-60s}
  cat > "$OUT/car.js" <<JS
import http from 'k6/http';
export const options = {
  scenarios: { open: { executor: 'constant-arrival-rate', rate: $rate, timeUnit: '1s',
                       duration: '$duration', preAllocatedVUs: 100, maxVUs: 100 } },
  discardResponseBodies: true,
};
export default function () { http.get(__ENV.URL, { tags: { endpoint: 'get' } }); }
JS
  echo "== $rate req/s for $duration against $URL"
  /usr/bin/time -v "$SLOGATE" k6 run -q --summary-mode=disabled --no-thresholds \
      --out "slogate=$OUT/mem-slogate.json" -e URL="$URL" "$OUT/car.js" \
      > "$OUT/mem-slogate.out" 2> "$OUT/mem-slogate.time"
  echo "k6 + --out slogate (no summary, no thresholds): max RSS $(maxrss "$OUT/mem-slogate.time") KiB"
  python3 - "$OUT/mem-slogate.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = r["summary"]
print(f"  requests {s['requests']} p50 {s['latency_ms']['p50']} ms p99 {s['latency_ms']['p99']} ms "
      f"dropped {r['generator']['dropped_iterations']} file {len(open(sys.argv[1]).read())} bytes")
PY
  /usr/bin/time -v "$SLOGATE" k6 run -q -e URL="$URL" "$OUT/car.js" \
      > "$OUT/mem-stock.out" 2> "$OUT/mem-stock.time"
  echo "stock k6 end-of-test summary:                  max RSS $(maxrss "$OUT/mem-stock.time") KiB"
  grep -E 'http_req_duration|http_reqs|dropped_iterations' "$OUT/mem-stock.out" | sed 's/^/  /' || true
}

ceiling() {
  local rates=("$@")
  [ ${#rates[@]} -gt 0 ] || rates=(2000 4000 6000 8000 10000 12000 16000 20000)
  for engine in ${ENGINES:-vegeta k6}; do
    for rate in "${rates[@]}"; do
      set +e
      "$SLOGATE" run --engine "$engine" --target "$URL" --rate "$rate" --duration "${STEP_DURATION:-10s}" \
          --format json -q > "$OUT/ceil-$engine-$rate.json" 2> "$OUT/ceil-$engine-$rate.err"
      code=$?
      set -e
      python3 - "$OUT/ceil-$engine-$rate.json" "$engine" "$rate" "$code" <<'PY'
import json, sys
path, engine, rate, code = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"{engine:6} {rate:>6} req/s: no result (exit {code})"); sys.exit()
g, s = r["generator"], r["summary"]
held = "HOLDS" if not g["saturated"] else "saturated"
print(f"{engine:6} {rate:>6} req/s: {held:9} sent {s['request_rate_rps']:>9.1f}/s achieved {g['achieved_ratio']:.3f} "
      f"dropped {g['dropped_iterations']} p50 {s['latency_ms']['p50']} p99 {s['latency_ms']['p99']} ms (exit {code})")
PY
    done
  done
}

case "${1:-memory}" in
  memory) shift || true; memory "$@" ;;
  ceiling) shift; ceiling "$@" ;;
  *) echo "usage: $0 memory [RATE] [DURATION] | ceiling [RATES...]" >&2; exit 2 ;;
esac
