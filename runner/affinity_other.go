//go:build !linux

package runner

import (
	"errors"
	"os/exec"
)

func startPinned(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) > 0 {
		return errors.New("pinning a service to CPUs needs Linux")
	}
	return cmd.Start()
}

// Affinity is not known off Linux.
func Affinity(int) ([]int, error) { return nil, errors.New("CPU affinity needs Linux") }

// PinProcess needs Linux.
func PinProcess([]int) (func(), error) { return nil, errors.New("CPU affinity needs Linux") }
