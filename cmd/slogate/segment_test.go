package main

import (
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

const quarterSequence = "0,1/4,1/2,3/4,1"

// runShards runs one shard per segment of quarterSequence (or of segs) as
// separate processes starting on one instant, against url at rate for dur.
// extra, when set, adds flags to shard i's command line.
func runShards(t *testing.T, dir, url string, rate int, dur string, segs []string, extra func(i int) []string) []string {
	t.Helper()
	at := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	files := make([]string, len(segs))
	var wg sync.WaitGroup
	errs := make([]string, len(segs))
	for i, seg := range segs {
		files[i] = filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		wg.Add(1)
		go func(i int, seg string) {
			defer wg.Done()
			args := []string{"run", "--target", url, "--rate", fmt.Sprint(rate), "--duration", dur,
				"--segment", seg, "--segment-sequence", quarterSequence, "--start-at", at, "--no-history", "-q", "--out", files[i]}
			if extra != nil {
				args = append(args, extra(i)...)
			}
			code, stdout, stderr := runCLI(t, args...)
			// A shard gates on its share alone (too few requests for p99
			// may make it inconclusive): the merge's verdict is the run's.
			if code != ExitPass && code != ExitInconclusive {
				errs[i] = fmt.Sprintf("shard %s: exit %d\n%s\n%s", seg, code, stdout, stderr)
			}
		}(i, seg)
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Fatal(e)
		}
	}
	return files
}

var quarters = []string{"0:1/4", "1/4:1/2", "1/2:3/4", "3/4:1"}

// Shards judged by their own objectives (--slo) merge under the same
// objectives when the merge is given none: never the defaults instead.
func TestSegmentMergeJudgesByTheShardsObjectives(t *testing.T) {
	srv := delayServer(2 * time.Millisecond)
	defer srv.Close()
	dir := t.TempDir()
	// p95 needs 100 requests: each shard's 50 are inconclusive (exit 3),
	// the merged 200 are judged.
	strict := writeFile(t, dir, "strict.yaml", "objectives:\n  - {metric: p95, threshold: \"< 1us\"}\n")
	files := runShards(t, dir, srv.URL, 200, "1s", quarters, func(int) []string { return []string{"--slo", strict} })
	merged := filepath.Join(dir, "merged.json")
	code, stdout, stderr := runCLI(t, append(append([]string{"merge"}, files...), "--out", merged)...)
	if code != ExitFail {
		t.Fatalf("merge: exit %d, want %d on the shards' p95 < 1us\n%s\n%s", code, ExitFail, stdout, stderr)
	}
	r, err := results.Read(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.SLO.Objectives) != 1 || r.SLO.Objectives[0].Objective != "p95 < 1us" || r.SLO.Definition == "" {
		t.Errorf("merged objectives %+v, definition %q: want the shards' p95 < 1us alone", r.SLO.Objectives, r.SLO.Definition)
	}
}

// Four processes with segments against one target merge to the run one
// process makes at the whole rate: the same request count, percentiles
// within tolerance, the same verdict; a missing, duplicated or foreign
// shard is detected.
func TestSegmentShardsMergeLikeOneRun(t *testing.T) {
	srv := delayServer(10 * time.Millisecond)
	defer srv.Close()
	url := srv.URL + "/"
	dir := t.TempDir()
	files := runShards(t, dir, url, 400, "3s", quarters, nil)
	for i, f := range files {
		r, err := results.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		if r.Segment == nil || r.Segment.Value != quarters[i] || r.Segment.Sequence != quarterSequence {
			t.Errorf("%s: segment %+v, want %s of %s", f, r.Segment, quarters[i], quarterSequence)
		}
		if r.Generator.PlannedReqs != 300 {
			t.Errorf("%s: planned %d, want its share 300", f, r.Generator.PlannedReqs)
		}
	}
	merged := filepath.Join(dir, "merged.json")
	code, stdout, stderr := runCLI(t, append(append([]string{"merge"}, files...), "--out", merged)...)
	if code != 0 {
		t.Fatalf("merge: exit %d, want 0 (pass)\n%s\n%s", code, stdout, stderr)
	}
	whole := filepath.Join(dir, "whole.json")
	code, stdout, stderr = runCLI(t, "run", "--target", url, "--rate", "400", "--duration", "3s", "--no-history", "-q", "--out", whole)
	if code != 0 {
		t.Fatalf("one process: exit %d, want 0 (the same verdict)\n%s\n%s", code, stdout, stderr)
	}
	m, err := results.Read(merged)
	if err != nil {
		t.Fatal(err)
	}
	w, err := results.Read(whole)
	if err != nil {
		t.Fatal(err)
	}
	if m.Summary.Requests != 1200 || m.Generator.PlannedReqs != 1200 || m.Summary.Requests != w.Summary.Requests {
		t.Errorf("merged %d requests (planned %d), one process %d: want 1200 each", m.Summary.Requests, m.Generator.PlannedReqs, w.Summary.Requests)
	}
	if m.Segment == nil || m.Segment.Value != "0:1" || len(m.Segment.Missing) > 0 {
		t.Errorf("merged segment %+v, want 0:1", m.Segment)
	}
	if m.SLO == nil || w.SLO == nil || m.SLO.Verdict != w.SLO.Verdict {
		t.Errorf("merged verdict %v, one process %v", m.SLO, w.SLO)
	}
	var perSecond int64
	for _, iv := range m.Intervals {
		perSecond += iv.Requests
	}
	if perSecond != 1200 {
		t.Errorf("merged seconds hold %d requests, want 1200", perSecond)
	}
	// The target answers in 10 ms: the body of the distribution is that
	// delay, whoever sends. A loaded machine adds lateness to both, so
	// the tolerance is a few milliseconds, not HDR's 0.1 %.
	for _, q := range []struct {
		name string
		m, w float64
	}{{"p50", m.Summary.LatencyMs.P50, w.Summary.LatencyMs.P50}, {"p90", m.Summary.LatencyMs.P90, w.Summary.LatencyMs.P90}} {
		if math.Abs(q.m-q.w) > math.Max(3, 0.25*q.w) || q.m < 10 {
			t.Errorf("%s: merged %.3f ms, one process %.3f ms", q.name, q.m, q.w)
		}
	}

	t.Run("missing shard is inconclusive", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "merge", files[0], files[1], files[3], "--out", filepath.Join(dir, "gap.json"))
		if code != ExitInconclusive || !strings.Contains(stderr, "missing segments 1/2:3/4") {
			t.Errorf("exit %d, want 3 naming 1/2:3/4\n%s\n%s", code, stdout, stderr)
		}
		r, err := results.Read(filepath.Join(dir, "gap.json"))
		if err != nil || !r.Partial || r.SLO == nil || r.SLO.Verdict == "pass" || r.Segment.Value != "0:1/2,3/4:1" {
			t.Errorf("gap result: %v %+v", err, r)
		}
	})
	t.Run("duplicated shard is refused", func(t *testing.T) {
		code, _, stderr := runCLI(t, "merge", files[0], files[1], files[1], files[2], files[3], "--out", filepath.Join(dir, "dup.json"))
		if code != ExitBadInput || !strings.Contains(stderr, "held twice") {
			t.Errorf("exit %d, want 2 (held twice)\n%s", code, stderr)
		}
	})
	t.Run("foreign shard is refused", func(t *testing.T) {
		foreign := filepath.Join(dir, "foreign.json")
		code, stdout, stderr := runCLI(t, "run", "--target", url, "--rate", "40", "--duration", "1s",
			"--segment", "1/2:3/4", "--segment-sequence", quarterSequence, "--no-history", "-q", "--out", foreign)
		if code != ExitPass && code != ExitInconclusive {
			t.Fatalf("foreign shard: exit %d\n%s\n%s", code, stdout, stderr)
		}
		code, _, stderr = runCLI(t, "merge", files[0], files[1], foreign, files[3], "--out", filepath.Join(dir, "foreign-merged.json"))
		if code != ExitBadInput || !strings.Contains(stderr, "different scenarios") {
			t.Errorf("exit %d, want 2 (different scenarios)\n%s", code, stderr)
		}
	})
}

func TestSegmentFlagsRefuseBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--segment", "1/2:1/4"},
		{"--segment", "0:1/3", "--segment-sequence", quarterSequence},
		{"--segment-sequence", quarterSequence},
		{"--start-at", "2020-01-01T00:00:00Z"},
		{"--start-at", time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)},
		{"--start-at", "tomorrow"},
	} {
		code, _, stderr := runCLI(t, append([]string{"run", "--target", "http://127.0.0.1:1/", "--rate", "1", "--duration", "1s", "--no-history"}, args...)...)
		if code != ExitBadInput {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
}

// A shard of the k6 engine (k6 runs --execution-segment itself) merges with
// vegeta-engine shards of the same scenario. k6's arrival-rate executor
// may start one iteration more or less than the exact share, so the count
// is the planned total within a request.
func TestSegmentK6ShardMergesWithVegetaShards(t *testing.T) {
	srv := delayServer(5 * time.Millisecond)
	defer srv.Close()
	dir := t.TempDir()
	files := runShards(t, dir, srv.URL+"/", 200, "3s", quarters, func(i int) []string {
		if i == 1 {
			return []string{"--engine", "k6"}
		}
		return nil
	})
	merged := filepath.Join(dir, "merged.json")
	code, stdout, stderr := runCLI(t, append(append([]string{"merge"}, files...), "--out", merged)...)
	if code == ExitBadInput {
		t.Fatalf("merge refused a k6 shard: %s\n%s", stdout, stderr)
	}
	m, err := results.Read(merged)
	if err != nil {
		t.Fatal(err)
	}
	if m.Engine != "vegeta+k6" || m.Generator.PlannedReqs != 600 || m.Summary.Requests < 599 || m.Summary.Requests > 601 || m.Segment.Value != "0:1" {
		t.Errorf("merged engine %s, %d requests of %d planned, segment %+v: want vegeta+k6, 600 ± 1, 0:1", m.Engine, m.Summary.Requests, m.Generator.PlannedReqs, m.Segment)
	}
}

// Ctrl-C while waiting for --start-at ends the wait at once, before any load.
func TestSegmentStartAtWaitIsInterruptible(t *testing.T) {
	srv := delayServer(0)
	defer srv.Close()
	at := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	cmd := exec.Command(slogateBin, "run", "--target", srv.URL+"/", "--rate", "10", "--duration", "1s", "--start-at", at, "--no-history", "-q")
	errb := &lockedBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "waiting") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != ExitInconclusive || time.Since(start) > 5*time.Second || !strings.Contains(errb.String(), "nothing was sent") {
		t.Errorf("exit %v after %s, want 3 at once\n%s", err, time.Since(start), errb.String())
	}
}

// lockedBuffer is a stderr a test reads while the process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
