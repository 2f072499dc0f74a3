package ioc

import (
	"testing"

	"github.com/slogate/slogate/scenarios/corpus"
)

// TestCorpusIsValid: every entry of the scenario corpus is an IOC under strict
// detection, and all seven kinds are there.
func TestCorpusIsValid(t *testing.T) {
	kinds := map[Kind]int{}
	for _, v := range corpus.IOCs() {
		k, err := Detect(v)
		if err != nil {
			t.Fatalf("corpus entry %q rejected: %v", v, err)
		}
		kinds[k]++
	}
	for k := KindIPv4; k <= KindDomain; k++ {
		if kinds[k] == 0 {
			t.Errorf("corpus has no %v", k)
		}
	}
	t.Logf("corpus kinds: %v", kinds)
}
