// Package k6 is slogate's k6 engine. k6 (go.k6.io/k6 v1.8.1) is linked into
// the slogate binary with two extensions that live here:
//
//   - the JS module k6/x/slogate (module.go): slogate scenarios — weighted
//     request mix, simulated client identities, the IOC corpus — inside k6
//     scripts;
//   - the output extension "slogate" (output.go): folds k6's samples into
//     slogate's HDR recorder and writes a slogate.result/v1 file.
//
// k6 cannot run in-process (its runner is internal and cmd.Execute always
// ends in os.Exit), so Run re-executes the slogate binary as
// `slogate k6 run --out slogate=RESULT script.js` and reads the result back.
// The script is generated from the scenario (script.go, options.go) or is
// the user's own.
//
// Run is a plan.Engine; the program hands it to package runner in
// runner.Engines. This package must not import package runner (runner
// drives this engine), and the engine must never call k6's cmd.Execute
// itself.
package k6

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/plan"
)

// Executable returns the slogate binary to re-execute (tests point it at a
// freshly built binary; the default is this process's own executable).
var Executable = os.Executable

// KeepEnv names a directory: when set, the engine writes the generated
// scenario, script and result there and keeps them (for debugging).
const KeepEnv = "SLOGATE_K6_KEEP"

// k6 exit codes the engine tells apart (go.k6.io/k6/errext/exitcodes).
const (
	exitThresholds    = 99
	exitExternalAbort = 105
	exitScriptAborted = 108 // exec.test.abort()
	exitMarkedFailed  = 110 // exec.test.fail()
)

// Env is the environment every linked-k6 run gets on top of the caller's:
// no automatic extension resolution (an offline machine would fail on the
// network instead of reporting an unknown module) and no usage report.
var Env = []string{"K6_AUTO_EXTENSION_RESOLUTION=false", "K6_NO_USAGE_REPORT=true"}

// Run is the k6 engine (a plan.Engine). It writes the effective
// scenario (aimed at job.BaseURL) and the script, re-executes the binary as
// k6 with the slogate output, forwards a cancellation of ctx to the child as
// SIGINT (the child writes its partial result), and returns the result the
// output wrote in Stats.Result.
func Run(ctx context.Context, job plan.Job) (plan.Stats, error) {
	if job.Sessions != nil {
		return plan.Stats{}, errors.New("k6 engine: MCP requests (kind: mcp) are not supported yet; use --engine vegeta")
	}
	bin, err := Executable()
	if err != nil {
		return plan.Stats{}, fmt.Errorf("k6 engine: finding the slogate binary: %w", err)
	}
	dir := os.Getenv(KeepEnv)
	if dir == "" {
		if dir, err = os.MkdirTemp("", "slogate-k6-*"); err != nil {
			return plan.Stats{}, fmt.Errorf("k6 engine: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return plan.Stats{}, fmt.Errorf("k6 engine: %s: %w", KeepEnv, err)
	}

	env := append(os.Environ(), Env...)
	if job.BaseURL != "" {
		env = append(env, EnvTarget+"="+job.BaseURL)
	}
	// A stand-in scenario (only the script) has nothing for the script to load.
	if job.Scenario.Script == "" {
		path := filepath.Join(dir, "scenario.yaml")
		if err := WriteScenario(path, job.Scenario, job.BaseURL); err != nil {
			return plan.Stats{}, err
		}
		env = append(env, EnvScenario+"="+path)
	}
	script := job.Script
	if script == "" {
		text, err := Script(job)
		if err != nil {
			return plan.Stats{}, err
		}
		script = filepath.Join(dir, "script.js")
		if err := os.WriteFile(script, []byte(text), 0o644); err != nil {
			return plan.Stats{}, fmt.Errorf("k6 engine: %w", err)
		}
	} else {
		env = append(env, EnvPhases+"=script")
		if script, err = filepath.Abs(script); err != nil {
			return plan.Stats{}, err
		}
	}
	resultPath := filepath.Join(dir, "result.json")
	// No k6 summary: it would keep every value of every Trend metric
	// (k6 #763). The script's thresholds stay on: they gate the run, and
	// the output trims k6's sinks to the metrics that carry one
	// (thresholds.go).
	// No REST API either: two runs at once would both bind its port.
	args := []string{"k6", "run", "--quiet", "--no-color", "--summary-mode=disabled", "--address="}
	if job.Script == "" {
		// A generated script has no thresholds: without them and without
		// the summary k6 runs no metrics engine at all.
		args = append(args, "--no-thresholds")
	}
	if job.TLS != nil && job.TLS.InsecureSkipVerify {
		args = append(args, "--insecure-skip-tls-verify") // --insecure
	}
	if seg := job.Schedule.Segment(); seg != nil {
		// k6 runs its share of every executor itself, striped as the
		// vegeta engine stripes the requests of every phase.
		args = append(args, "--execution-segment", seg.Value, "--execution-segment-sequence", seg.Sequence)
		env = append(env, EnvSegment+"="+seg.Value, EnvSegmentSequence+"="+seg.Sequence)
	}
	args = append(args, "--out", OutputName+"="+resultPath, script)

	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir, _ = os.Getwd()
	// Own process group: a Ctrl-C at the terminal reaches only slogate,
	// which forwards exactly one SIGINT (a second one makes k6 abort
	// without writing its outputs).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var tail tailBuffer
	cmd.Stdout = io.MultiWriter(os.Stderr, &tail) // stdout is slogate's report
	cmd.Stderr = io.MultiWriter(os.Stderr, &tail)
	if err := cmd.Start(); err != nil {
		return plan.Stats{}, fmt.Errorf("k6 engine: starting %s: %w", bin, err)
	}
	done := make(chan struct{})
	var interrupted bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		interrupted = true
		_ = cmd.Process.Signal(os.Interrupt)
		// k6 waits for in-flight iterations up to gracefulStop, then stops
		// its outputs; give it that long before killing it.
		grace := time.NewTimer(max(job.Drain, time.Second) + 30*time.Second)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C:
			_ = cmd.Process.Kill()
		}
	}()
	waitErr := cmd.Wait()
	close(done)
	wg.Wait()

	code := 0
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		code = ee.ExitCode()
	} else if waitErr != nil {
		return plan.Stats{}, fmt.Errorf("k6 engine: %w", waitErr)
	}
	res, readErr := results.Read(resultPath)
	scriptVerdict := code == exitMarkedFailed || code == exitScriptAborted
	if readErr != nil || (code != 0 && code != exitThresholds && code != exitExternalAbort && !scriptVerdict && !interrupted) {
		msg := strings.TrimSpace(tail.String())
		if msg != "" {
			msg = ":\n" + msg
		}
		return plan.Stats{}, fmt.Errorf("k6 engine: k6 run %s exited with code %d%s", filepath.Base(script), code, msg)
	}
	if scriptVerdict {
		// The script's own verdict: stock k6 exits non-zero, so the gate
		// fails too, naming why (a script criterion, like a threshold).
		what := "exec.test.fail(): the script marked the test as failed"
		if code == exitScriptAborted {
			what = "exec.test.abort(): the script aborted the test"
		}
		res.ScriptThresholds = append(res.ScriptThresholds, results.ScriptThreshold{Metric: results.ScriptVerdictMetric, Threshold: what, Failed: true})
		// Stopped by the script's own criteria, not interrupted: the verdict
		// is the script's (as a threshold with abortOnFail), not inconclusive.
		res.Partial = false
	}
	stats := Stats(res)
	stats.Interrupted = stats.Interrupted || interrupted || code == exitExternalAbort
	if scriptVerdict && !interrupted {
		stats.Interrupted = false
	}
	res.Partial = stats.Interrupted
	return stats, nil
}

// tailBuffer keeps the last 4 KiB written to it (the child's last words).
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if t.buf.Len() > 8<<10 {
		b := t.buf.Bytes()
		keep := append([]byte(nil), b[len(b)-4<<10:]...)
		t.buf.Reset()
		t.buf.Write(keep)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf.Bytes()
	if len(b) > 4<<10 {
		b = b[len(b)-4<<10:]
	}
	return string(b)
}
