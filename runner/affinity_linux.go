package runner

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// startPinned starts cmd restricted to cpus (none: no restriction). A child
// inherits the CPU mask of the thread that forks it, so the mask is set on a
// locked thread around Start and put back after; every thread the child's
// runtime creates inherits it.
func startPinned(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) == 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return err
	}
	for _, c := range cpus {
		if c < 0 || c >= runtime.NumCPU() || !old.IsSet(c) {
			return fmt.Errorf("CPU %d is not available here (%d CPUs)", c, runtime.NumCPU())
		}
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return err
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &old); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// Affinity returns the CPUs process pid may run on.
func Affinity(pid int) ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for c := range 1024 {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// PinProcess restricts every thread of this process to cpus (threads the
// Go runtime starts later inherit the mask of the thread that starts
// them) and returns how to put the previous mask back. It is for a
// generator that must leave some CPUs to a pinned service (capacity
// --cores); a thread created between the listing and the pinning may keep
// the old mask, so the report says the pinning is best effort.
func PinProcess(cpus []int) (restore func(), err error) {
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, err
	}
	for _, c := range cpus {
		if c < 0 || c >= runtime.NumCPU() || !old.IsSet(c) {
			return nil, fmt.Errorf("CPU %d is not available here (%d CPUs)", c, runtime.NumCPU())
		}
		set.Set(c)
	}
	apply := func(mask *unix.CPUSet) error {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			// A thread that exited meanwhile is no error.
			if err := unix.SchedSetaffinity(tid, mask); err != nil && err != unix.ESRCH {
				return err
			}
		}
		return nil
	}
	if err := apply(&set); err != nil {
		_ = apply(&old)
		return nil, err
	}
	return func() { _ = apply(&old) }, nil
}
