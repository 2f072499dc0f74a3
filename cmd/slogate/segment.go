package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/slogate/slogate/runner/plan"
)

// parseSegment reads --segment and --segment-sequence (k6's syntax and
// parser), or nil for a whole run.
func (f *runFlags) parseSegment() (*plan.Segment, error) {
	if f.segment == "" {
		if f.segmentSequence != "" {
			return nil, errors.New("--segment-sequence needs --segment")
		}
		return nil, nil
	}
	seg, err := plan.ParseSegment(f.segment, f.segmentSequence)
	if err != nil {
		return nil, fmt.Errorf("--segment: %w", err)
	}
	return seg, nil
}

// maxStartAhead bounds how far in the future --start-at may be.
const maxStartAhead = 24 * time.Hour

// parseStartAt reads --start-at: an RFC 3339 instant, no more than a second
// in the past and at most a day ahead of now; zero when not given.
func parseStartAt(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--start-at %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", v)
	}
	switch {
	case at.Before(now.Add(-time.Second)):
		return time.Time{}, fmt.Errorf("--start-at %s is %s in the past", v, now.Sub(at).Round(time.Second))
	case at.After(now.Add(maxStartAhead)):
		return time.Time{}, fmt.Errorf("--start-at %s is more than %s ahead", v, maxStartAhead)
	}
	return at, nil
}

// waitUntil sleeps until at (nothing for a zero time); ctx (Ctrl-C) ends
// the wait with an error, before any load.
func waitUntil(ctx context.Context, at time.Time, w io.Writer) error {
	if at.IsZero() {
		return nil
	}
	wait := time.Until(at)
	if wait <= 0 {
		return nil
	}
	fmt.Fprintf(w, "slogate: waiting %s for --start-at %s\n", wait.Round(time.Millisecond), at.Format(time.RFC3339Nano))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errors.New("interrupted while waiting for --start-at: nothing was sent")
	}
}
