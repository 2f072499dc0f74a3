package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// History is a results directory: `slogate run` appends every result to it
// and `--baseline last-pass` / `--baseline median-of:N` read baselines from
// it. It is a plain directory of result files, one per run, named
// <UTC start time>_<scenario>.json, so it can be committed, rsynced or
// cleaned with ordinary tools; no index file can go stale.
type History struct {
	Dir string
}

// DefaultHistoryDir is where runs are kept unless --history or
// $SLOGATE_HISTORY says otherwise. A hidden directory of the working
// directory (like .git), not "results/": in a Go project, results/ may
// well be a package, as it is in slogate's own tree.
const DefaultHistoryDir = ".slogate/results"

// HistoryEnv names the environment variable that overrides the default.
const HistoryEnv = "SLOGATE_HISTORY"

// HistoryDir resolves the history directory: the flag when set, else
// $SLOGATE_HISTORY, else DefaultHistoryDir.
func HistoryDir(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(HistoryEnv); env != "" {
		return env
	}
	return DefaultHistoryDir
}

// ErrNoBaseline reports that the history holds no run to build a baseline
// from.
var ErrNoBaseline = errors.New("no baseline in history")

// Append stores r atomically under a new name and returns its path. Two
// runs starting in the same millisecond get distinct names: the file is
// linked into place, which fails rather than overwrite.
func (h History) Append(r *Result) (string, error) {
	if err := os.MkdirAll(h.Dir, 0o755); err != nil {
		return "", fmt.Errorf("history %s: %w", h.Dir, err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding result: %w", err)
	}
	removeStaleTemps(h.Dir) // leftovers of appends killed mid-write
	tmp, err := os.CreateTemp(h.Dir, ".append"+tempMarker+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return "", fmt.Errorf("history %s: %w", h.Dir, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("history %s: %w", h.Dir, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("history %s: %w", h.Dir, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("history %s: %w", h.Dir, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("history %s: %w", h.Dir, err)
	}
	started := r.StartedAt
	if started.IsZero() {
		started = time.Now()
	}
	stem := started.UTC().Format("20060102T150405.000Z") + "_" + safeName(r.Scenario)
	for i := 1; i < 1000; i++ {
		name := stem + ".json"
		if i > 1 {
			name = stem + "-" + strconv.Itoa(i) + ".json"
		}
		path := filepath.Join(h.Dir, name)
		err := os.Link(tmp.Name(), path)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("history %s: %w", h.Dir, err)
		}
	}
	return "", fmt.Errorf("history %s: too many runs named %s", h.Dir, stem)
}

// safeName keeps a scenario name usable in a file name.
func safeName(s string) string {
	if s == "" {
		return "run"
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// HistoryEntry is one stored run, as listed.
type HistoryEntry struct {
	Path        string      `json:"file"`
	StartedAt   time.Time   `json:"started_at"`
	Scenario    string      `json:"scenario"`
	Verdict     string      `json:"verdict"`
	Requests    int64       `json:"requests"`
	P99Ms       float64     `json:"p99_ms"`
	ErrorRate   float64     `json:"error_rate"`
	Environment Environment `json:"-"`
}

// Comparable tells whether a stored run measured the same thing as a run
// of scenario on env: no Mismatches (the same scenario on the same kind of
// machine) — what `slogate compare` insists on.
func (e HistoryEntry) Comparable(scenario string, env Environment) bool {
	return len(Mismatches(scenario, env, e.Scenario, e.Environment)) == 0
}

// List returns the stored runs, oldest first; scenario, when not empty,
// keeps only that scenario's. Files that are not slogate results are
// skipped and named in skipped.
func (h History) List(scenario string) (entries []HistoryEntry, skipped []string, err error) {
	names, err := os.ReadDir(h.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("history %s: %w", h.Dir, err)
	}
	for _, de := range names {
		name := de.Name()
		if de.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(h.Dir, name)
		e, err := readEntry(path)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		if scenario != "" && e.Scenario != scenario {
			continue
		}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if !entries[i].StartedAt.Equal(entries[j].StartedAt) {
			return entries[i].StartedAt.Before(entries[j].StartedAt)
		}
		return entries[i].Path < entries[j].Path
	})
	return entries, skipped, nil
}

// readEntry decodes only what a listing needs (the histograms are skipped).
func readEntry(path string) (HistoryEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return HistoryEntry{}, err
	}
	var doc struct {
		Schema      string      `json:"schema"`
		Scenario    string      `json:"scenario"`
		StartedAt   time.Time   `json:"started_at"`
		Environment Environment `json:"environment"`
		Summary     struct {
			Requests  int64   `json:"requests"`
			ErrorRate float64 `json:"error_rate"`
			LatencyMs struct {
				P99 float64 `json:"p99"`
			} `json:"latency_ms"`
		} `json:"summary"`
		SLO *struct {
			Verdict string `json:"verdict"`
		} `json:"slo"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return HistoryEntry{}, fmt.Errorf("not a JSON result: %w", err)
	}
	if doc.Schema != Schema {
		return HistoryEntry{}, fmt.Errorf("%w %q", ErrSchema, doc.Schema)
	}
	e := HistoryEntry{
		Path: path, StartedAt: doc.StartedAt, Scenario: doc.Scenario,
		Requests: doc.Summary.Requests, P99Ms: doc.Summary.LatencyMs.P99, ErrorRate: doc.Summary.ErrorRate,
		Environment: doc.Environment,
	}
	if doc.SLO != nil {
		e.Verdict = doc.SLO.Verdict
	}
	return e, nil
}

// Passing returns up to n of the most recent passing runs comparable with
// (scenario, env) that started before before (any time when zero), newest
// first. Only verdict "pass" counts: a warning or
// an inconclusive run is not a baseline to hold later runs to (Keptn's
// include_result_with_score: pass).
func (h History) Passing(scenario string, env Environment, before time.Time, n int) ([]HistoryEntry, error) {
	all, _, err := h.List(scenario)
	if err != nil {
		return nil, err
	}
	var out []HistoryEntry
	for i := len(all) - 1; i >= 0 && len(out) < n; i-- {
		if !before.IsZero() && !all[i].StartedAt.Before(before) {
			continue
		}
		if all[i].Verdict == VerdictPass && all[i].Comparable(scenario, env) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// BaselinePick is a baseline taken from the history.
type BaselinePick struct {
	Result     *Result
	Entry      HistoryEntry   // the run picked
	Considered []HistoryEntry // the passing runs it was picked from, newest first
	Asked      int            // N of median-of:N (1 for last-pass)
}

// IsHistoryBaseline tells whether a --baseline value names a history
// query ("last-pass", "median-of:N") rather than a file.
func IsHistoryBaseline(spec string) bool {
	return spec == "last-pass" || strings.HasPrefix(spec, "median-of:")
}

// Baseline resolves a history --baseline value:
//
//   - "last-pass": the most recent passing comparable run;
//   - "median-of:N": of the last N passing comparable runs (fewer if fewer
//     are stored), the run whose p99 is the median (the lower middle one
//     for an even count). A real run is picked rather than a merge of N,
//     so the baseline keeps genuine per-second intervals for the bootstrap
//     and one outlier run cannot drag it.
//
// Only runs started before before count (any when zero): checking a stored
// result against last-pass must not pick the result itself or a later run.
// ErrNoBaseline when no stored run fits.
func (h History) Baseline(spec, scenario string, env Environment, before time.Time) (*BaselinePick, error) {
	n := 0
	switch {
	case spec == "last-pass":
		n = 1
	case strings.HasPrefix(spec, "median-of:"):
		v, err := strconv.Atoi(strings.TrimPrefix(spec, "median-of:"))
		if err != nil || v < 1 || v > 1000 {
			return nil, fmt.Errorf("--baseline %q: want median-of:N with N between 1 and 1000", spec)
		}
		n = v
	default:
		return nil, fmt.Errorf("--baseline %q: want last-pass, median-of:N or a result file", spec)
	}
	runs, err := h.Passing(scenario, env, before, n)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%w: no passing run of scenario %q with the same scenario content and machine in %s", ErrNoBaseline, scenario, h.Dir)
	}
	pick := runs[0]
	if n > 1 {
		byP99 := append([]HistoryEntry(nil), runs...)
		sort.SliceStable(byP99, func(i, j int) bool { return byP99[i].P99Ms < byP99[j].P99Ms })
		pick = byP99[(len(byP99)-1)/2]
	}
	r, err := Read(pick.Path)
	if err != nil {
		return nil, err
	}
	return &BaselinePick{Result: r, Entry: pick, Considered: runs, Asked: n}, nil
}
