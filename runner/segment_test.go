package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/slogate/slogate/runner/plan"
)

// The shards of a sequence send between them exactly the requests one
// process sends: the same count, and the same mix entry for every request
// (the mix is a function of the request's number in the whole run).
func TestSegmentShardsSendTheWholeMixOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		var mu sync.Mutex
		got := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[r.URL.Path]++
			mu.Unlock()
		}))
		defer srv.Close()
		s := scenarioFor(t, srv.URL, "  - {name: api, path: /api, weight: 3}\n  - {name: img, path: /img, weight: 2}\nphases:\n  - {kind: constant, rate: 150, duration: 1s}\n  - {kind: ramp, from: 50, to: 250, duration: 1s}\n")
		whole := plan.NewSchedule(s)
		mix, err := plan.NewMix(s, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{}
		paths := []string{"/", "/api", "/img"}
		for i := int64(0); i < whole.Total(); i++ {
			want[paths[mix.Endpoint(i)]]++
		}
		const sequence = "0,1/3,1/2,1"
		var requests int64
		for _, v := range []string{"0:1/3", "1/3:1/2", "1/2:1"} {
			seg, err := plan.ParseSegment(v, sequence)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), s, wired(Options{Segment: seg}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Segment == nil || res.Segment.Value != v || res.Segment.Sequence != sequence {
				t.Errorf("segment %s: result holds %+v", v, res.Segment)
			}
			if share := whole.Segmented(seg).Total(); res.Generator.PlannedReqs != share || res.Summary.Requests != share {
				t.Errorf("segment %s: planned %d, sent %d, want its share %d", v, res.Generator.PlannedReqs, res.Summary.Requests, share)
			}
			requests += res.Summary.Requests
		}
		if requests != whole.Total() {
			t.Errorf("the shards sent %d requests, one process sends %d", requests, whole.Total())
		}
		mu.Lock()
		defer mu.Unlock()
		for _, p := range paths {
			if got[p] != want[p] {
				t.Errorf("%s: the shards sent %d, one process sends %d", p, got[p], want[p])
			}
		}
	})
}
