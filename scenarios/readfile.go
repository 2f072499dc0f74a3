package scenarios

import (
	"fmt"
	"io"
	"os"
)

// ReadRegularFile reads path when it is a regular file of at most limit
// bytes: the one rule for every input file (scenarios, bodies, SLO files,
// CA certificates). A refusal is a *FileRefusal (its text does not repeat
// the path); a failure to read is the os error. A device (/dev/zero), a
// FIFO or a directory is refused before it is opened, and the read itself
// stops at limit+1 bytes in case the file grows in between, so no input can
// make it read without end.
func ReadRegularFile(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &FileRefusal{"is not a regular file"}
	}
	if info.Size() > limit {
		return nil, &FileRefusal{fmt.Sprintf("is %d bytes, above the %s limit", info.Size(), mib(limit))}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &FileRefusal{fmt.Sprintf("grew above the %s limit while read", mib(limit))}
	}
	return data, nil
}

// FileRefusal is why ReadRegularFile would not read a file.
type FileRefusal struct{ Msg string }

func (r *FileRefusal) Error() string { return r.Msg }

// mib writes a byte count for limit messages: "16 MiB", "1 MiB".
func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }
