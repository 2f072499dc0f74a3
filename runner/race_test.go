//go:build race

package runner

// raceEnabled: the race detector slows every HTTP round trip by ~1 ms here.
const raceEnabled = true
