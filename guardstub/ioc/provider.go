package ioc

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// providerID names one of the four simulated threat-intel providers.
type providerID uint8

const (
	VirusTotal providerID = iota
	OTX
	AbuseIPDB
	IPinfo
	numProviders
)

var providerNames = [numProviders]string{"VirusTotal", "OTX", "AbuseIPDB", "IPinfo"}
var providerLabels = [numProviders]string{"virustotal", "otx", "abuseipdb", "ipinfo"}

func (p providerID) String() string { return providerNames[p] }
func (p providerID) label() string  { return providerLabels[p] }

// providersFor is the original's fan-out: VirusTotal and OTX for every IOC,
// AbuseIPDB and IPinfo for IPs only.
func providersFor(k Kind) []providerID {
	if k == KindIPv4 || k == KindIPv6 {
		return []providerID{VirusTotal, OTX, AbuseIPDB, IPinfo}
	}
	return []providerID{VirusTotal, OTX}
}

// digest is the providers' only source of "randomness": sha256 over the parts,
// each followed by a separator so ("ab","c") and ("a","bc") differ.
type digest [sha256.Size]byte

func newDigest(parts ...string) digest {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var d digest
	h.Sum(d[:0])
	return d
}

// unit maps bytes [i, i+4) to a float in [0, 1).
func (d digest) unit(i int) float64 {
	return float64(binary.BigEndian.Uint32(d[i:i+4])) / (1 << 32)
}

// intn maps bytes [i, i+4) to an int in [0, n).
func (d digest) intn(i, n int) int {
	return int(binary.BigEndian.Uint32(d[i:i+4]) % uint32(n))
}

// simulate answers what the provider would report for the IOC. It is a pure
// function of (seed, provider, canonical IOC): the same IOC always gets the same
// verdict, from any instance.
func simulate(p providerID, seed string, ioc *indicator) IOC {
	d := newDigest(seed, p.label(), ioc.canonical)
	switch p {
	case VirusTotal:
		return simulateVirusTotal(d, ioc)
	case OTX:
		return simulateOTX(d, ioc)
	case AbuseIPDB:
		return simulateAbuseIPDB(d, ioc)
	default:
		return simulateIPinfo(d, ioc)
	}
}

// vtEngines are the engine names a VirusTotal verdict lists (at most 34 flag an
// IOC: 30 malicious + 4 suspicious).
var vtEngines = []string{
	"Kaspersky", "BitDefender", "ESET-NOD32", "Fortinet", "Sophos", "McAfee", "Symantec", "Microsoft",
	"Avast", "AVG", "Avira", "ClamAV", "DrWeb", "F-Secure", "GData", "Ikarus", "K7AntiVirus",
	"Malwarebytes", "Panda", "Rising", "Tencent", "TrendMicro", "VIPRE", "Webroot", "Zillya",
	"ZoneAlarm", "Yandex", "Emsisoft", "Lionic", "CrowdStrike", "SentinelOne", "Cylance", "Elastic",
	"Google", "Alibaba", "Baidu", "Arcabit", "BitDefenderTheta", "CMC", "Cynet",
}

var (
	malwareTags = []string{"malware", "trojan", "phishing", "botnet", "c2", "ransomware", "cryptominer", "spam", "scanner", "exploit"}
	// aptTags appear on about 2 % of flagged IOCs so attribution sometimes fires;
	// each is in one of the original's attribution patterns.
	aptTags = []string{"APT29", "Cozy Bear", "Nobelium", "APT28", "Fancy Bear", "Sofacy", "Lazarus", "DPRK", "HIDDEN COBRA"}
)

const vtTotalEngines = 70

// simulateVirusTotal draws last_analysis_stats and scores them as the original:
// score = (malicious + 0.5*suspicious) / sum(stats) * 100, rounded to 1 decimal;
// Malicious if malicious > 0, else Suspicious if suspicious > 0, else Clean.
// About 70 % of IOCs have no malicious engine, 15 % 1-3, 15 % 4-30.
func simulateVirusTotal(d digest, ioc *indicator) IOC {
	malicious := 0
	switch r := d.unit(0); {
	case r < 0.70:
	case r < 0.85:
		malicious = 1 + d.intn(4, 3)
	default:
		malicious = 4 + d.intn(4, 27)
	}
	suspicious := 0
	if d.unit(8) >= 0.8 {
		suspicious = 1 + d.intn(12, 4)
	}
	stats := vtStats{Malicious: malicious, Suspicious: suspicious}
	stats.Harmless = d.intn(16, vtTotalEngines-malicious-suspicious+1)
	stats.Undetected = vtTotalEngines - malicious - suspicious - stats.Harmless
	res := newProviderIOC(ioc)
	res.Score = ptr(stats.score())
	res.Reputation = stats.reputation()
	start := d.intn(20, len(vtEngines))
	for i := range malicious + suspicious {
		res.Engines = append(res.Engines, vtEngines[(start+i)%len(vtEngines)])
	}
	first := seenTime(d, 24)
	res.FirstSeen = ptr(first.Format(isoSeconds))
	res.LastSeen = ptr(first.Add(time.Duration(d.intn(28, 400*24)) * time.Hour).Format(isoSeconds))
	if malicious > 0 {
		res.Tags = append(res.Tags, malwareTags[d.intn(4, len(malwareTags))])
		if d.unit(12) < 0.1 {
			res.Tags = append(res.Tags, aptTags[d.intn(16, len(aptTags))])
		}
	}
	res.Reports = []string{fmt.Sprintf("VirusTotal: %d malicious, %d suspicious out of %d engines", malicious, suspicious, stats.total())}
	return res
}

type vtStats struct{ Malicious, Suspicious, Harmless, Undetected int }

func (s vtStats) total() int { return s.Malicious + s.Suspicious + s.Harmless + s.Undetected }

func (s vtStats) score() float64 {
	if s.total() == 0 {
		return 0
	}
	return round1((float64(s.Malicious) + 0.5*float64(s.Suspicious)) / float64(s.total()) * 100)
}

func (s vtStats) reputation() string {
	switch {
	case s.Malicious > 0:
		return Malicious
	case s.Suspicious > 0:
		return Suspicious
	}
	return Clean
}

var pulseThemes = []string{
	"Emotet C2 infrastructure", "Phishing kit hosting", "Cobalt Strike beacons", "Mirai botnet scanners",
	"QakBot distribution", "Ransomware staging servers", "Credential harvesting campaign", "Cryptojacking pool",
	"APT28 Sofacy spear-phishing", "APT29 Nobelium infrastructure", "Lazarus cryptocurrency theft", "Malicious SSH brute force",
}

// simulateOTX draws a pulse count and scores it as the original: > 5 pulses is
// Malicious with score min(80 + pulses/2, 100); 1-5 is Suspicious with
// 40 + 8*pulses; 0 is Clean with 0. About 60 % of IOCs are in no pulse.
func simulateOTX(d digest, ioc *indicator) IOC {
	pulses := 0
	switch r := d.unit(0); {
	case r < 0.60:
	case r < 0.85:
		pulses = 1 + d.intn(4, 5)
	default:
		pulses = 6 + d.intn(4, 35)
	}
	score, rep := otxVerdict(pulses)
	res := newProviderIOC(ioc)
	res.Score, res.Reputation = ptr(score), rep
	start := d.intn(8, len(pulseThemes))
	for i := range min(pulses, 10) {
		name := pulseThemes[(start+i)%len(pulseThemes)]
		res.OTXPulses = append(res.OTXPulses, fmt.Sprintf("%s #%d", name, 1+d.intn(12, 900)+i))
		res.Tags = append(res.Tags, malwareTags[(start+i)%len(malwareTags)])
	}
	if pulses > 0 {
		first := seenTime(d, 16)
		res.FirstSeen = ptr(first.Format(isoSeconds))
		res.LastSeen = ptr(first.Add(time.Duration(d.intn(20, 200*24)) * time.Hour).Format(isoSeconds))
	}
	res.Reports = []string{fmt.Sprintf("OTX: Found in %d pulses", pulses)}
	return res
}

func otxVerdict(pulses int) (float64, string) {
	switch {
	case pulses > 5:
		return math.Min(float64(80+pulses/2), 100), Malicious
	case pulses > 0:
		return float64(40 + 8*pulses), Suspicious
	}
	return 0, Clean
}

var (
	usageTypes = []string{"Data Center/Web Hosting/Transit", "Fixed Line ISP", "Mobile ISP", "Commercial", "University/College/School", "Content Delivery Network"}
	ispDomains = []string{"hetzner.com", "ovh.net", "digitalocean.com", "amazonaws.com", "comcast.net", "chinanet.cn", "rostelecom.ru", "choopa.com"}
)

// simulateAbuseIPDB draws an abuse confidence and classifies it as the original:
// >= 80 Malicious, >= 20 Suspicious, else Clean; score = confidence.
func simulateAbuseIPDB(d digest, ioc *indicator) IOC {
	var confidence int
	switch r := d.unit(0); {
	case r < 0.70:
		confidence = d.intn(4, 20)
	case r < 0.85:
		confidence = 20 + d.intn(4, 60)
	default:
		confidence = 80 + d.intn(4, 21)
	}
	reports := d.intn(8, 3)
	if confidence > 0 {
		reports = 1 + d.intn(8, 500)
	}
	res := newProviderIOC(ioc)
	res.Score, res.Reputation = ptr(float64(confidence)), abuseVerdict(confidence)
	res.AbuseIPDBConfidence = ptr(confidence)
	res.Tags = []string{usageTypes[d.intn(12, len(usageTypes))], ispDomains[d.intn(16, len(ispDomains))]}
	if d.unit(20) < 0.03 {
		res.Tags = append(res.Tags, "TOR")
	}
	if reports > 0 {
		res.LastSeen = ptr(seenTime(d, 24).Format(isoSeconds) + "+00:00")
	}
	res.Reports = []string{fmt.Sprintf("AbuseIPDB: %d%% confidence score, %d report(s)", confidence, reports)}
	return res
}

func abuseVerdict(confidence int) string {
	switch {
	case confidence >= 80:
		return Malicious
	case confidence >= 20:
		return Suspicious
	}
	return Clean
}

type geo struct{ city, region, country, loc, org string }

var geoTable = []geo{
	{"Mountain View", "California", "US", "37.4056,-122.0775", "AS15169 Google LLC"},
	{"Ashburn", "Virginia", "US", "39.0437,-77.4875", "AS14618 Amazon.com, Inc."},
	{"Frankfurt am Main", "Hesse", "DE", "50.1155,8.6842", "AS24940 Hetzner Online GmbH"},
	{"Amsterdam", "North Holland", "NL", "52.3740,4.8897", "AS60781 LeaseWeb Netherlands B.V."},
	{"Moscow", "Moscow", "RU", "55.7522,37.6156", "AS12389 PJSC Rostelecom"},
	{"Beijing", "Beijing", "CN", "39.9075,116.3972", "AS4134 CHINANET-BACKBONE"},
	{"Pyongyang", "Pyongyang", "KP", "39.0339,125.7543", "AS131279 Star JV"},
	{"São Paulo", "São Paulo", "BR", "-23.5475,-46.6361", "AS28573 Claro NXT"},
	{"Singapore", "Singapore", "SG", "1.2897,103.8501", "AS14061 DigitalOcean, LLC"},
	{"London", "England", "GB", "51.5085,-0.1257", "AS5089 Virgin Media Limited"},
	{"Roubaix", "Hauts-de-France", "FR", "50.6942,3.1746", "AS16276 OVH SAS"},
	{"Tokyo", "Tokyo", "JP", "35.6895,139.6917", "AS2516 KDDI CORPORATION"},
}

// simulateIPinfo answers geolocation; as in the original it is "Informational"
// with score 0 (and that 0 counts in the merged mean).
func simulateIPinfo(d digest, ioc *indicator) IOC {
	g := geoTable[d.intn(0, len(geoTable))]
	res := newProviderIOC(ioc)
	res.Reputation, res.Score = Informational, ptr(0.0)
	res.City, res.Region, res.Country = ptr(g.city), ptr(g.region), ptr(g.country)
	res.ASN, res.Location = ptr(g.org), ptr(g.loc)
	res.Tags = []string{g.country, g.org}
	res.Reports = []string{fmt.Sprintf("IPinfo: Geolocation - %s, %s, %s; ASN - %s", g.city, g.region, g.country, g.org)}
	return res
}

// isoSeconds is Python's datetime.isoformat() without fractions, as the original
// prints first_seen/last_seen.
const isoSeconds = "2006-01-02T15:04:05"

var seenEpoch = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)

// seenTime is a deterministic date in 2019..2024 from bytes [i, i+4).
func seenTime(d digest, i int) time.Time {
	return seenEpoch.Add(time.Duration(d.intn(i, 6*365*24*3600)) * time.Second)
}

// latency draws one attempt's latency (see LatencyModel).
func (m LatencyModel) latency(p providerID, seed, canonical string, attempt int, scale float64) time.Duration {
	if scale == 0 || m.Max[p] == 0 {
		return 0
	}
	d := newDigest(seed, "latency", p.label(), canonical, fmt.Sprint(attempt))
	lo, hi := float64(m.Min[p]), float64(m.Max[p])
	l := lo + d.unit(0)*(hi-lo)
	if d.unit(4) < m.TailProbability {
		l *= m.TailFactor
	}
	return time.Duration(l * scale)
}

// failsAttempt reports whether the simulated provider answers 503 to this
// attempt (PROVIDER_ERROR_RATE), deterministically per (provider, IOC, attempt).
func failsAttempt(p providerID, seed, canonical string, attempt int, rate float64) bool {
	if rate <= 0 {
		return false
	}
	return newDigest(seed, "fault", p.label(), canonical, fmt.Sprint(attempt)).unit(0) < rate
}

// round1 rounds to 1 decimal, half to even like Python's round(x, 1) on exact halves.
func round1(f float64) float64 { return math.RoundToEven(f*10) / 10 }

func ptr[T any](v T) *T { return &v }
