package ioc

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/slogate/slogate/scenarios/corpus"
)

func mustIndicator(t testing.TB, v string) *indicator {
	t.Helper()
	k, err := Detect(v)
	if err != nil {
		t.Fatalf("Detect(%q): %v", v, err)
	}
	return &indicator{value: v, kind: k, canonical: canonical(k, v, DetectStrict)}
}

// The formulas of the original, with the cases of its own tests
// (tests/test_threatintel.py: VT 5 of 70 malicious, OTX 3 pulses, AbuseIPDB 85).
func TestProviderFormulas(t *testing.T) {
	vt := vtStats{Malicious: 5, Suspicious: 0, Harmless: 60, Undetected: 5}
	if vt.score() != 7.1 || vt.reputation() != Malicious {
		t.Errorf("VT 5/70: score %v rep %s, want 7.1 Malicious", vt.score(), vt.reputation())
	}
	vt = vtStats{Malicious: 0, Suspicious: 3, Harmless: 67}
	if vt.score() != 2.1 || vt.reputation() != Suspicious {
		t.Errorf("VT 0+3/70: score %v rep %s, want 2.1 Suspicious", vt.score(), vt.reputation())
	}
	if s := (vtStats{Harmless: 70}); s.score() != 0 || s.reputation() != Clean {
		t.Errorf("VT clean: %v %s", s.score(), s.reputation())
	}
	for _, tt := range []struct {
		pulses int
		score  float64
		rep    string
	}{{0, 0, Clean}, {1, 48, Suspicious}, {3, 64, Suspicious}, {5, 80, Suspicious}, {6, 83, Malicious}, {40, 100, Malicious}, {400, 100, Malicious}} {
		if s, r := otxVerdict(tt.pulses); s != tt.score || r != tt.rep {
			t.Errorf("otxVerdict(%d) = %v %s, want %v %s", tt.pulses, s, r, tt.score, tt.rep)
		}
	}
	for c, want := range map[int]string{0: Clean, 19: Clean, 20: Suspicious, 79: Suspicious, 80: Malicious, 85: Malicious, 100: Malicious} {
		if got := abuseVerdict(c); got != want {
			t.Errorf("abuseVerdict(%d) = %s, want %s", c, got, want)
		}
	}
}

// TestSimulatedProvidersAreConsistent checks over the first 2000 corpus IOCs that
// every simulated answer obeys the original's formula for its own raw data, and
// that the verdict mix is what provider.go documents (tolerance +-5 points).
func TestSimulatedProvidersAreConsistent(t *testing.T) {
	iocs := corpus.IOCs()[:2000]
	var vtMalicious, otxListed, ips, abuseMalicious int
	for _, v := range iocs {
		in := mustIndicator(t, v)
		for _, p := range providersFor(in.kind) {
			r := simulate(p, "slogate", in)
			if r.Value != v || r.Type != in.kind.Type() || len(r.Reports) != 1 {
				t.Fatalf("%s %s: bad identity %+v", p, v, r)
			}
			switch p {
			case VirusTotal:
				var m, s, total int
				if _, err := fmt.Sscanf(r.Reports[0], "VirusTotal: %d malicious, %d suspicious out of %d engines", &m, &s, &total); err != nil {
					t.Fatalf("VT report %q: %v", r.Reports[0], err)
				}
				want := round1((float64(m) + 0.5*float64(s)) / float64(total) * 100)
				if *r.Score != want || r.Reputation != (vtStats{Malicious: m, Suspicious: s}).reputation() || len(r.Engines) != m+s {
					t.Fatalf("VT %s: %+v inconsistent with m=%d s=%d", v, r, m, s)
				}
				if m > 0 {
					vtMalicious++
				}
			case OTX:
				var n int
				fmt.Sscanf(r.Reports[0], "OTX: Found in %d pulses", &n)
				score, rep := otxVerdict(n)
				if *r.Score != score || r.Reputation != rep || len(r.OTXPulses) != min(n, 10) {
					t.Fatalf("OTX %s: %+v inconsistent with %d pulses", v, r, n)
				}
				if n > 0 {
					otxListed++
				}
			case AbuseIPDB:
				ips++
				c := *r.AbuseIPDBConfidence
				if *r.Score != float64(c) || r.Reputation != abuseVerdict(c) {
					t.Fatalf("AbuseIPDB %s: %+v", v, r)
				}
				if c >= 80 {
					abuseMalicious++
				}
			case IPinfo:
				if r.Reputation != Informational || *r.Score != 0 || r.Country == nil || r.ASN == nil {
					t.Fatalf("IPinfo %s: %+v", v, r)
				}
			}
		}
	}
	share := func(n, of int) float64 { return 100 * float64(n) / float64(of) }
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"VT malicious %", share(vtMalicious, len(iocs)), 30},
		{"OTX listed %", share(otxListed, len(iocs)), 40},
		{"AbuseIPDB >= 80 %", share(abuseMalicious, ips), 15},
	} {
		if c.got < c.want-5 || c.got > c.want+5 {
			t.Errorf("%s = %.1f, want %v +- 5", c.name, c.got, c.want)
		}
	}
}

func TestSimulationIsDeterministic(t *testing.T) {
	in := mustIndicator(t, "8.8.8.8")
	upper := mustIndicator(t, "2001:DB8::1")
	lower := mustIndicator(t, "2001:db8::1")
	differs := false
	for p := range numProviders {
		a, b := simulate(p, "slogate", in), simulate(p, "slogate", in)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two answers for the same IOC differ", p)
		}
		if !reflect.DeepEqual(simulate(p, "other-seed", in), a) {
			differs = true
		}
		x, y := simulate(p, "slogate", upper), simulate(p, "slogate", lower)
		x.Value, y.Value = "", ""
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s: spellings of one IPv6 address got different answers", p)
		}
	}
	if !differs {
		t.Error("PROVIDER_SEED changed no answer")
	}
}

func TestMergeResults(t *testing.T) {
	in := mustIndicator(t, "8.8.8.8")
	src := func(rep string, score *float64, reports ...string) IOC {
		r := newProviderIOC(in)
		r.Reputation, r.Score, r.Reports = rep, score, reports
		return r
	}
	tests := []struct {
		name      string
		sources   []IOC
		wantRep   string
		wantScore *float64
	}{
		{"any malicious", []IOC{src(Clean, ptr(0.0)), src(Malicious, ptr(90.0))}, Malicious, ptr(45.0)},
		{"suspicious beats clean", []IOC{src(Clean, ptr(0.0)), src(Suspicious, ptr(48.0))}, Suspicious, ptr(24.0)},
		{"informational ignored", []IOC{src(Clean, ptr(0.0)), src(Informational, ptr(0.0))}, Clean, ptr(0.0)},
		{"IPinfo 0 counts in the mean (kept)", []IOC{src(Malicious, ptr(30.0)), src(Informational, ptr(0.0))}, Malicious, ptr(15.0)},
		{"failed provider + clean = Unknown (kept)", []IOC{src(Clean, ptr(0.0)), failedIOC(in, "VirusTotal: rate limit exceeded")}, Unknown, ptr(0.0)},
		{"only informational", []IOC{src(Informational, ptr(0.0))}, Unknown, ptr(0.0)},
		{"no scores", []IOC{failedIOC(in, "x"), failedIOC(in, "y")}, Unknown, nil},
		{"rounding", []IOC{src(Suspicious, ptr(2.1)), src(Clean, ptr(0.0)), src(Clean, ptr(0.0))}, Suspicious, ptr(0.7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeResults(in, tt.sources)
			if got.Reputation != tt.wantRep || !reflect.DeepEqual(got.Score, tt.wantScore) {
				t.Errorf("merge = %s %v, want %s %v", got.Reputation, fmtScore(got.Score), tt.wantRep, fmtScore(tt.wantScore))
			}
		})
	}

	a, b := newProviderIOC(in), newProviderIOC(in)
	a.Reports, b.Reports = []string{"r1", "r2"}, []string{"r2", "r3"}
	a.Tags, b.Tags = []string{"z", "a"}, []string{"m", "a"}
	a.FirstSeen, b.FirstSeen = ptr("2021-01-01T00:00:00"), ptr("2020-05-05T00:00:00")
	a.LastSeen, b.LastSeen = ptr("2022-01-01T00:00:00"), ptr("2021-05-05T00:00:00")
	a.AbuseIPDBConfidence, b.AbuseIPDBConfidence = ptr(10), ptr(90)
	b.City = ptr("Tokyo")
	got := mergeResults(in, []IOC{a, b})
	if !slices.Equal(got.Reports, []string{"r1", "r2", "r3"}) || !slices.Equal(got.Tags, []string{"a", "m", "z"}) {
		t.Errorf("reports %q tags %q: want first-seen order and sorted tags", got.Reports, got.Tags)
	}
	if *got.FirstSeen != "2020-05-05T00:00:00" || *got.LastSeen != "2022-01-01T00:00:00" || *got.AbuseIPDBConfidence != 90 || *got.City != "Tokyo" {
		t.Errorf("merged seen/confidence/geo wrong: %+v", got)
	}
}

func fmtScore(s *float64) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprint(*s)
}

func TestAttribution(t *testing.T) {
	mk := func(tags []string, reports ...string) IOC {
		return IOC{Tags: tags, Reports: reports}
	}
	tests := []struct {
		name  string
		iocs  []IOC
		actor string
		conf  int
	}{
		{"none", []IOC{mk(nil, "VirusTotal: 0 malicious")}, "Unknown", 0},
		{"tag + report text", []IOC{mk([]string{"APT28"}, "seen in a Sofacy campaign")}, "APT28", 40},
		{"tie goes to the first pattern", []IOC{mk([]string{"Russia"})}, "APT29", 20},
		{"lazarus by pulse text", []IOC{{OTXPulses: []string{"Lazarus cryptocurrency theft #12"}}}, "Lazarus", 40},
		{"capped at 100", []IOC{mk([]string{"APT28", "Fancy Bear", "GRU", "Sofacy", "Sednit", "Strontium"})}, "APT28", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := attribute(tt.iocs)
			if a.Actor != tt.actor || a.Confidence != tt.conf {
				t.Errorf("attribute = %s %d, want %s %d", a.Actor, a.Confidence, tt.actor, tt.conf)
			}
		})
	}
}
