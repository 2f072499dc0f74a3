#!/usr/bin/env python3
"""slogate's vegeta engine vs the vegeta CLI on one loopback target, in one run.

Prints, as ratios:
  * CPU per request at a fixed rate (user+sys of the generator process / requests),
  * the highest rate each holds (5 s steps; slogate: generator not saturated;
    vegeta: achieved rate >= 97 % of asked and >= 99.9 % success),
  * slogate's peak RSS for a 1,000,000-request run vs a 100,000-request run
    (memory must not grow with the run's length).

Usage: bench_generator.py SLOGATE_BIN VEGETA_BIN [--quick]
Every request goes to 127.0.0.1; every run is bounded in time.
"""
import json, os, socket, subprocess, sys, tempfile, time

SLOGATE, VEGETA = sys.argv[1], sys.argv[2]
QUICK = "--quick" in sys.argv
TMP = tempfile.mkdtemp(prefix="slogate-bench-")


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


def slogate(rate, dur):
    out = os.path.join(TMP, "s.json")
    code, wall, cpu, rss, _ = measured([SLOGATE, "run", "--target", URL, "--rate", str(rate),
                                        "--duration", f"{dur}s", "--slo", LENIENT, "--quiet", "--out", out])
    r = json.load(open(out))
    held = not r["generator"]["saturated"] and r["summary"]["error_rate"] < 0.001
    return dict(requests=r["summary"]["requests"], cpu=cpu, rss=rss, held=held,
                p99=r["summary"]["latency_ms"]["p99"], ratio=r["generator"]["achieved_ratio"])


def vegeta(rate, dur):
    binf = os.path.join(TMP, "v.bin")
    code, wall, cpu, rss, _ = measured(
        ["sh", "-c", f"{VEGETA} attack -rate {rate} -duration {dur}s -timeout 5s -output {binf}"],
        stdin=f"GET {URL}\n")
    rep = json.loads(subprocess.run([VEGETA, "report", "-type", "json", binf], capture_output=True).stdout)
    held = rep["rate"] >= 0.97 * rate and rep["success"] >= 0.999
    return dict(requests=rep["requests"], cpu=cpu, rss=rss, held=held,
                p99=rep["latencies"]["99th"] / 1e6, ratio=rep["rate"] / rate)


try:
    fixed, dur = 5000, (5 if QUICK else 10)
    s, v = slogate(fixed, dur), vegeta(fixed, dur)
    s_cpu = 1000 * s["cpu"] / s["requests"]
    v_cpu = 1000 * v["cpu"] / v["requests"]
    print(f"fixed rate {fixed} req/s for {dur}s (both generators are separate processes; CPU = user+sys)")
    print(f"  slogate: {s['requests']} req, {s_cpu:.4f} CPU-s/1000 req, p99 {s['p99']:.2f} ms (from intended send), peak RSS {s['rss']:.0f} MiB")
    print(f"  vegeta : {v['requests']} req, {v_cpu:.4f} CPU-s/1000 req, p99 {v['p99']:.2f} ms (from actual send), peak RSS {v['rss']:.0f} MiB")
    print(f"  ratio CPU per request slogate/vegeta = {s_cpu / v_cpu:.2f}")

    rates = [10000, 15000, 20000, 25000, 30000] if not QUICK else [10000, 20000]
    best = {"slogate": 0, "vegeta": 0}
    print("highest rate held (5 s steps):")
    for rate in rates:
        for name, fn in (("slogate", slogate), ("vegeta", vegeta)):
            r = fn(rate, 5)
            print(f"  {name:7s} {rate:6d} req/s: held={r['held']} achieved={100 * r['ratio']:.1f}% p99={r['p99']:.2f} ms")
            if r["held"]:
                best[name] = max(best[name], rate)
    print(f"  ceiling slogate {best['slogate']} vs vegeta {best['vegeta']} req/s; ratio = {best['slogate'] / max(best['vegeta'], 1):.2f}")

    mem_rate = 10000 if QUICK else 20000
    small = slogate(mem_rate, 100000 // mem_rate)
    big = slogate(mem_rate, (1000000 if not QUICK else 300000) // mem_rate)
    print(f"memory: peak RSS {small['requests']} req = {small['rss']:.0f} MiB, {big['requests']} req = {big['rss']:.0f} MiB; "
          f"ratio = {big['rss'] / small['rss']:.2f} (flat is 1.0)")
finally:
    target.terminate()
    target.wait(timeout=10)
