//go:build !unix

package guard

import "time"

// processCPU is not measured on this platform: cpu-µs/op reads 0.
func processCPU() time.Duration { return 0 }
