package runner

import (
	"os/exec"
	"runtime"
	"testing"
)

func TestListeningLine(t *testing.T) {
	for line, want := range map[string]string{
		"slogate guard listening on http://127.0.0.1:4321 (upstream http://127.0.0.1:1)": "127.0.0.1:4321",
		`time=... level=INFO msg="IOC service listening" addr=127.0.0.1:8001`:            "127.0.0.1:8001",
		"echo target listening on [::1]:99":                                              "[::1]:99",
	} {
		m := listening.FindStringSubmatch(line)
		if m == nil || m[1] != want {
			t.Errorf("%q: %v, want %s", line, m, want)
		}
	}
	if listening.FindStringSubmatch("upstream at http://127.0.0.1:1") != nil {
		t.Error("a line without 'listening' matched")
	}
}

// A child started pinned runs on exactly those CPUs; this process keeps
// its own.
func TestStartPinned(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU affinity is Linux's")
	}
	mine, err := Affinity(0)
	if err != nil {
		t.Fatal(err)
	}
	cpu := mine[len(mine)-1]
	cmd := exec.Command("sleep", "10")
	if err := startPinned(cmd, []int{cpu}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	got, err := Affinity(cmd.Process.Pid)
	if err != nil || len(got) != 1 || got[0] != cpu {
		t.Fatalf("child on %v (%v), want [%d]", got, err, cpu)
	}
	after, _ := Affinity(0)
	if len(after) != len(mine) {
		t.Fatalf("this thread's CPUs changed: %v -> %v", mine, after)
	}
	if err := startPinned(exec.Command("true"), []int{4096}); err == nil {
		t.Fatal("a CPU that does not exist accepted")
	}
}
