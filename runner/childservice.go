package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// ChildService starts a bundled service as its own process: exe (this
// program) with args (e.g. "serve", "guard", "--addr", "127.0.0.1:0"), the
// scenario's env on top of this process's environment. Its /metrics then
// describe the service alone (RSS, CPU, goroutines), not the generator
// beside it, and its CPU can be limited apart from the generator's (cpus:
// the CPUs it may run on, GOMAXPROCS set to match; nil: no limit).
//
// The service announces its loopback address on stderr in a line that says
// "listening" (bounded wait). Stop sends SIGTERM, waits
// up to five seconds, then kills; the child also dies with ctx.
func ChildService(exe string, args []string, defaultEnv map[string]string, cpus []int) StartFunc {
	return func(ctx context.Context, env map[string]string) (string, func(), error) {
		cmd := exec.Command(exe, args...)
		cmd.Env = os.Environ()
		merged := map[string]string{}
		for k, v := range defaultEnv {
			merged[k] = v
		}
		for k, v := range env {
			merged[k] = v
		}
		if len(cpus) > 0 {
			merged["GOMAXPROCS"] = fmt.Sprint(len(cpus))
		}
		keys := make([]string, 0, len(merged))
		for k := range merged {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			cmd.Env = append(cmd.Env, k+"="+merged[k])
		}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return "", nil, err
		}
		cmd.Stdout = io.Discard
		if err := startPinned(cmd, cpus); err != nil {
			return "", nil, fmt.Errorf("starting %s: %w", strings.Join(args, " "), err)
		}
		exited := make(chan struct{})
		urlc := make(chan string, 1)
		var tail []string // the last lines, for an error message
		go func() {
			sc := bufio.NewScanner(stderr)
			sent := false
			for sc.Scan() {
				line := sc.Text()
				if !sent {
					if m := listening.FindStringSubmatch(line); m != nil {
						urlc <- "http://" + m[1]
						sent = true
						continue
					}
					if len(tail) < 20 {
						tail = append(tail, line)
					}
				}
			}
			_ = cmd.Wait()
			close(exited)
		}()
		stop := func() {
			select {
			case <-exited:
				return
			default:
			}
			_ = cmd.Process.Signal(syscall.SIGTERM)
			t := time.NewTimer(5 * time.Second)
			defer t.Stop()
			select {
			case <-exited:
			case <-t.C:
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		go func() {
			select {
			case <-ctx.Done():
				stop()
			case <-exited:
			}
		}()
		wait := time.NewTimer(30 * time.Second)
		defer wait.Stop()
		select {
		case u := <-urlc:
			return u, stop, nil
		case <-exited:
			return "", nil, fmt.Errorf("%s exited before listening: %s", strings.Join(args, " "), strings.Join(tail, " | "))
		case <-wait.C:
			stop()
			return "", nil, errors.New(strings.Join(args, " ") + " did not announce its address within 30 s")
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		}
	}
}

// listening finds the loopback address in a service's "listening" line
// ("listening on http://127.0.0.1:PORT", or a log record with addr=...).
var listening = regexp.MustCompile(`listening.*?(?:https?://)?((?:127\.0\.0\.1|\[::1\]):[0-9]+)`)
