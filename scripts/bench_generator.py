#!/usr/bin/env python3
"""slogate's engines (vegeta, fast) vs the vegeta CLI and Fortio on one loopback target, in one run.

Prints, as ratios:
  * CPU per request at 5k and 20k req/s (user+sys of the generator process / requests),
  * the highest rate each holds (steps of 10k to 50k req/s, 5 s each or --step=N; a generator's
    ladder stops after two missed steps in a row). Held = >= 99 % of the asked requests sent and
    send lateness p99 <= 10 ms (slogate's engines: the result's achieved_ratio and
    lateness_ms; the vegeta CLI and Fortio report no lateness: their achieved rate
    >= 99 % of asked), and < 0.1 % errors; a missed step is tried once more,
  * slogate's peak RSS for a 1,000,000-request run vs a 100,000-request run
    (memory must not grow with the run's length).

Usage: bench_generator.py SLOGATE_BIN VEGETA_BIN [FORTIO_BIN|-] [--quick] [--step=SECONDS]
Fortio runs with -c 64 connections (its open-loop -qps mode), twice: as it comes
("fortio": every connection starts at once, so N req/s go out as bursts of 64 requests
every 64/N s) and with -uniform ("fortio-uniform": the connections' schedules spread
evenly, one request every 1/N s, the arrival process slogate's engines send). Bursts
cost less CPU per request (one wake-up sends many requests), so CPU per request is
compared against both. Every request goes to 127.0.0.1; every run is bounded in time.
"""
import json, os, socket, subprocess, sys, tempfile, time

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
# --step=N: seconds of each ladder step (default 5; the side-by-side figures used 10).
STEP = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--step=")), 5)
SLOGATE, VEGETA = ARGS[0], ARGS[1]
FORTIO = ARGS[2] if len(ARGS) > 2 and ARGS[2] != "-" else ""
QUICK = "--quick" in sys.argv
TMP = tempfile.mkdtemp(prefix="slogate-bench-")
HELD_SENT, HELD_LATE_MS = 0.99, 10.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def measured(cmd, stdin=None, timeout=300):
    """Run cmd; return (exit code, wall s, cpu s, peak RSS MiB, stdout)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if stdin:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    out = p.stdout.read()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
        time.sleep(0.05)
    wall = time.monotonic() - start
    return os.waitstatus_to_exitcode(status), wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, out


port = free_port()
URL = f"http://127.0.0.1:{port}/"
target = subprocess.Popen([SLOGATE, "serve", "echo", "--addr", f"127.0.0.1:{port}"],
                          stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
        break
    except OSError:
        time.sleep(0.05)

LENIENT = os.path.join(TMP, "lenient.yaml")
with open(LENIENT, "w") as f:
    f.write('- {metric: error_rate, threshold: "< 1%"}\n')


def slogate(rate, dur, engine="vegeta"):
    out = os.path.join(TMP, "s.json")
    code, wall, cpu, rss, _ = measured([SLOGATE, "run", "--target", URL, "--rate", str(rate), "--engine", engine,
                                        "--duration", f"{dur}s", "--slo", LENIENT, "--quiet", "--no-history", "--out", out])
    r = json.load(open(out))
    g, sm = r["generator"], r["summary"]
    late = sm["lateness_ms"]["p99"]
    sent = g["achieved_ratio"] >= HELD_SENT and sm["error_rate"] < 0.001
    held = sent and late <= HELD_LATE_MS
    return dict(requests=sm["requests"], cpu=cpu, rss=rss, held=held, sent=sent, late=late,
                p99=sm["latency_ms"]["p99"], ratio=g["achieved_ratio"])


def fast(rate, dur):
    return slogate(rate, dur, "fast")


def vegeta(rate, dur):
    binf = os.path.join(TMP, "v.bin")
    code, wall, cpu, rss, _ = measured(
        ["sh", "-c", f"{VEGETA} attack -rate {rate} -duration {dur}s -timeout 5s -output {binf}"],
        stdin=f"GET {URL}\n")
    rep = json.loads(subprocess.run([VEGETA, "report", "-type", "json", binf], capture_output=True).stdout)
    ratio = rep["requests"] / (rate * dur)
    held = ratio >= HELD_SENT and rep["rate"] >= HELD_SENT * rate and rep["success"] >= 0.999
    return dict(requests=rep["requests"], cpu=cpu, rss=rss, held=held, sent=held, late=None,
                p99=rep["latencies"]["99th"] / 1e6, ratio=ratio)


def fortio(rate, dur, uniform=False):
    out = os.path.join(TMP, "f.json")
    if os.path.exists(out):
        os.remove(out)
    code, wall, cpu, rss, _ = measured([FORTIO, "load", "-qps", str(rate), "-c", "64", "-t", f"{dur}s"]
                                       + (["-uniform"] if uniform else [])
                                       + ["-loglevel", "Error", "-json", out, URL])
    r = json.load(open(out))
    h = r["DurationHistogram"]
    n = h["Count"]
    ok = r.get("RetCodes", {}).get("200", 0)
    p99 = next((p["Value"] for p in h.get("Percentiles") or [] if p["Percentile"] == 99), float("nan")) * 1000
    ratio = r["ActualQPS"] / rate
    held = ratio >= HELD_SENT and n > 0 and ok >= 0.999 * n
    return dict(requests=n, cpu=cpu, rss=rss, held=held, sent=held, late=None, p99=p99, ratio=ratio)


def per1000(r):
    return 1000 * r["cpu"] / max(r["requests"], 1)


GENS = [("slogate-vegeta", slogate), ("slogate-fast", fast), ("vegeta-cli", vegeta)]
if FORTIO:
    GENS.append(("fortio", fortio))
    GENS.append(("fortio-uniform", lambda rate, dur: fortio(rate, dur, uniform=True)))

try:
    dur = 5
    print(f"CPU per 1000 requests (user+sys of the generator process; {dur} s runs; every generator a separate process)")
    for fixed in (5000, 20000):
        cpu = {}
        for name, fn in GENS:
            r = fn(fixed, dur)
            cpu[name] = per1000(r)
            late = f", lateness p99 {r['late']:.2f} ms" if r["late"] is not None else ""
            print(f"  {fixed:6d} req/s {name:15s}: {r['requests']} req, {cpu[name]:.4f} CPU-s/1000 req, "
                  f"sent {100 * r['ratio']:.1f}%{late}, p99 {r['p99']:.2f} ms, peak RSS {r['rss']:.0f} MiB")
        line = f"  {fixed:6d} req/s ratio CPU per request fast/vegeta-engine = {cpu['slogate-fast'] / cpu['slogate-vegeta']:.2f}, " \
               f"fast/vegeta-cli = {cpu['slogate-fast'] / cpu['vegeta-cli']:.2f}"
        if FORTIO:
            line += (f", fast/fortio = {cpu['slogate-fast'] / cpu['fortio']:.2f}"
                     f", fast/fortio-uniform = {cpu['slogate-fast'] / cpu['fortio-uniform']:.2f}")
        print(line)

    rates = [10000, 20000, 30000, 40000, 50000] if not QUICK else [10000, 20000]
    best = {name: 0 for name, _ in GENS}
    best_sent = {name: 0 for name, _ in GENS}  # by the sent-only criterion (no lateness)
    misses = {name: 0 for name, _ in GENS}  # missed steps in a row
    print(f"highest rate held ({STEP} s steps; held = >= {100 * HELD_SENT:.0f}% of asked sent, lateness p99 <= {HELD_LATE_MS:.0f} ms "
          "(vegeta CLI, Fortio: achieved rate >= 99% of asked), < 0.1% errors; a miss is tried once more; a generator stops after two missed steps in a row):")
    for rate in rates:
        for name, fn in GENS:
            if misses[name] >= 2:
                continue
            for attempt in (1, 2):  # runs near a ceiling are bimodal: a miss gets one more try
                r = fn(rate, STEP)
                late = f" lateness p99={r['late']:.2f} ms" if r["late"] is not None else ""
                print(f"  {name:15s} {rate:6d} req/s: held={r['held']} sent={100 * r['ratio']:.1f}%{late} p99={r['p99']:.2f} ms"
                      + ("" if attempt == 1 else " (second try)"))
                if r["held"]:
                    break
            if r["sent"]:
                best_sent[name] = max(best_sent[name], rate)
            if r["held"]:
                best[name] = max(best[name], rate)
                misses[name] = 0
            else:
                misses[name] += 1

    def ratio(a, b):
        return f"{best[a] / best[b]:.2f}" if best[b] else "n/a (held no step)"

    print("  ceilings: " + ", ".join(f"{name} {best[name]}" for name, _ in GENS) + " req/s")
    # The vegeta CLI and Fortio report no send lateness and are judged by the
    # rate they sent alone; slogate's engines by the same criterion:
    print("  ceilings by the sent-only criterion (>= 99% sent, < 0.1% errors; lateness not counted, as for the vegeta CLI and Fortio): "
          + ", ".join(f"{name} {best_sent[name]}" for name, _ in GENS) + " req/s")
    line = f"  ratio ceiling fast/vegeta-engine = {ratio('slogate-fast', 'slogate-vegeta')}, fast/vegeta-cli = {ratio('slogate-fast', 'vegeta-cli')}"
    if FORTIO:
        line += f", fast/fortio = {ratio('slogate-fast', 'fortio')}, fast/fortio-uniform = {ratio('slogate-fast', 'fortio-uniform')}"
    print(line)

    mem_rate = 10000 if QUICK else 20000
    small = slogate(mem_rate, 100000 // mem_rate)
    big = slogate(mem_rate, (1000000 if not QUICK else 300000) // mem_rate)
    print(f"memory (vegeta engine): peak RSS {small['requests']} req = {small['rss']:.0f} MiB, {big['requests']} req = {big['rss']:.0f} MiB; "
          f"ratio = {big['rss'] / small['rss']:.2f} (flat is 1.0)")
finally:
    target.terminate()
    target.wait(timeout=10)
