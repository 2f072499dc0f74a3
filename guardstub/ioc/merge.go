package ioc

import (
	"slices"
	"strings"
)

// Reputations, as the original spells them.
const (
	Malicious     = "Malicious"
	Suspicious    = "Suspicious"
	Clean         = "Clean"
	Unknown       = "Unknown"
	Informational = "Informational"
)

// IOC is one analysed indicator with the original's JSON field names (its
// pydantic IOC model), plus two fields of ours: partial and failed_providers.
type IOC struct {
	Value               string   `json:"value"`
	Type                string   `json:"type"`
	Reputation          string   `json:"reputation"`
	Score               *float64 `json:"score"`
	Engines             []string `json:"engines"`
	Reports             []string `json:"reports"`
	OTXPulses           []string `json:"otx_pulses"`
	AbuseIPDBConfidence *int     `json:"abuseipdb_confidence"`
	FirstSeen           *string  `json:"first_seen"`
	LastSeen            *string  `json:"last_seen"`
	Tags                []string `json:"tags"`
	City                *string  `json:"city"`
	Region              *string  `json:"region"`
	Country             *string  `json:"country"`
	ASN                 *string  `json:"asn"`
	Location            *string  `json:"location"`

	// Partial is true when a provider failed, was rate-limited or had its
	// circuit open, so the verdict rests on fewer sources (not in the original).
	Partial bool `json:"partial"`
	// FailedProviders names those providers (not in the original).
	FailedProviders []string `json:"failed_providers,omitempty"`
}

// newProviderIOC is an empty per-provider answer; list fields are non-nil so they
// encode as [] like the original's pydantic defaults.
func newProviderIOC(in *indicator) IOC {
	return IOC{Value: in.value, Type: in.kind.Type(), Reputation: Unknown,
		Engines: []string{}, Reports: []string{}, OTXPulses: []string{}, Tags: []string{}}
}

// failedIOC is what a failed provider contributes, as in the original: reputation
// Unknown, no score, one report line saying why.
func failedIOC(in *indicator, report string) IOC {
	res := newProviderIOC(in)
	res.Reports = []string{report}
	return res
}

// mergeResults follows the original's _merge_ioc_results:
//
//   - reputation ignores Informational: any Malicious -> Malicious, else any
//     Suspicious -> Suspicious, else all Clean (at least one) -> Clean, else
//     Unknown. Kept: a failed provider (Unknown) plus clean answers gives Unknown.
//   - score is the mean of the non-null scores, IPinfo's 0 included (kept),
//     rounded to 1 decimal.
//   - abuseipdb_confidence is the last non-null value, first_seen the minimum and
//     last_seen the maximum (string comparison), geolocation the first non-null.
//
// Fixed: the original deduplicates reports, engines and pulses through set(), so
// their order changes from run to run; here they keep first-seen order, and tags
// are sorted, so a report is byte-for-byte reproducible.
func mergeResults(in *indicator, sources []IOC) IOC {
	out := newProviderIOC(in)
	var reps []string
	var scores []float64
	tags := map[string]struct{}{}
	for _, r := range sources {
		if r.Reputation != "" && r.Reputation != Informational {
			reps = append(reps, r.Reputation)
		}
		if r.Score != nil {
			scores = append(scores, *r.Score)
		}
		out.Reports = appendUnique(out.Reports, r.Reports...)
		out.Engines = appendUnique(out.Engines, r.Engines...)
		out.OTXPulses = appendUnique(out.OTXPulses, r.OTXPulses...)
		for _, t := range r.Tags {
			tags[t] = struct{}{}
		}
		if r.AbuseIPDBConfidence != nil {
			out.AbuseIPDBConfidence = r.AbuseIPDBConfidence
		}
		if r.FirstSeen != nil && (out.FirstSeen == nil || *r.FirstSeen < *out.FirstSeen) {
			out.FirstSeen = r.FirstSeen
		}
		if r.LastSeen != nil && (out.LastSeen == nil || *r.LastSeen > *out.LastSeen) {
			out.LastSeen = r.LastSeen
		}
		out.City = firstNonEmpty(out.City, r.City)
		out.Region = firstNonEmpty(out.Region, r.Region)
		out.Country = firstNonEmpty(out.Country, r.Country)
		out.ASN = firstNonEmpty(out.ASN, r.ASN)
		out.Location = firstNonEmpty(out.Location, r.Location)
	}
	out.Reputation = mergeReputation(reps)
	if len(scores) > 0 {
		var sum float64
		for _, s := range scores {
			sum += s
		}
		out.Score = ptr(round1(sum / float64(len(scores))))
	}
	for t := range tags {
		out.Tags = append(out.Tags, t)
	}
	slices.Sort(out.Tags)
	return out
}

func mergeReputation(reps []string) string {
	switch {
	case slices.Contains(reps, Malicious):
		return Malicious
	case slices.Contains(reps, Suspicious):
		return Suspicious
	case len(reps) > 0 && !slices.ContainsFunc(reps, func(r string) bool { return r != Clean }):
		return Clean
	}
	return Unknown
}

func appendUnique(dst []string, src ...string) []string {
	for _, s := range src {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func firstNonEmpty(cur, next *string) *string {
	if cur != nil && *cur != "" {
		return cur
	}
	if next != nil && *next != "" {
		return next
	}
	return cur
}

// Attribution is the original's APTAttribution.
type Attribution struct {
	Actor           string   `json:"actor"`
	Group           string   `json:"group"`
	TargetRegion    string   `json:"target_region"`
	TargetSectors   []string `json:"target_sectors"`
	Motive          string   `json:"motive"`
	Summary         string   `json:"summary"`
	MitreTechniques []string `json:"mitre_techniques"`
	Confidence      int      `json:"confidence"`
}

type aptPattern struct {
	actor, group, region, motive, summary string
	tags                                  []string
	techniques                            []string
}

// aptPatterns is the original's fixed attribution table, in its order (the first
// best match wins ties).
var aptPatterns = []aptPattern{
	{"APT29", "Cozy Bear", "North America, Europe", "Espionage",
		"APT29, also known as Cozy Bear, is a Russian state-sponsored group active since at least 2008. Recent activity includes targeting government and critical infrastructure in 2024.",
		[]string{"Russia", "CozyBear", "Cozy Bear", "SVR", "government", "APT29", "Nobelium", "The Dukes"},
		[]string{"T1566", "T1104", "T1573"}},
	{"APT28", "Fancy Bear", "Eastern Europe, NATO countries", "Military Intelligence",
		"APT28, also known as Fancy Bear or Fighting Ursa, is a Russian military intelligence group that primarily targets government, military, and security organizations.",
		[]string{"Russia", "FancyBear", "Fancy Bear", "GRU", "military", "APT28", "Fighting Ursa", "Sofacy", "Sednit", "Pawn Storm", "Strontium"},
		[]string{"T1566.001", "T1012", "T1489"}},
	{"Lazarus", "Lazarus Group", "Global, Financial Sector", "Financial Gain, Sanctions Evasion",
		"Lazarus Group is a North Korean state-sponsored threat actor known for financial theft, cryptocurrency heists, and destructive attacks.",
		[]string{"North Korea", "DPRK", "financial", "cryptocurrency", "Lazarus", "HIDDEN COBRA"},
		[]string{"T1133", "T1190", "T1486"}},
}

// attribute is the original's determine_attribution: collect the IOCs' tags, add
// every pattern tag found (case-insensitively) in the reports and pulse names,
// pick the pattern with the largest tag overlap; confidence = min(20*overlap, 100).
func attribute(iocs []IOC) Attribution {
	tags := map[string]struct{}{}
	var text strings.Builder
	for _, i := range iocs {
		for _, t := range i.Tags {
			tags[t] = struct{}{}
		}
		for _, r := range i.Reports {
			text.WriteString(r)
			text.WriteByte(' ')
		}
		for _, p := range i.OTXPulses {
			text.WriteString(p)
			text.WriteByte(' ')
		}
	}
	combined := strings.ToLower(text.String())
	for _, p := range aptPatterns {
		for _, t := range p.tags {
			if strings.Contains(combined, strings.ToLower(t)) {
				tags[t] = struct{}{}
			}
		}
	}
	best, bestOverlap := -1, 0
	for i, p := range aptPatterns {
		overlap := 0
		for _, t := range p.tags {
			if _, ok := tags[t]; ok {
				overlap++
			}
		}
		if overlap > bestOverlap {
			best, bestOverlap = i, overlap
		}
	}
	if best < 0 {
		return Attribution{Actor: "Unknown", Group: "Unattributed", TargetRegion: "Unknown",
			TargetSectors: []string{"Unknown"}, Motive: "Unknown", Summary: "Insufficient data for attribution",
			MitreTechniques: []string{}, Confidence: 0}
	}
	p := aptPatterns[best]
	return Attribution{Actor: p.actor, Group: p.group, TargetRegion: p.region,
		TargetSectors: []string{"Government", "Critical Infrastructure"}, Motive: p.motive,
		Summary: p.summary, MitreTechniques: slices.Clone(p.techniques), Confidence: min(20*bestOverlap, 100)}
}
