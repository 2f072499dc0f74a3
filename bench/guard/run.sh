#!/usr/bin/env bash
# bench/guard/run.sh - throughput and latency of the bundled DDoS guard, side by side
# with nginx as a plain rate-limiting reverse proxy (limit_req) in front of the same
# demo upstream (issue 3). Loopback only; every run and every wait is bounded.
#
#   bench/guard/run.sh                  # ~3 minutes; results in $OUT (default a temp dir)
#   DURATION=5s RATES="10000 15000" bench/guard/run.sh
#
# What runs (generators on the same 2 cores as the proxies):
#   1. 5000 req/s for $DURATION (bench/guard/loadgen, the vegeta library, paced): direct
#      to the demo upstream, through the guard, through nginx - latency from the
#      intended send time (P50/P99/max).
#   2. closed loop (32 connections, as fast as answers come) for $DURATION: guard, nginx
#      and direct, $WRK_REPEAT times with wrk (a lean C generator, so the proxy gets
#      most of the CPU: the proxy's capacity; median printed) and once with loadgen
#      (vegeta, which itself needs about as much CPU per request as the guard). Beside
#      each: the CPU the proxy's processes used per request (/proc/PID/stat), the
#      least noisy figure here.
#   3. paced ladder ($RATES, loadgen): the highest rate each holds (>= 97 % sent,
#      >= 99.9 % 200 OK, send lateness p99 < 10 ms); stops at the first rate not held.
# Guard and nginx runs alternate so drift on a shared machine hits both alike.
# Traffic: GET /api/test from 1000 client identities (X-Forwarded-For, trusted from
# 127.0.0.1); limits set so nothing is refused: the guard's REQUEST_RATE_LIMIT is 10^9,
# nginx's limit_req zone is keyed by X-Forwarded-For at 1,000,000 r/s.
# nginx and wrk come from Debian; as root the script installs them when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/guardbench.XXXXXX)}
DURATION=${DURATION:-10s}
RATES=${RATES:-"10000 12500 15000 17500 20000"}
GUARD_PORT=${GUARD_PORT:-18080}
UPSTREAM_PORT=${UPSTREAM_PORT:-18081}
NGINX_PORT=${NGINX_PORT:-18082}
CLIENTS=${CLIENTS:-1000}
WRK_REPEAT=${WRK_REPEAT:-3} # closed-loop wrk runs per target (median reported)
mkdir -p "$OUT"

PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

log() { printf '%s\n' "$*" >&2; }

# wait_http URL: up to 10 s for a 200.
wait_http() {
	for _ in $(seq 1 100); do
		if curl -fsS -o /dev/null --max-time 1 "$1"; then return 0; fi
		sleep 0.1
	done
	log "no answer from $1 after 10 s"
	return 1
}

# need_pkg CMD: install the Debian package CMD when it is missing and we are root.
need_pkg() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing $1 (apt-get)"
		timeout 300 apt-get install -y -q "$1" >"$OUT/apt-$1.log" 2>&1 || log "apt-get install $1 failed: see $OUT/apt-$1.log"
	fi
}
need_pkg nginx
need_pkg wrk
WRK=$(command -v wrk || true)

log "building slogate and loadgen into $OUT"
(cd "$ROOT" && go build -o "$OUT/slogate" ./cmd/slogate && go build -o "$OUT/loadgen" ./bench/guard/loadgen)

log "starting slogate serve guard on :$GUARD_PORT (demo upstream on :$UPSTREAM_PORT)"
REQUEST_RATE_LIMIT=1000000000 BURST_MULTIPLIER=1 TRUSTED_PROXIES=127.0.0.1/32 LOG_LEVEL=WARN \
	"$OUT/slogate" serve guard --addr "127.0.0.1:$GUARD_PORT" --upstream-addr "127.0.0.1:$UPSTREAM_PORT" \
	>"$OUT/guard.log" 2>&1 &
GUARD_PID=$!
PIDS+=($GUARD_PID)
wait_http "http://127.0.0.1:$GUARD_PORT/health"
kill -0 "$GUARD_PID" 2>/dev/null || { log "the guard exited (port $GUARD_PORT or $UPSTREAM_PORT taken?): $(cat "$OUT/guard.log")"; exit 1; }
wait_http "http://127.0.0.1:$UPSTREAM_PORT/api/test"

NGINX=$(command -v nginx || true)
if [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ]; then NGINX=/usr/sbin/nginx; fi
if [ -n "$NGINX" ]; then
	mkdir -p "$OUT/nginx/tmp"
	cat >"$OUT/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
daemon off;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $OUT/nginx/tmp/body;
    proxy_temp_path $OUT/nginx/tmp/proxy;
    fastcgi_temp_path $OUT/nginx/tmp/fastcgi;
    uwsgi_temp_path $OUT/nginx/tmp/uwsgi;
    scgi_temp_path $OUT/nginx/tmp/scgi;
    keepalive_requests 1000000;
    limit_req_zone \$http_x_forwarded_for zone=perclient:20m rate=1000000r/s;
    limit_req_status 429;
    upstream demo { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            limit_req zone=perclient burst=1000 nodelay;
            proxy_pass http://demo;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
EOF
	log "starting nginx ($("$NGINX" -v 2>&1)) on :$NGINX_PORT"
	"$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" >"$OUT/nginx/stdout.log" 2>&1 &
	NGINX_PID=$!
	PIDS+=($NGINX_PID)
	wait_http "http://127.0.0.1:$NGINX_PORT/api/test"
	kill -0 "$NGINX_PID" 2>/dev/null || { log "nginx exited: $(cat "$OUT/nginx/error.log")"; exit 1; }
else
	log "nginx not installed (apt-get install -y nginx): nginx runs skipped"
fi

RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
# run LABEL PORT ARGS...: one loadgen run, its JSON line tagged with LABEL.
run() {
	local label=$1 port=$2
	shift 2
	local line
	line=$("$OUT/loadgen" -url "http://127.0.0.1:$port/api/test" -clients "$CLIENTS" -duration "$DURATION" "$@")
	printf '{"label":"%s",%s\n' "$label" "${line#\{}" >>"$RESULTS"
	log "$label: $(printf '%s' "$line" | cut -c1-200)"
	sleep 1
}

log "== 5000 req/s, $DURATION each"
run direct-5000 "$UPSTREAM_PORT" -rate 5000
run guard-5000 "$GUARD_PORT" -rate 5000
[ -n "$NGINX" ] && run nginx-5000 "$NGINX_PORT" -rate 5000

# cpu_ticks PID...: user+system clock ticks used so far by PIDs and their children threads.
cpu_ticks() {
	local total=0 pid t
	for pid in "$@"; do
		t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
		total=$((total + t))
	done
	echo "$total"
}
# proxy_pids LABEL: the processes doing the proxy's work (nginx: master + workers).
proxy_pids() {
	case $1 in
	guard* | direct*) echo "$GUARD_PID" ;;
	nginx*) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ') $GUARD_PID" ;; # + the demo upstream
	esac
}
# closed LABEL PORT: wrk and then loadgen, closed loop, with the proxy's CPU per request.
closed() {
	local label=$1 port=$2 pids t0 t1 line
	pids=$(proxy_pids "$label")
	for i in $(seq 1 "$WRK_REPEAT"); do
		[ -n "$WRK" ] || break
		t0=$(cpu_ticks $pids)
		line=$(CLIENTS=$CLIENTS "$WRK" -t1 -c32 -d"$DURATION" -s "$ROOT/bench/guard/xff.lua" "http://127.0.0.1:$port/api/test" | tail -n1)
		t1=$(cpu_ticks $pids)
		printf '{"label":"%s-wrk%d","proxy_cpu_s":%s,%s\n' "$label" "$i" "$(echo "$t0 $t1" | awk '{print ($2-$1)/100}')" "${line#\{}" >>"$RESULTS"
		log "$label-wrk$i: $line"
		sleep 1
	done
	t0=$(cpu_ticks $pids)
	run "$label" "$port" -rate 0 -workers 32
	t1=$(cpu_ticks $pids)
	sed -i '$ s/^{/{"proxy_cpu_s":'"$(echo "$t0 $t1" | awk '{print ($2-$1)/100}')"',/' "$RESULTS"
}

log "== closed loop, 32 connections, $DURATION each"
closed guard-closed "$GUARD_PORT"
[ -n "$NGINX" ] && closed nginx-closed "$NGINX_PORT"
closed direct-closed "$UPSTREAM_PORT"

log "== paced ladder: $RATES"
guard_going=1
nginx_going=$([ -n "$NGINX" ] && echo 1 || echo 0)
for rate in $RATES; do
	if [ "$guard_going" = 1 ]; then
		run "guard-ladder-$rate" "$GUARD_PORT" -rate "$rate"
		tail -n1 "$RESULTS" | grep -q '"held":true' || guard_going=0
	fi
	if [ "$nginx_going" = 1 ]; then
		run "nginx-ladder-$rate" "$NGINX_PORT" -rate "$rate"
		tail -n1 "$RESULTS" | grep -q '"held":true' || nginx_going=0
	fi
	[ "$guard_going" = 0 ] && [ "$nginx_going" = 0 ] && break
done

python3 - "$RESULTS" <<'EOF'
import json, sys
runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[r["label"]] = r
def held_max(prefix):
    best = 0
    for label, r in runs.items():
        if label.startswith(prefix) and r["held"]:
            best = max(best, r["rate"])
    return best
def fmt(label):
    r = runs.get(label)
    if not r:
        return "-"
    l = r["latency_ms"]
    return "p50 %.2f ms  p99 %.2f ms  max %.1f ms  ok %.2f%%  %s" % (l["P50"], l["P99"], l["Max"], 100*r["ok_ratio"], "held" if r["held"] else "NOT held")
print()
print("== guard benchmark summary (loopback, generator on the same machine)")
for label in ("direct-5000", "guard-5000", "nginx-5000"):
    print("%-13s %s" % (label, fmt(label)))
def us_per_req(r, n):
    return "%.1f" % (r["proxy_cpu_s"] / n * 1e6) if r.get("proxy_cpu_s") and n else "-"
print("closed loop, 32 connections (proxy CPU = CPU-us per request used by the proxy and the demo upstream, which lives in the guard's process):")
def wrk_runs(label):
    out = []
    for l, w in sorted(runs.items()):
        if l.startswith(label + "-wrk"):
            secs = w["duration_us"] / 1e6
            out.append(((w["requests"] - w["non2xx"] - w["socket_errors"]) / secs, w))
    return sorted(out, key=lambda x: x[0])
def wrk_rps(label):
    rs = wrk_runs(label)
    return rs[len(rs) // 2][0] if rs else 0
for label in ("guard-closed", "nginx-closed", "direct-closed"):
    rs = wrk_runs(label)
    if rs:
        rps, w = rs[len(rs) // 2]
        print("  %-13s wrk:     %6.0f req/s answered 200 (median of %d: %s)  p99 %.2f ms  proxy CPU %s us/req  (non-2xx %d, socket errors %d)" % (
            label, rps, len(rs), " ".join("%.0f" % x for x, _ in rs), w["p99_us"] / 1000, us_per_req(w, w["requests"]),
            sum(x["non2xx"] for _, x in rs), sum(x["socket_errors"] for _, x in rs)))
    r = runs.get(label)
    if r:
        print("  %-13s loadgen: %6.0f req/s answered 200  p99 %.2f ms  proxy CPU %s us/req" % (
            label, r["throughput_rps"], r["service_latency_ms"]["P99"], us_per_req(r, r["requests"])))
g, n = held_max("guard-ladder-"), held_max("nginx-ladder-")
def held(v, prefix):
    tried = sorted(r["rate"] for l, r in runs.items() if l.startswith(prefix))
    if not tried:
        return "-"
    return "%d req/s" % v if v else "none of %s held" % tried
print("highest paced rate held (>= 97%% sent, >= 99.9%% OK, lateness p99 < 10 ms): guard %s, nginx %s" % (
    held(g, "guard-ladder-"), held(n, "nginx-ladder-")))
def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "-"
if "nginx-5000" in runs:
    print("ratios guard/nginx: p99 at 5000 req/s %s (lower is better), closed-loop throughput wrk %s loadgen %s, highest held rate %s" % (
        ratio(runs["guard-5000"]["latency_ms"]["P99"], runs["nginx-5000"]["latency_ms"]["P99"]),
        ratio(wrk_rps("guard-closed"), wrk_rps("nginx-closed")),
        ratio(runs["guard-closed"]["throughput_rps"], runs["nginx-closed"]["throughput_rps"]),
        ratio(g, n)))
best = max(g, runs["guard-closed"]["throughput_rps"], wrk_rps("guard-closed"))
print("vs the seed's Python guard (~800 req/s, P99 ~150 ms): %.0fx the throughput, P99 at 5000 req/s %.2f ms (%.0fx lower)" % (
    best / 800, runs["guard-5000"]["latency_ms"]["P99"], 150 / max(runs["guard-5000"]["latency_ms"]["P99"], 1e-9)))
EOF
log "raw results: $RESULTS"
