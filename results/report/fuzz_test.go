package report

import (
	"io"
	"testing"

	"github.com/slogate/slogate/results"
)

// FuzzRender renders every format of any result the reader accepts: a
// result that passes validation on read never panics a report or makes a
// chart loop without bound. testdata/fuzz/FuzzRender holds recorded results.
func FuzzRender(f *testing.F) {
	f.Add([]byte(`{"schema": "slogate.result/v1", "duration_s": 2, "intervals": [{"t_s": 0}, {"t_s": 2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := results.Decode(data)
		if err != nil {
			return
		}
		for _, format := range Formats() {
			if err := Write(io.Discard, format, r); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
	})
}
