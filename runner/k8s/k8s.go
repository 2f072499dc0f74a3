// Package k8s writes the Kubernetes manifests of a distributed run on
// k6-operator (grafana/k6-operator, TestRun CRD k6.io/v1alpha1):
//
//   - a ConfigMap with the k6 script the k6 engine generates for the
//     scenario (runner/k6.Script) and the effective scenario it loads;
//   - a TestRun whose N runners are the slogate image answering as `k6`:
//     k6-operator gives runner i --execution-segment (i-1)/N:i/N with the
//     whole sequence, and each runner writes its shard with the slogate
//     output to a shared volume (PVC);
//   - a suspended Job that runs `slogate merge` over the shards once the
//     TestRun has finished: its exit code is the run's one global verdict.
//
// The package only writes manifests; it talks to no cluster.
package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/slogate/slogate/runner"
	k6engine "github.com/slogate/slogate/runner/k6"
	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
)

// Defaults of Options.
const (
	DefaultImage = "ghcr.io/slogate/slogate:latest"
	DefaultPVC   = "slogate-results"
	// MaxParallelism bounds --parallelism.
	MaxParallelism = 1000
	// maxName leaves room for what k6-operator appends to the TestRun's
	// name (-initializer, -starter, -service-1000) within the 63
	// characters of a Kubernetes label value and Service name.
	maxName = 40
	// maxConfigMap is the API server's limit on a ConfigMap (1 MiB).
	maxConfigMap = 1 << 20
)

// Paths inside the pods.
const (
	// ScriptDir is where k6-operator mounts a script ConfigMap (always /test).
	ScriptDir = "/test"
	// ScriptFile is the script's key in the ConfigMap.
	ScriptFile = "test.js"
	// ResultsDir is where the PVC is mounted (its subdirectory named after
	// the TestRun, so runs of different names never mix their shards).
	ResultsDir = "/results"
	// ShardEnv holds each runner's own name (the runner Job's name,
	// <testrun>-<i>, from the pod's job-name label); kubelet expands
	// $(SLOGATE_SHARD) in the runner's command.
	ShardEnv = "SLOGATE_SHARD"
)

// Options describe one distributed run.
type Options struct {
	Scenario    *scenarios.Scenario
	Parallelism int
	Image       string // default DefaultImage
	Namespace   string // "" leaves it to kubectl's context
	PVC         string // default DefaultPVC
	Name        string // the TestRun's name; default slogate-<scenario>
	Target      string // base URL; default the scenario's target.url
}

// Error is bad input (the CLI exits 2).
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func bad(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// imageRef is a container image reference (distribution/reference):
	// [host[:port]/]path[:tag][@digest].
	imageRef = regexp.MustCompile(`^` +
		`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?` +
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
		`(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?` +
		`(?:@sha256:[0-9a-f]{64})?$`)
	nameUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)
)

// lowerPath reports whether the first component of an image reference is
// a registry (it has a "." or ":" or is localhost) or a lower-case path
// component, as container runtimes read it: "UPPER/app" is no registry and
// so an invalid repository name.
func lowerPath(image string) bool {
	first, _, found := strings.Cut(image, "/")
	if !found || strings.ContainsAny(first, ".:") || first == "localhost" {
		return true
	}
	return first == strings.ToLower(first)
}

// DefaultName is the TestRun's name for a scenario: slogate-<name>, made a
// DNS label of at most 40 characters.
func DefaultName(scenario string) string {
	n := "slogate-" + nameUnsafe.ReplaceAllString(strings.ToLower(scenario), "-")
	n = strings.Trim(n, "-")
	if len(n) > maxName {
		n = strings.TrimRight(n[:maxName], "-")
	}
	return n
}

func (o *Options) check() error {
	if o.Scenario == nil {
		return bad("no scenario")
	}
	if o.Parallelism < 1 || o.Parallelism > MaxParallelism {
		return bad("--parallelism must be 1..%d (got %d)", MaxParallelism, o.Parallelism)
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if len(o.Image) > 255 || !imageRef.MatchString(o.Image) || !lowerPath(o.Image) {
		return bad("--image %q is not a container image reference ([registry/]path[:tag][@sha256:digest])", o.Image)
	}
	if o.Namespace != "" && (len(o.Namespace) > 63 || !dnsLabel.MatchString(o.Namespace)) {
		return bad("--namespace %q is not a Kubernetes namespace name (lower-case DNS label)", o.Namespace)
	}
	if o.PVC == "" {
		o.PVC = DefaultPVC
	}
	if len(o.PVC) > 253 || !dnsSubdomain.MatchString(o.PVC) {
		return bad("--pvc %q is not a PersistentVolumeClaim name (lower-case DNS subdomain)", o.PVC)
	}
	if o.Name == "" {
		o.Name = DefaultName(o.Scenario.Name)
	}
	if len(o.Name) > maxName || !dnsLabel.MatchString(o.Name) {
		return bad("--name %q must be a lower-case DNS label of at most %d characters", o.Name, maxName)
	}
	s := o.Scenario
	if s.Script != "" {
		return bad("scenario %s runs a script of its own: give k6-operator that script directly", s.Name)
	}
	for i := range s.Requests {
		if s.Requests[i].Kind == "mcp" {
			return bad("scenario %s has MCP requests (kind: mcp), which the k6 engine does not support yet", s.Name)
		}
	}
	if o.Target == "" {
		o.Target = s.Target.URL
	}
	if o.Target == "" {
		return bad("scenario %s targets the bundled service %q, which does not run in the cluster: give --target URL", s.Name, s.Target.Service)
	}
	return nil
}

// Manifests returns the multi-document YAML of the run: the ConfigMap, the
// TestRun and the merge Job, in the order they are applied.
func Manifests(o Options) ([]byte, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	s := o.Scenario
	maxWorkers := s.Generator.MaxWorkers
	if maxWorkers == 0 {
		maxWorkers = runner.DefaultMaxWorkers(s.PeakRate())
	}
	script, err := k6engine.Script(plan.Job{
		Scenario:   s,
		Schedule:   plan.NewSchedule(s),
		BaseURL:    o.Target,
		MaxWorkers: maxWorkers,
		Timeout:    s.Target.Timeout.D(),
		Drain:      s.Generator.Drain.D(),
	})
	if err != nil {
		return nil, err
	}
	files, err := k6engine.ScenarioFiles(s, o.Target)
	if err != nil {
		return nil, err
	}
	files[ScriptFile] = []byte(script)
	size := 0
	data := map[string]string{}
	for k, v := range files {
		size += len(k) + len(v)
		data[k] = string(v)
	}
	if size > maxConfigMap-4096 {
		return nil, bad("scenario %s: script, scenario and bodies weigh %d bytes, above a ConfigMap's 1 MiB", s.Name, size)
	}

	docs := []any{configMap(o, data), testRun(o), mergeJob(o)}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by slogate k8s testrun: scenario %s on k6-operator, %d runners.\n", s.Name, o.Parallelism)
	fmt.Fprintf(&b, "# kubectl apply -f this; kubectl wait --for=jsonpath='{.status.stage}'=finished testrun/%s --timeout=...;\n", o.Name)
	fmt.Fprintf(&b, "# kubectl patch job/%s-merge -p '{\"spec\":{\"suspend\":false}}'; its exit code is the verdict.\n", o.Name)
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("k8s: encoding manifest: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("k8s: encoding manifest: %w", err)
		}
	}
	return b.Bytes(), nil
}

// IsBadInput reports whether err is the caller's fault.
func IsBadInput(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

type meta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

func (o Options) meta(name string) meta {
	return meta{Name: name, Namespace: o.Namespace, Labels: map[string]string{
		"app.kubernetes.io/name":       "slogate",
		"app.kubernetes.io/managed-by": "slogate",
		"slogate.dev/run":              o.Name,
	}}
}

// ConfigMapName is the name of the script ConfigMap of a TestRun.
func ConfigMapName(testRun string) string { return testRun + "-script" }

// MergeJobName is the name of the merge Job of a TestRun.
func MergeJobName(testRun string) string { return testRun + "-merge" }

func configMap(o Options, data map[string]string) any {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// A yaml.Node keeps the keys sorted and the script a literal block.
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: data[k]}
		if strings.Contains(data[k], "\n") {
			v.Style = yaml.LiteralStyle
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
	}
	return struct {
		APIVersion string    `yaml:"apiVersion"`
		Kind       string    `yaml:"kind"`
		Metadata   meta      `yaml:"metadata"`
		Data       yaml.Node `yaml:"data"`
	}{"v1", "ConfigMap", o.meta(ConfigMapName(o.Name)), *m}
}

type envVar struct {
	Name      string     `yaml:"name"`
	Value     string     `yaml:"value,omitempty"`
	ValueFrom *valueFrom `yaml:"valueFrom,omitempty"`
}

type valueFrom struct {
	FieldRef struct {
		FieldPath string `yaml:"fieldPath"`
	} `yaml:"fieldRef"`
}

// ImageUser is the uid (and gid) the image runs as (Dockerfile).
const ImageUser = 12345

type securityContext struct {
	FSGroup int `yaml:"fsGroup"`
}

// podSecurity makes the results volume writable by the image's user.
var podSecurity = securityContext{FSGroup: ImageUser}

type volume struct {
	Name                  string `yaml:"name"`
	PersistentVolumeClaim struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	SubPath   string `yaml:"subPath,omitempty"`
}

func (o Options) resultsVolume() ([]volume, []volumeMount) {
	var v volume
	v.Name = "slogate-results"
	v.PersistentVolumeClaim.ClaimName = o.PVC
	return []volume{v}, []volumeMount{{Name: v.Name, MountPath: ResultsDir, SubPath: o.Name}}
}

// ShardPath is where each runner writes its shard (ShardEnv expanded by
// kubelet).
const ShardPath = ResultsDir + "/shard-$(" + ShardEnv + ").json"

// RunnerArgs are the arguments the TestRun gives k6 (spec.args: exact
// argv, no shell). k6-operator adds the execution segment, --paused and
// the script. A generated script has no thresholds, and no summary keeps
// k6 from holding every sample (the slogate output folds them into HDR
// histograms); "--out" and its value are two elements so that the
// initializer's `k6 archive` leaves them out.
func RunnerArgs() []string {
	return []string{"--no-thresholds", "--summary-mode=disabled", "--out", k6engine.OutputName + "=" + ShardPath}
}

func testRun(o Options) any {
	shard := envVar{Name: ShardEnv, ValueFrom: &valueFrom{}}
	// The Job controller labels a runner's pod with its Job's name,
	// <testrun>-<i>: one distinct shard file per runner, the same one
	// when the TestRun runs again.
	shard.ValueFrom.FieldRef.FieldPath = "metadata.labels['batch.kubernetes.io/job-name']"
	env := []envVar{
		{Name: k6engine.EnvScenario, Value: ScriptDir + "/scenario.yaml"},
		{Name: k6engine.EnvTarget, Value: o.Target},
		shard,
	}
	for _, kv := range k6engine.Env {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, envVar{Name: k, Value: v})
	}
	vols, mounts := o.resultsVolume()
	type configMapRef struct {
		Name string `yaml:"name"`
		File string `yaml:"file"`
	}
	type runnerSpec struct {
		Image           string          `yaml:"image"`
		Env             []envVar        `yaml:"env"`
		SecurityContext securityContext `yaml:"securityContext"`
		Volumes         []volume        `yaml:"volumes"`
		VolumeMounts    []volumeMount   `yaml:"volumeMounts"`
	}
	type spec struct {
		Parallelism int `yaml:"parallelism"`
		Script      struct {
			ConfigMap configMapRef `yaml:"configMap"`
		} `yaml:"script"`
		Args   []string   `yaml:"args"`
		Runner runnerSpec `yaml:"runner"`
	}
	sp := spec{
		Parallelism: o.Parallelism,
		Args:        RunnerArgs(),
		Runner:      runnerSpec{Image: o.Image, Env: env, SecurityContext: podSecurity, Volumes: vols, VolumeMounts: mounts},
	}
	sp.Script.ConfigMap = configMapRef{Name: ConfigMapName(o.Name), File: ScriptFile}
	return struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   meta   `yaml:"metadata"`
		Spec       spec   `yaml:"spec"`
	}{"k6.io/v1alpha1", "TestRun", o.meta(o.Name), sp}
}

// MergeCommand is the merge Job's command: every shard of the run into
// one result, judged once; the exit code is the global verdict.
func MergeCommand() []string {
	return []string{"sh", "-c", "exec slogate merge " + ResultsDir + "/shard-*.json --out " + ResultsDir + "/result.json"}
}

func mergeJob(o Options) any {
	vols, mounts := o.resultsVolume()
	type container struct {
		Name         string        `yaml:"name"`
		Image        string        `yaml:"image"`
		Command      []string      `yaml:"command"`
		VolumeMounts []volumeMount `yaml:"volumeMounts"`
	}
	type podSpec struct {
		RestartPolicy   string          `yaml:"restartPolicy"`
		SecurityContext securityContext `yaml:"securityContext"`
		Containers      []container     `yaml:"containers"`
		Volumes         []volume        `yaml:"volumes"`
	}
	type template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec podSpec `yaml:"spec"`
	}
	type spec struct {
		// Suspended: applied with the TestRun, started once it finished.
		Suspend      bool     `yaml:"suspend"`
		BackoffLimit int      `yaml:"backoffLimit"`
		Template     template `yaml:"template"`
	}
	sp := spec{Suspend: true, BackoffLimit: 0}
	sp.Template.Metadata.Labels = o.meta("").Labels
	sp.Template.Spec = podSpec{
		RestartPolicy:   "Never",
		SecurityContext: podSecurity,
		Containers:      []container{{Name: "merge", Image: o.Image, Command: MergeCommand(), VolumeMounts: mounts}},
		Volumes:         vols,
	}
	return struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   meta   `yaml:"metadata"`
		Spec       spec   `yaml:"spec"`
	}{"batch/v1", "Job", o.meta(MergeJobName(o.Name)), sp}
}
