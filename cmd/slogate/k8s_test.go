package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/slogate/slogate/results"
)

func TestK8sTestRunBadInputExitsTwo(t *testing.T) {
	scen := writeFile(t, t.TempDir(), "s.yaml", "name: s\ntarget: {url: \"http://127.0.0.1:9\"}\nrequests: [{name: a}]\nphases: [{name: m, rate: 10, duration: 1s}]\n")
	for _, args := range [][]string{
		{"k8s", "testrun", scen},
		{"k8s", "testrun", scen, "--parallelism", "0"},
		{"k8s", "testrun", scen, "--parallelism", "1001"},
		{"k8s", "testrun", scen, "--parallelism", "-3"},
		{"k8s", "testrun", "no-such-scenario", "--parallelism", "2"},
		{"k8s", "testrun", scen, "--parallelism", "2", "--image", "not an image"},
		{"k8s", "testrun", scen, "--parallelism", "2", "--image", "UPPER/case:1"},
		{"k8s", "testrun", scen, "--parallelism", "2", "--namespace", "Not_A_Namespace"},
		{"k8s", "testrun", "guard-baseline", "--parallelism", "2"}, // bundled service, no --target
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != ExitBadInput || stdout != "" || stderr == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, a message", args, code, stdout, stderr)
		}
	}
}

// TestK8sTestRunRunnersWriteMergeableShards runs what k6-operator runs
// from the printed manifests, on this machine: the ConfigMap's files
// mounted at "/test", the initializer's `k6 archive` + `k6 inspect`, then
// each runner as `k6 run --execution-segment ...` with the TestRun's env and
// args (kubelet's $(VAR) expansion done by hand), all at once against one
// loopback target. Each runner writes its own shard, and the shards add up
// to the whole run.
func TestK8sTestRunRunnersWriteMergeableShards(t *testing.T) {
	srv := delayServer(time.Millisecond)
	defer srv.Close()
	dir := t.TempDir()
	scen := writeFile(t, dir, "s.yaml", `name: k8s-e2e
target: {url: "http://127.0.0.1:9", timeout: 2s}
requests: [{name: home, path: /, weight: 3}, {name: api, path: /api, weight: 1}]
phases: [{name: main, rate: 100, duration: 2s}]
`)
	const n = 2
	code, stdout, stderr := runCLI(t, "k8s", "testrun", scen, "--parallelism", fmt.Sprint(n), "--target", srv.URL, "--name", "e2e")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	type envVar struct {
		Name, Value string
		ValueFrom   *struct {
			FieldRef struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	}
	var cm struct {
		Data map[string]string
	}
	var tr struct {
		Spec struct {
			Parallelism int
			Script      struct {
				ConfigMap struct{ Name, File string } `yaml:"configMap"`
			}
			Args   []string
			Runner struct {
				Image string
				Env   []envVar
			}
		}
	}
	var job struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct{ Command []string }
				}
			}
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(stdout))
	for _, d := range []any{&cm, &tr, &job} {
		if err := dec.Decode(d); err != nil {
			t.Fatalf("decoding the manifests: %v\n%s", err, stdout)
		}
	}

	// The ConfigMap, mounted.
	mount := filepath.Join(dir, "test")
	shards := filepath.Join(dir, "results")
	for _, d := range []string{mount, shards} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range cm.Data {
		writeFile(t, mount, k, v)
	}
	local := func(s string) string {
		s = strings.ReplaceAll(s, "/test/", mount+"/")
		return strings.ReplaceAll(s, "/results/", shards+"/")
	}
	script := filepath.Join(mount, tr.Spec.Script.ConfigMap.File)
	envFor := func(runner string) []string {
		var env []string
		for _, e := range tr.Spec.Runner.Env {
			v := local(e.Value)
			if e.ValueFrom != nil {
				if e.ValueFrom.FieldRef.FieldPath != "metadata.labels['batch.kubernetes.io/job-name']" {
					t.Fatalf("%s from %q", e.Name, e.ValueFrom.FieldRef.FieldPath)
				}
				v = runner // the runner Job's name, <testrun>-<i>
			}
			env = append(env, e.Name+"="+v)
		}
		return env
	}
	expand := func(args []string, env []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			for _, kv := range env {
				k, v, _ := strings.Cut(kv, "=")
				a = strings.ReplaceAll(a, "$("+k+")", v)
			}
			out[i] = local(a)
		}
		return out
	}

	// The initializer: k6 archive (with the env as -e, without --out),
	// then k6 inspect on the archive.
	initEnv := envFor("e2e-initializer")
	archive := []string{"k6", "archive", script}
	for _, kv := range initEnv {
		archive = append(archive, "-e", kv)
	}
	archive = append(archive, "-O", filepath.Join(dir, "archive.tar"))
	for i := 0; i < len(tr.Spec.Args); i++ {
		if tr.Spec.Args[i] == "--out" { // k6-operator leaves outputs out of the archive
			i++
			continue
		}
		archive = append(archive, tr.Spec.Args[i])
	}
	if out, stderr, code := runBin(t, initEnv, archive...); code != 0 {
		t.Fatalf("initializer: k6 archive: exit %d\n%s\n%s", code, out, stderr)
	}
	if out, stderr, code := runBin(t, initEnv, "k6", "inspect", "--execution-requirements", filepath.Join(dir, "archive.tar")); code != 0 {
		t.Fatalf("initializer: k6 inspect: exit %d\n%s\n%s", code, out, stderr)
	}

	// The runners, at once (k6-operator's segment arguments).
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			env := envFor(fmt.Sprintf("e2e-%d", i))
			args := []string{"k6", "run", "--quiet",
				fmt.Sprintf("--execution-segment=%s:%s", seg(i-1, n), seg(i, n)),
				"--execution-segment-sequence=0,1/2,1"}
			args = append(args, expand(tr.Spec.Args, env)...)
			args = append(args, script, "--address=", "--tag", fmt.Sprintf("instance_id=%d", i), "--tag", "testrun_name=e2e")
			if out, stderr, code := runBin(t, env, args...); code != 0 {
				t.Errorf("runner %d: exit %d\n%s\n%s", i, code, out, stderr)
			}
		}(i)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	files, _ := filepath.Glob(filepath.Join(shards, "shard-*.json"))
	if len(files) != n {
		t.Fatalf("%d shard files, want %d: %v", len(files), n, files)
	}
	var total int64
	for _, f := range files {
		res, err := results.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d requests", filepath.Base(f), res.Summary.Requests)
		if res.Scenario != "k8s-e2e" || res.Summary.Requests < 80 || res.Summary.Requests > 120 {
			t.Errorf("%s: scenario %q, %d requests (want about half of 200)", f, res.Scenario, res.Summary.Requests)
		}
		total += res.Summary.Requests
	}
	if total < 190 || total > 201 {
		t.Errorf("shards hold %d requests, want the run's 200", total)
	}
	if cmd := strings.Join(job.Spec.Template.Spec.Containers[0].Command, " "); !strings.Contains(cmd, "slogate merge /results/shard-*.json --out /results/result.json") {
		t.Errorf("merge Job runs %q", cmd)
	}
	// What the merge Job does: each runner's shard knows its segment (from
	// k6's own --execution-segment flags), so they merge with no gap.
	merged := filepath.Join(shards, "result.json")
	mcode, mout, merr := runCLI(t, append(append([]string{"merge"}, files...), "--out", merged)...)
	// (200 requests cannot judge the default p99: exit 3 is the verdict,
	// not a refusal, which would be exit 2.)
	if mcode == 2 || !strings.Contains(mout, "merged 2 shards (0:1 of 0,1/2,1)") {
		t.Fatalf("merge of the runners' shards: exit %d\n%s\n%s", mcode, mout, merr)
	}
	res, err := results.Read(merged)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests != total || res.Partial {
		t.Fatalf("merged %d requests (partial %v), the shards hold %d", res.Summary.Requests, res.Partial, total)
	}
}

func seg(i, n int) string {
	switch i {
	case 0:
		return "0"
	case n:
		return "1"
	}
	return fmt.Sprintf("%d/%d", i, n)
}
