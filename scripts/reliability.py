#!/usr/bin/env python3
"""make reliability: run the fault matrix and write docs/RELIABILITY.md.

Each row names a fault or a bad input, what slogate (or the bundled
service) must do, and the tests that prove it. The tests run for real
(`go test -json`), and the document records, per row, whether they passed
on this machine, how long they took, and the figures they logged (lines
starting "MATRIX:" and the tests' own log lines about counts). Nothing in
the generated table is typed by hand except the two descriptive columns.
"""
import collections
import json
import os
import subprocess
import sys
import time

# (area, fault or bad input, what must happen, package, [tests])
ROWS = [
    # --- the generator against misbehaving targets (runner, real loopback servers;
    #     each runner test runs on both in-process engines, vegeta and fast)
    ("target", "resets every 10th connection", "every failed attempt counted as the target's error; no hidden retry", "./runner", ["TestConnectionResetsAreCounted"]),
    ("target", "endless response body", "read and discarded under the request timeout; memory flat; timeout error", "./runner", ["TestEndlessBodyIsBoundedByTheTimeout"]),
    ("target", "1 GB Content-Length, short body (closed or held)", "an error at once, or at the timeout", "./runner", ["TestShortBodyIsAnError"]),
    ("target", "alternating 5xx", "exactly half errors", "./runner", ["TestAlternatingErrorsAndTargetKilledMidRun/vegeta/alternating_5xx", "TestAlternatingErrorsAndTargetKilledMidRun/fast/alternating_5xx"]),
    ("target", "killed mid-run", "later requests are errors; the run ends on schedule", "./runner", ["TestAlternatingErrorsAndTargetKilledMidRun/vegeta/killed_mid-run", "TestAlternatingErrorsAndTargetKilledMidRun/fast/killed_mid-run"]),
    ("target", "closes idle keep-alive connections (Node.js, Apache: after 5 s)", "no request is written into a connection the target closed: no errors", "./runner", ["TestIdleConnectionsClosedByTheTarget"]),
    ("target", "never answers (timeout inside the drain; drain shorter than the timeout)", "every request a timeout error, or cut at the drain deadline; the run ends on time", "./runner", ["TestHangingTargetTimeoutAndDrainCut"]),
    ("target", "closes every keep-alive connection right after its answer, without \"Connection: close\" (as a graceful shutdown closes idle ones)", "no request is written into, or fails on, a connection the target closed before it was written (the fast engine failed half of them)", "./runner", ["TestTargetClosingAfterEveryAnswer"]),
    ("target", "HTTP proxy (forwarding for http, CONNECT for https), with credentials", "every request through it; the result names it, password redacted", "./runner", ["TestRequestsThroughAProxy"]),
    ("target", "odd but valid answers (redirect, chunked, close-delimited HTTP/1.0, gzip, 103, 204, 9 KB header); a garbage status line", "the same result on every engine; a redirect is its 3xx; garbage is the target's error", "./runner", ["TestEnginesAgreeOnOddTargets"]),
    ("target", "response head over 64 KiB (fast engine)", "the engine's limit, not the target's error: inconclusive, naming --engine vegeta", "./runner", ["TestFastEngineHeadLargerThanItsBuffer"]),
    ("target", "TLS with an unknown CA", "every request fails naming the certificate; --ca / --insecure reach it", "./runner", ["TestTLSUnknownCA"]),
    ("target", "refuses every connection", "exit 1, errors named", "./cmd/slogate", ["TestRefusedTargetFails"]),
    ("target", "hung, or trickling its answer", "exit 1: the target's slowness is its latency, not the generator's fault", "./cmd/slogate", ["TestHungOrTricklingTargetFails"]),
    # --- the user and the machine
    ("user", "Ctrl-C during a 0.1 req/s phase", "stops at once; nothing sent after the stop", "./runner", ["TestInterruptDuringASlowPhase"]),
    ("user", "Ctrl-C with requests in flight", "they are cancelled, not errors; error rate 0", "./runner", ["TestInterruptedRequestsAreNotErrors"]),
    ("user", "SIGTERM", "partial result written, exit 3, cut requests not errors, nothing sent after exit", "./cmd/slogate", ["TestSIGTERMWritesPartialResultWithoutErrors"]),
    ("user", "SIGINT", "partial result written, exit 3", "./cmd/slogate", ["TestInterruptWritesPartialResult"]),
    ("machine", "ulimit -n 40", "exit 3 naming the descriptor limit; result written; not the target's errors", "./cmd/slogate", ["TestGeneratorOutOfFilesIsInconclusive"]),
    ("machine", "--out in a read-only directory", "exit 2 before any request is sent", "./cmd/slogate", ["TestUnwritableOutIsFoundBeforeTheLoad"]),
    ("machine", "full disk at the write", "verdict printed, exit 2, nothing half-written", "./cmd/slogate", ["TestFullDiskStillPrintsTheVerdict"]),
    ("machine", "bundled guard logging during a run", "its log stays out of slogate's output", "./cmd/slogate", ["TestBundledGuardLogStaysOutOfTheRun"]),
    # --- the gate's arithmetic
    ("gate", "failing weight-1 objective beside a weight-2000 one", "score floored (99.9), never rounded into a pass; exit 1", "./slo", ["TestScoreNeverRoundsAcrossThePassMark"]),
    ("gate", "the same, through slogate check", "exit 1, FAIL (score 99.9 < 100)", "./cmd/slogate", ["TestCheckScoreNotRoundedIntoAPass"]),
    ("gate", "every request failed, SLO names only p99", "latency over zero answers fails; error rate always reported", "./slo", ["TestLatencyOverZeroAnswersFails"]),
    ("gate", "the same against a refusing port", "exit 1", "./cmd/slogate", ["TestRunAgainstRefusingPortFailsLatencyOnlySLO"]),
    ("gate", "check or merge without --slo of runs judged by their own objectives", "judged again by those (kept in the result), never silently by the defaults; shards judged by different objectives refused", "./cmd/slogate", ["TestRunFailingGateExitsOne", "TestSegmentMergeJudgesByTheShardsObjectives"]),
    ("gate", "saturated generator, target slow or fast", "fails on the target's own figures, else inconclusive", "./slo", ["TestSaturatedRunFailsOnlyOnTheTargetsOwnFigures"]),
    # --- the server side (scraping /metrics, remote write)
    ("server", "/metrics answers garbage, stalls or dies mid-run", "the load is intact (every request on schedule), failures counted per URL, server objectives inconclusive", "./cmd/slogate", ["TestBrokenMetricsEndpointsLeaveTheLoadIntact"]),
    ("server", "the same, scraper alone", "bounded first round, last error per URL, no value invented", "./runner/scrape", ["TestBadMetricsEndpointsAreRecorded"]),
    ("server", "remote-write receiver down", "Push never blocks; failures reported at the end", "./runner/promrw", ["TestUnreachableReceiverIsReported"]),
    # --- bad input files
    ("input", "5000-entry scenario, steps: 2e9, 100000h, huge rates, /dev/zero scenario", "exit 2 naming file, line and field; bounded memory and time", "./scenarios", ["TestParseRefusesWhatItCannotAfford", "TestScenarioFileBounded", "TestStepHitsClosedForm"]),
    ("input", "many request entries (256, the limit)", "each entry's histograms are paged as values arrive: ~70 KB per entry for 200 answers (was 588 KB), rebuilt exactly", "./results", ["TestLatencyCountsMatchHDR", "TestLatencyCountsPagesFollowTheSpread"]),
    ("input", "body_file: /dev/zero or a huge file", "exit 2: not a regular file / above the limit", "./scenarios", ["TestBodyFileBounded"]),
    ("input", "CR/LF in a header value, bad path or method", "exit 2 naming the field", "./scenarios", ["TestRequestLineAndHeadersValidated"]),
    ("input", "a second YAML document in a scenario", "exit 2 at the line of its ---", "./scenarios", ["TestSecondDocumentRefused"]),
    ("input", "the largest scenario accepted", "up-front memory bounded; MCP sessions bounded per run", "./runner/plan", ["TestUpFrontCostBounded", "TestMCPSessionsBoundedPerRun"]),
    ("input", "PromQL objective with a subquery without a step (x[5m:]), found by FuzzQuery", "evaluated at the scrape interval; a panic of the PromQL engine is an error, not a crash", "./slo/promql", ["TestSubqueryWithoutAStep"]),
    ("input", "NaN, negative thresholds, nonsensical scoring marks", "exit 2 naming file, line and field", "./slo", ["TestParseErrors"]),
    ("input", "SLO file: /dev/zero, a second document", "exit 2", "./slo", ["TestSLOFileBoundsAndOneDocument"]),
    ("input", "hand-edited result: negative counts, garbage histograms", "validated on read; check/report/compare exit 2", "./results", ["TestReadValidates"]),
    ("input", "the same, through slogate check", "exit 2 naming file and field", "./cmd/slogate", ["TestEditedResultIsBadInput"]),
    ("machine", "kill -9 during a write leaves *.tmp files", "the next write removes its own stale temporary files", "./results", ["TestWriteRemovesStaleTemporaryFiles", "TestHistoryAppendRemovesLeftovers"]),
    # --- the bundled guard (a security component)
    ("guard", "upstream sends a body on HEAD/204 or an unsolicited response", "never reaches the next client; such connections are not reused", "./guardstub/guard", ["TestStrayUpstreamBytesNeverReachTheNextClient"]),
    ("guard", "/metrics scraped with 100k clients tracked", "a scrape is O(metrics), not O(clients)", "./guardstub/guard", ["TestScrapeDoesNotWalkTheClientTable"]),
    ("guard", "malformed chunk sizes from a client", "400, not 502", "./guardstub/guard", ["TestMalformedChunkedBodyIs400NotUpstreamError"]),
    ("guard", "request body trickled at 1 B/100 ms", "cut with 408 by BODY_READ_TIMEOUT_SECONDS", "./guardstub/guard", ["TestTricklingBodyIsCutByBodyReadTimeout"]),
    ("guard", "X-Forwarded-For from an untrusted peer", "said once, with how to trust it", "./guardstub/guard", ["TestUntrustedXForwardedForIsNotedOnce"]),
    # --- the bundled IOC service
    ("ioc", "one client creating MCP sessions in a loop", "capped per client and in all, with a clear JSON-RPC error; closed sessions free their slot", "./guardstub/ioc", ["TestMCPSessionsPerClientCap", "TestMCPSessionsTotalCap", "TestMCPIdleSessionFreesSlot"]),
    ("ioc", "MCP tools/call with \"arguments\": null", "an error answer, the service stays up", "./guardstub/ioc", ["TestMCPNullArguments"]),
]


def run_package(pkg, tests):
    top = sorted({t.split("/")[0] for t in tests})
    pattern = "^(" + "|".join(top) + ")$"
    cmd = ["go", "test", "-count=1", "-json", "-run", pattern, pkg]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    status, elapsed, logs = {}, {}, collections.defaultdict(list)
    for line in proc.stdout.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        name = ev.get("Test")
        if not name:
            continue
        if ev["Action"] in ("pass", "fail", "skip"):
            status[name] = ev["Action"]
            elapsed[name] = ev.get("Elapsed", 0)
        elif ev["Action"] == "output":
            out = ev["Output"].strip()
            if ".go:" in out and not out.startswith("---") and not out.startswith("==="):
                logs[name].append(out.split(": ", 1)[-1])
    return status, elapsed, logs, proc.returncode


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "docs/RELIABILITY.md"
    by_pkg = collections.defaultdict(list)
    for row in ROWS:
        by_pkg[row[3]].extend(row[4])
    results = {}
    for pkg, tests in by_pkg.items():
        print(f"running {len(tests)} tests in {pkg}", file=sys.stderr)
        results[pkg] = run_package(pkg, tests)
    failed = 0
    lines = [
        "# Reliability: faults and bad inputs",
        "",
        "Generated by `make reliability` (scripts/reliability.py) on "
        + time.strftime("%Y-%m-%d", time.gmtime())
        + f" ({os.cpu_count()} CPUs): every row's tests were run, and their verdicts and logged figures are below.",
        "The same tests run in `make test`; this page only collects them.",
        "",
        "| area | fault or bad input | what slogate must do | tests | result | figures |",
        "|---|---|---|---|---|---|",
    ]
    for area, fault, must, pkg, tests in ROWS:
        status, elapsed, logs, _ = results[pkg]
        verdicts, figures = [], []
        for t in tests:
            v = status.get(t, "not run")
            if v != "pass":
                failed += 1
            verdicts.append(f"{v} ({elapsed.get(t, 0):.1f} s)")
            for l in [l for l in logs.get(t, []) if not l.startswith(("stdout:", "stderr:"))][:3]:
                figures.append(l.replace("|", "\\|")[:200])
        lines.append(f"| {area} | {fault} | {must} | {'<br>'.join('`'+t+'`' for t in tests)} | {'<br>'.join(verdicts)} | {'<br>'.join(figures)} |")
    lines += ["", "Other faults are covered by tests named in the issue notes (guard, IOC service, scenario and SLO limits, fuzz targets); `make fuzz` runs every fuzz target, `make soak` the soak.", ""]
    lines += [
        "## Not a defect: the intermittent 0.3–0.8 s stall through the guard",
        "",
        "A probe saw requests through the guard stall for 0.3–0.8 s under load three times. `go run ./bench/guard/stall` "
        "(the guard in-process, paced load from many client identities, every slow request printed with its send lateness, "
        "and a runtime/trace with `-trace`) never reproduces it on a quiet machine: 2000 req/s from 400 clients, max 11 ms; "
        "5000 req/s from 65536 clients, max 41 ms. On a loaded machine (two cores shared with compilers) it does appear — "
        "3000 req/s from 20000 clients: p99 548 ms, max 626 ms — and there every slow request was *sent* late by as much as it "
        "was slow (sent +183 ms, latency 223 ms, service 40 ms): the whole process was not running, the generator as much as "
        "the guard, which is the machine's scheduler, not a lock or a queue in the guard. slogate already reports that case "
        "honestly: latency from the intended send includes it, and the send lateness shows whose time it was.",
        "",
    ]
    with open(out_path + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(out_path + ".tmp", out_path)
    print(f"wrote {out_path}; {failed} row tests did not pass", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
