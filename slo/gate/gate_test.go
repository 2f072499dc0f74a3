package gate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo"
)

// synth records a synthetic run (lognormal latencies around medianMs,
// 100 req/s for 10 s) through the real recorder.
func synth(medianMs float64, seed uint64) *results.Result {
	rng := rand.New(rand.NewPCG(seed, 7))
	const secs, rps = 10, 100
	rec := results.NewRecorder(results.Plan{
		Phases:    []results.PhaseSpec{{Name: "steady", Kind: "constant", Duration: secs * time.Second, Planned: secs * rps}},
		Endpoints: []string{"get"},
	})
	for i := 0; i < secs*rps; i++ {
		lat := time.Duration(medianMs * math.Exp(0.25*rng.NormFloat64()) * float64(time.Millisecond))
		rec.Record(results.Sample{Due: time.Duration(i) * time.Second / rps, Latency: lat, ServiceLatency: lat, Status: 200})
	}
	return rec.Result(results.Finish{Scenario: "synthetic", Engine: "vegeta", StartedAt: time.Now().UTC(), Elapsed: secs * time.Second,
		Environment: results.Environment{OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "CPU", ScenarioHash: "h1"},
		Generator:   results.Generator{AchievedRatio: 1}})
}

// objectives loads an SLO file written from yaml.
func objectives(t *testing.T, yaml string) *slo.Set {
	t.Helper()
	p := filepath.Join(t.TempDir(), "slo.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := slo.LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

const (
	lenient = "- {metric: p50, threshold: \"< 1s\"}\n"
	strict  = "- {metric: p50, threshold: \"< 1ms\"}\n"
)

// countingStore is a history that counts what it is given.
type countingStore struct {
	appended []*results.Result
	err      error
}

func (s *countingStore) Append(r *results.Result) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	s.appended = append(s.appended, r)
	return fmt.Sprintf("history/%d.json", len(s.appended)), nil
}

func TestExitFor(t *testing.T) {
	for _, tc := range []struct {
		verdict string
		want    ExitCode
	}{
		{slo.Pass, ExitPass},
		{slo.Warning, ExitPass},
		{slo.Fail, ExitFail},
		{slo.Inconclusive, ExitInconclusive},
		{"", ExitInconclusive}, // no verdict is no pass
	} {
		if got := ExitFor(tc.verdict); got != tc.want {
			t.Errorf("ExitFor(%q) = %d, want %d", tc.verdict, got, tc.want)
		}
	}
	// The numbers are the contract scripts test against.
	if ExitPass != 0 || ExitFail != 1 || ExitBadInput != 2 || ExitInconclusive != 3 {
		t.Errorf("exit codes %d %d %d %d, want 0 1 2 3", ExitPass, ExitFail, ExitBadInput, ExitInconclusive)
	}
}

func TestOptionsJudgeBudgetsBySignificanceOnlyWithABaseline(t *testing.T) {
	res := synth(10, 1)
	if opts := Options(nil, res); opts.Baseline != nil || opts.Significant != nil {
		t.Errorf("no baseline: %+v, want no budgets and no significance", opts)
	}
	base := synth(10, 2)
	opts := Options(base, res)
	if opts.Baseline != base || opts.Significant == nil {
		t.Fatalf("with a baseline: %+v", opts)
	}
	// The same distribution twice: p50's change is known and not significant.
	if sig, known := opts.Significant("p50", "", ""); !known || sig {
		t.Errorf("p50 of two draws of one distribution: significant %v known %v, want not significant, known", sig, known)
	}
}

// Finish maps the verdict to the exit code, shows the result before any
// file is written, and stores it once.
func TestFinishVerdictToExitCode(t *testing.T) {
	for _, tc := range []struct {
		slo  string
		want ExitCode
	}{
		{lenient, ExitPass},
		{strict, ExitFail},
	} {
		dir := t.TempDir()
		store := &countingStore{}
		var shown []string
		st := &Stage{
			Criteria: Criteria{Objectives: objectives(t, tc.slo)},
			History:  store,
			Out:      filepath.Join(dir, "r.json"),
			Show: func(res *results.Result, stored string) error {
				if _, err := os.Stat(filepath.Join(dir, "r.json")); err == nil {
					t.Error("the result file was written before the verdict was shown")
				}
				shown = append(shown, res.SLO.Verdict+" "+stored)
				return nil
			},
			Wrote: func(path string) { shown = append(shown, "wrote "+filepath.Base(path)) },
		}
		res := synth(10, 3)
		code, err := st.Finish(res)
		if err != nil || code != tc.want {
			t.Errorf("%s: exit %d %v, want %d", tc.slo, code, err, tc.want)
		}
		if res.SLO == nil || len(store.appended) != 1 || store.appended[0] != res {
			t.Errorf("%s: SLO %v, %d stored, want the evaluated result stored once", tc.slo, res.SLO, len(store.appended))
		}
		want := []string{res.SLO.Verdict + " history/1.json", "wrote r.json"}
		if strings.Join(shown, "|") != strings.Join(want, "|") {
			t.Errorf("%s: hooks %q, want %q", tc.slo, shown, want)
		}
		back, err := results.Read(st.Out)
		if err != nil || back.SLO == nil || back.SLO.Verdict != res.SLO.Verdict {
			t.Errorf("%s: written result %v %+v", tc.slo, err, back)
		}
	}
}

func TestFinishHistoryFailureKeepsTheVerdict(t *testing.T) {
	var warned []error
	stored := "unset"
	st := &Stage{
		Criteria: Criteria{Objectives: objectives(t, lenient)},
		History:  &countingStore{err: errors.New("disk full")},
		Show:     func(_ *results.Result, s string) error { stored = s; return nil },
		Warn:     func(err error) { warned = append(warned, err) },
	}
	code, err := st.Finish(synth(10, 4))
	if code != ExitPass || err != nil {
		t.Errorf("exit %d %v, want 0: a history that cannot store does not change the verdict", code, err)
	}
	if stored != "" || len(warned) != 1 || !strings.Contains(warned[0].Error(), "not stored in history: disk full") {
		t.Errorf("stored %q, warnings %v", stored, warned)
	}
}

func TestFinishShowErrorIsBadInput(t *testing.T) {
	dir := t.TempDir()
	st := &Stage{
		Criteria: Criteria{Objectives: objectives(t, lenient)},
		Out:      filepath.Join(dir, "r.json"),
		Show:     func(*results.Result, string) error { return errors.New("stdout closed") },
	}
	if code, err := st.Finish(synth(10, 5)); code != ExitBadInput || err == nil {
		t.Errorf("exit %d %v, want 2", code, err)
	}
	if _, err := os.Stat(st.Out); err == nil {
		t.Error("the result was written after showing it failed")
	}
}

// entries lists a directory's names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// A report that cannot be written is exit 2, after the verdict was shown;
// nothing is left half-written: no report at all when a path fails its
// check, no temporary file when the write itself fails.
func TestFinishReportFailureIsExitTwoWithNothingHalfWritten(t *testing.T) {
	t.Run("directory gone during the run", func(t *testing.T) {
		dir := t.TempDir()
		gone := filepath.Join(dir, "gone")
		if err := os.Mkdir(gone, 0o755); err != nil {
			t.Fatal(err)
		}
		shown := false
		st := &Stage{
			Criteria: Criteria{Objectives: objectives(t, strict)},
			Out:      filepath.Join(dir, "r.json"),
			Reports:  []Report{{Format: "markdown", Path: filepath.Join(dir, "r.md")}, {Format: "html", Path: filepath.Join(gone, "r.html")}},
			Show:     func(*results.Result, string) error { shown = true; return nil },
		}
		if err := os.Remove(gone); err != nil {
			t.Fatal(err)
		}
		code, err := st.Finish(synth(10, 6))
		if code != ExitBadInput || err == nil || !strings.Contains(err.Error(), "--report: html report: directory") {
			t.Errorf("exit %d %v, want 2 naming the report", code, err)
		}
		if !shown {
			t.Error("the verdict was not shown")
		}
		// The result file comes before the reports (today's order); no
		// report is written when one cannot be.
		if got := strings.Join(entries(t, dir), " "); got != "r.json" {
			t.Errorf("directory holds %q, want only r.json", got)
		}
	})
	t.Run("report path became a directory", func(t *testing.T) {
		dir := t.TempDir()
		st := &Stage{
			Criteria: Criteria{Objectives: objectives(t, lenient)},
			Reports:  []Report{{Format: "junit", Path: filepath.Join(dir, "r.xml")}, {Format: "markdown", Path: filepath.Join(dir, "r.md")}},
		}
		if err := os.Mkdir(st.Reports[0].Path, 0o755); err != nil {
			t.Fatal(err)
		}
		code, err := st.Finish(synth(10, 7))
		if code != ExitBadInput || err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("exit %d %v, want 2", code, err)
		}
		if got := strings.Join(entries(t, dir), " "); got != "r.xml" {
			t.Errorf("directory holds %q, want only the directory r.xml", got)
		}
	})
	t.Run("result file", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "r.json")
		if err := os.Mkdir(out, 0o755); err != nil {
			t.Fatal(err)
		}
		shown := false
		st := &Stage{
			Criteria: Criteria{Objectives: objectives(t, lenient)},
			Out:      out,
			Show:     func(*results.Result, string) error { shown = true; return nil },
			Wrote:    func(string) { t.Error("Wrote called for a failed write") },
		}
		if code, err := st.Finish(synth(10, 8)); code != ExitBadInput || err == nil || !shown {
			t.Errorf("exit %d %v shown %v, want 2 after the verdict", code, err, shown)
		}
		if got := strings.Join(entries(t, dir), " "); got != "r.json" {
			t.Errorf("directory holds %q, want only the directory r.json", got)
		}
	})
}

func TestWriteReportsAppendsTheStepSummary(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	if err := os.WriteFile(summary, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &Stage{
		Criteria:    Criteria{Objectives: objectives(t, strict)},
		Reports:     []Report{{Format: "html", Path: filepath.Join(dir, "r.html")}},
		StepSummary: summary,
	}
	if code, err := st.Finish(synth(10, 9)); code != ExitFail || err != nil {
		t.Fatalf("exit %d %v, want 1", code, err)
	}
	got, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(got), "earlier step\n") || !strings.Contains(string(got), "FAIL") {
		t.Errorf("step summary:\n%s", got)
	}
	if st, err := os.Stat(filepath.Join(dir, "r.html")); err != nil || st.Size() == 0 {
		t.Errorf("html report: %v", err)
	}
}

// call is one call of the fake run step.
type call struct {
	side Side
	i    int
}

// fakeRuns is a run step without processes: the base side is slower.
func fakeRuns(calls *[]call) RunFunc {
	return func(ctx context.Context, side Side, i int) (*results.Result, error) {
		*calls = append(*calls, call{side, i})
		median := 10.0
		if side == Base {
			median = 20
		}
		return synth(median, uint64(len(*calls))), nil
	}
}

func TestRepeatABInterleavesStoresAndMerges(t *testing.T) {
	dir := t.TempDir()
	var calls []call
	var ran []RunReport
	store := &countingStore{}
	rp := &Repeat{
		Runs:    3,
		AB:      true,
		Run:     fakeRuns(&calls),
		New:     Criteria{Objectives: objectives(t, lenient)},
		Base:    Criteria{Objectives: objectives(t, strict)},
		Out:     filepath.Join(dir, "ab.json"),
		History: store,
		Ran:     func(r RunReport) { ran = append(ran, r) },
	}
	done, code, err := rp.Do(context.Background())
	if err != nil || code != ExitPass {
		t.Fatalf("exit %d %v", code, err)
	}
	want := []call{{Base, 1}, {New, 1}, {Base, 2}, {New, 2}, {Base, 3}, {New, 3}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("run order %v, want %v", calls, want)
	}
	if len(ran) != 6 || len(store.appended) != 6 {
		t.Fatalf("%d runs reported, %d stored: want each of the 6 runs once", len(ran), len(store.appended))
	}
	for k, r := range ran {
		wantFile := filepath.Join(dir, fmt.Sprintf("ab-%s-%d.json", want[k].side, want[k].i))
		if r.Done != k+1 || r.Total != 6 || r.Side != want[k].side || !r.AB || r.File != wantFile || store.appended[k] != r.Result {
			t.Errorf("run %d: %+v, want side %s file %s, stored in order", k+1, r, want[k].side, wantFile)
		}
		// Each side is judged on its own criteria.
		wantVerdict := slo.Pass
		if r.Side == Base {
			wantVerdict = slo.Fail
		}
		if r.Result.SLO == nil || r.Result.SLO.Verdict != wantVerdict {
			t.Errorf("run %d (%s): SLO %+v, want %s", k+1, r.Side, r.Result.SLO, wantVerdict)
		}
		if back, err := results.Read(r.File); err != nil || back.SLO == nil {
			t.Errorf("run %d file: %v", k+1, err)
		}
	}
	if len(done.Base) != 3 || len(done.New) != 3 || done.Comparison == nil {
		t.Fatalf("repeated: %d base, %d new, comparison %v", len(done.Base), len(done.New), done.Comparison)
	}
	var sum int64
	for _, r := range done.New {
		sum += r.Summary.Requests
	}
	if done.Aggregate.Summary.Requests != sum || sum != 3000 {
		t.Errorf("aggregate of the new side: %d requests, want %d", done.Aggregate.Summary.Requests, sum)
	}
	// 3 runs a side: Mann-Whitney across runs cannot reach 0.05.
	if !strings.Contains(done.Comparison.Method, "Mann-Whitney") || done.Comparison.Base.Runs != 3 {
		t.Errorf("comparison: method %q, base runs %d", done.Comparison.Method, done.Comparison.Base.Runs)
	}
	for _, w := range done.Comparison.Warnings {
		if strings.Contains(w, "--force") {
			t.Errorf("warning speaks of --force in an A/B run: %q", w)
		}
	}
	// The gate on the aggregate stores nothing more: the runs are stored.
	st := &Stage{Criteria: rp.New}
	if code, err := st.Finish(done.Aggregate); code != ExitPass || err != nil || len(store.appended) != 6 {
		t.Errorf("aggregate: exit %d %v, %d stored", code, err, len(store.appended))
	}
}

func TestRepeatWithoutABMergesOneSide(t *testing.T) {
	dir := t.TempDir()
	var calls []call
	store := &countingStore{}
	rp := &Repeat{Runs: 2, Run: fakeRuns(&calls), New: Criteria{Objectives: objectives(t, lenient)}, Out: filepath.Join(dir, "r.json"), History: store}
	done, code, err := rp.Do(context.Background())
	if err != nil || code != ExitPass {
		t.Fatalf("exit %d %v", code, err)
	}
	if fmt.Sprint(calls) != fmt.Sprint([]call{{New, 1}, {New, 2}}) || len(store.appended) != 2 {
		t.Errorf("calls %v, %d stored", calls, len(store.appended))
	}
	if done.Base != nil || done.Comparison != nil || done.Aggregate.Summary.Requests != 2000 {
		t.Errorf("repeated: base %v comparison %v aggregate %d requests", done.Base, done.Comparison, done.Aggregate.Summary.Requests)
	}
	if got := strings.Join(entries(t, dir), " "); got != "r-1.json r-2.json" {
		t.Errorf("files %q, want r-1.json r-2.json (the aggregate is the caller's to write)", got)
	}
}

func TestRepeatStopsOnErrorsAndInterrupts(t *testing.T) {
	set := Criteria{Objectives: objectives(t, lenient)}
	// A failing run is bad input, naming which run.
	var calls []call
	run := fakeRuns(&calls)
	failing := func(ctx context.Context, side Side, i int) (*results.Result, error) {
		if side == New && i == 1 {
			return nil, errors.New("target gone")
		}
		return run(ctx, side, i)
	}
	_, code, err := (&Repeat{Runs: 2, AB: true, Run: failing, New: set, Base: set}).Do(context.Background())
	if code != ExitBadInput || err == nil || err.Error() != "run 2 of 4 (new): target gone" {
		t.Errorf("failed run: exit %d %v", code, err)
	}
	// Interrupted during the first base run: no new run, inconclusive.
	ctx, cancel := context.WithCancel(context.Background())
	calls = nil
	cancelling := func(ctx context.Context, side Side, i int) (*results.Result, error) {
		cancel()
		return run(ctx, side, i)
	}
	_, code, err = (&Repeat{Runs: 3, AB: true, Run: cancelling, New: set, Base: set}).Do(ctx)
	if code != ExitInconclusive || err == nil || len(calls) != 1 {
		t.Errorf("interrupted: exit %d %v after %d runs, want 3 after 1", code, err, len(calls))
	}
	// Interrupted during the second new run: the runs so far are merged.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	calls = nil
	late := func(ctx context.Context, side Side, i int) (*results.Result, error) {
		if side == New && i == 2 {
			cancel()
		}
		return run(ctx, side, i)
	}
	done, code, err := (&Repeat{Runs: 5, Run: late, New: set}).Do(ctx)
	if err != nil || code != ExitPass || len(done.New) != 2 || len(calls) != 2 {
		t.Errorf("late interrupt: exit %d %v, %d calls", code, err, len(calls))
	}
	for _, n := range []int{0, MaxRepeat + 1} {
		if _, code, err := (&Repeat{Runs: n, Run: run, New: set}).Do(context.Background()); code != ExitBadInput || err == nil {
			t.Errorf("%d runs: exit %d %v, want 2", n, code, err)
		}
	}
}

func TestRunFileName(t *testing.T) {
	for _, tc := range []struct {
		out  string
		side Side
		i    int
		ab   bool
		want string
	}{
		{"r.json", New, 3, false, "r-3.json"},
		{"dir/r.json", Base, 1, true, "dir/r-base-1.json"},
		{"dir/r.json", New, 2, true, "dir/r-new-2.json"},
		{"r", New, 1, false, "r-1.json"},
	} {
		if got := RunFileName(tc.out, tc.side, tc.i, tc.ab); got != tc.want {
			t.Errorf("RunFileName(%q, %s, %d, %v) = %q, want %q", tc.out, tc.side, tc.i, tc.ab, got, tc.want)
		}
	}
}
