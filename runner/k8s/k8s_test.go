package k8s

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slogate/slogate/scenarios"
)

func mustResolve(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bodyScenario is a scenario file whose request body is a file beside it.
func bodyScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), []byte(`{"iocs":["1.2.3.4"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.yaml")
	doc := `name: Body File!
target: {url: "http://ioc.load.svc:8000"}
requests:
  - {name: analyze, method: POST, path: /analyze, body_file: body.json}
phases:
  - {name: main, kind: constant, rate: 2.5, duration: 10s}
`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

func TestManifestsValidateAgainstTheTestRunCRD(t *testing.T) {
	schema := crdSchema(t)
	cases := []Options{
		{Scenario: mustResolve(t, "guard-baseline"), Parallelism: 4, Target: "http://guard.load.svc:8080"},
		{Scenario: mustResolve(t, "guard-burst"), Parallelism: 1, Target: "https://guard.example:8443", Namespace: "perf", PVC: "shared.results", Image: "registry.example:5000/team/slogate:v1.2@sha256:" + strings.Repeat("a", 64)},
		{Scenario: bodyScenario(t), Parallelism: MaxParallelism, Name: "body"},
	}
	for _, o := range cases {
		t.Run(o.Scenario.Name, func(t *testing.T) {
			out, err := Manifests(o)
			if err != nil {
				t.Fatal(err)
			}
			docs := decodeDocs(t, out)
			if len(docs) != 3 {
				t.Fatalf("%d documents, want ConfigMap, TestRun, Job", len(docs))
			}
			cm, tr, job := docs[0], docs[1], docs[2]
			name := o.Name
			if name == "" {
				name = DefaultName(o.Scenario.Name)
			}

			if errs := validateTestRun(t, schema, tr); len(errs) > 0 {
				t.Fatalf("TestRun refused by the CRD schema:\n%s\n%s", strings.Join(errs, "\n"), out)
			}
			spec := tr["spec"].(map[string]any)
			if spec["parallelism"] != o.Parallelism || str(tr, "metadata", "name") != name {
				t.Errorf("parallelism %v name %q", spec["parallelism"], str(tr, "metadata", "name"))
			}
			wantImage := o.Image
			if wantImage == "" {
				wantImage = DefaultImage
			}
			if got := str(spec, "runner", "image"); got != wantImage {
				t.Errorf("runner image %q, want %q", got, wantImage)
			}
			args := spec["args"].([]any)
			if joinAny(args) != strings.Join(RunnerArgs(), " ") {
				t.Errorf("args %v", args)
			}
			if !strings.Contains(joinAny(args), "--out slogate="+ResultsDir+"/shard-$("+ShardEnv+").json") {
				t.Errorf("runners do not write distinct shards: %v", args)
			}
			env := map[string]map[string]any{}
			for _, e := range spec["runner"].(map[string]any)["env"].([]any) {
				e := e.(map[string]any)
				env[e["name"].(string)] = e
			}
			if env[ShardEnv] == nil || str(env[ShardEnv], "valueFrom", "fieldRef", "fieldPath") == "" {
				t.Errorf("no %s from the pod: %v", ShardEnv, env)
			}
			if env["SLOGATE_SCENARIO"]["value"] != ScriptDir+"/scenario.yaml" {
				t.Errorf("SLOGATE_SCENARIO %v", env["SLOGATE_SCENARIO"])
			}
			wantTarget := o.Target
			if wantTarget == "" {
				wantTarget = o.Scenario.Target.URL
			}
			if env["SLOGATE_TARGET"]["value"] != wantTarget {
				t.Errorf("SLOGATE_TARGET %v, want %s", env["SLOGATE_TARGET"], wantTarget)
			}

			// ConfigMap: what the TestRun mounts, holding the script and a
			// scenario that loads where k6-operator mounts it.
			if cm["apiVersion"] != "v1" || cm["kind"] != "ConfigMap" || str(cm, "metadata", "name") == "" {
				t.Fatalf("ConfigMap header: %v %v %v", cm["apiVersion"], cm["kind"], cm["metadata"])
			}
			if str(cm, "metadata", "name") != str(spec, "script", "configMap", "name") {
				t.Errorf("TestRun mounts ConfigMap %q, generated %q", str(spec, "script", "configMap", "name"), str(cm, "metadata", "name"))
			}
			if ns := str(cm, "metadata", "namespace"); ns != o.Namespace || str(tr, "metadata", "namespace") != ns || str(job, "metadata", "namespace") != ns {
				t.Errorf("namespaces differ from %q", o.Namespace)
			}
			data, _ := cm["data"].(map[string]any)
			script, _ := data[str(spec, "script", "configMap", "file")].(string)
			if !strings.Contains(script, "slogate.scenario(__ENV.SLOGATE_SCENARIO)") || !strings.Contains(script, "export const options") {
				t.Errorf("ConfigMap has no generated script under %q:\n%s", str(spec, "script", "configMap", "file"), script)
			}
			mount := t.TempDir()
			for k, v := range data {
				if err := os.WriteFile(filepath.Join(mount, k), []byte(v.(string)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			loaded, err := scenarios.Load(filepath.Join(mount, "scenario.yaml"))
			if err != nil {
				t.Fatalf("the mounted scenario does not load: %v", err)
			}
			if loaded.Target.URL != wantTarget || len(loaded.Requests) != len(o.Scenario.Requests) {
				t.Errorf("mounted scenario: target %q, %d requests", loaded.Target.URL, len(loaded.Requests))
			}
			if o.Scenario.Requests[0].BodyFile != "" && data["scenario.yaml.body0"] == nil {
				t.Errorf("body file not in the ConfigMap: %v", data)
			}
			for i := range loaded.Requests {
				if !reflect.DeepEqual(loaded.Requests[i].BodyBytes, o.Scenario.Requests[i].BodyBytes) {
					t.Errorf("request %d: body differs after mounting", i)
				}
			}

			if !reflect.DeepEqual(pod0(job)["securityContext"], spec["runner"].(map[string]any)["securityContext"]) ||
				spec["runner"].(map[string]any)["securityContext"].(map[string]any)["fsGroup"] != ImageUser {
				t.Errorf("runners and merge Job do not both write as the image's group: %v %v", pod0(job)["securityContext"], spec["runner"])
			}

			// Job: suspended until the TestRun finished, merges the shards
			// from the same volume and subdirectory.
			if job["apiVersion"] != "batch/v1" || job["kind"] != "Job" || str(job, "metadata", "name") != MergeJobName(name) {
				t.Fatalf("Job header: %v %v %v", job["apiVersion"], job["kind"], job["metadata"])
			}
			jspec := job["spec"].(map[string]any)
			if jspec["suspend"] != true || jspec["backoffLimit"] != 0 {
				t.Errorf("Job suspend %v backoffLimit %v", jspec["suspend"], jspec["backoffLimit"])
			}
			pod, _ := jspec["template"].(map[string]any)["spec"].(map[string]any)
			if pod == nil || pod["restartPolicy"] != "Never" {
				t.Fatalf("Job pod spec: %v", pod)
			}
			c := pod["containers"].([]any)[0].(map[string]any)
			if c["image"] != wantImage || !strings.Contains(joinAny(c["command"].([]any)), "slogate merge "+ResultsDir+"/shard-*.json --out "+ResultsDir+"/result.json") {
				t.Errorf("merge container: %v", c)
			}
			if !reflect.DeepEqual(c["volumeMounts"], spec["runner"].(map[string]any)["volumeMounts"]) ||
				!reflect.DeepEqual(pod["volumes"], spec["runner"].(map[string]any)["volumes"]) {
				t.Errorf("merge Job and runners do not share the results volume:\n%v\n%v", c["volumeMounts"], spec["runner"])
			}
		})
	}
}

func pod0(job map[string]any) map[string]any {
	t, _ := job["spec"].(map[string]any)["template"].(map[string]any)
	p, _ := t["spec"].(map[string]any)
	return p
}

func joinAny(l []any) string {
	s := make([]string, len(l))
	for i, x := range l {
		s[i], _ = x.(string)
	}
	return strings.Join(s, " ")
}

func TestManifestsRefuseBadInput(t *testing.T) {
	base := Options{Scenario: mustResolve(t, "guard-baseline"), Parallelism: 2, Target: "http://guard:8080"}
	cases := map[string]func(o *Options){
		"parallelism 0":      func(o *Options) { o.Parallelism = 0 },
		"parallelism 1001":   func(o *Options) { o.Parallelism = 1001 },
		"image upper case":   func(o *Options) { o.Image = "Slogate:latest" },
		"image with space":   func(o *Options) { o.Image = "slogate latest" },
		"image empty tag":    func(o *Options) { o.Image = "slogate:" },
		"image upper path":   func(o *Options) { o.Image = "UPPER/slogate" },
		"namespace":          func(o *Options) { o.Namespace = "Perf_Tests" },
		"pvc":                func(o *Options) { o.PVC = "-results" },
		"name too long":      func(o *Options) { o.Name = strings.Repeat("a", 41) },
		"bundled service":    func(o *Options) { o.Target = "" },
		"mcp requests":       func(o *Options) { o.Scenario = mustResolve(t, "ioc-mcp"); o.Target = "http://ioc:8000" },
		"scenario is script": func(o *Options) { s := *o.Scenario; s.Script = "x.js"; o.Scenario = &s },
	}
	for name, mutate := range cases {
		o := base
		mutate(&o)
		_, err := Manifests(o)
		if !IsBadInput(err) {
			t.Errorf("%s: err %v, want bad input", name, err)
		}
	}
	if _, err := Manifests(base); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultName(t *testing.T) {
	for in, want := range map[string]string{
		"guard-baseline":        "slogate-guard-baseline",
		"Body File!":            "slogate-body-file",
		strings.Repeat("x", 60): "slogate-" + strings.Repeat("x", 32),
	} {
		if got := DefaultName(in); got != want || !dnsLabel.MatchString(got) {
			t.Errorf("DefaultName(%q) = %q, want %q", in, got, want)
		}
	}
}
