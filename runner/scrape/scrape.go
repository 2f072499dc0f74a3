// Package scrape collects a target's Prometheus metrics during a run: once
// before the load, every interval while it runs, and once after the drain.
// The samples become the result's server section (results.Server), over which
// PromQL objectives are evaluated.
//
// What it must not do: delay or break the load. It runs in its own goroutine
// with its own HTTP client and a per-scrape timeout; a target whose /metrics
// refuses, stalls, answers garbage or disappears is recorded (count and last
// error per URL) and never stops the run. Memory is bounded: at most
// results.MaxServerSeries series and results.MaxServerScrapes scrapes per
// target are kept, and a scrape body is read up to MaxBody.
package scrape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/slogate/slogate/results"
)

// MaxBody bounds one scrape's body; a larger exposition is a failed scrape.
const MaxBody = 32 << 20

// Target is one /metrics endpoint.
type Target struct {
	URL string
	// Job is the job label its series get ("guard", "ioc", or "slogate" for
	// an endpoint the user named); instance is the URL's host:port.
	Job string
}

// Config says what to scrape and how.
type Config struct {
	Targets  []Target
	Interval time.Duration // default 1 s
	Timeout  time.Duration // per scrape; default min(Interval, 5 s)
	// Keep selects the metric families kept; nil keeps all (up to the
	// bounds).
	Keep func(family string) bool
	// KeepName is written to results.Server.Keep.
	KeepName string
	// Client is the HTTP client for scrapes (TLS settings); default a new
	// client with its own transport.
	Client *http.Client
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Scraper runs the scrapes of one run.
type Scraper struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	targets []*targetState
	series  int // kept across all targets
	dropped int64
}

type targetState struct {
	results.ScrapeTarget                // as the result shows it (password redacted)
	fetchURL             string         // what is scraped
	byKey                map[string]int // series key -> index in series
	series               []*seriesState
}

type seriesState struct {
	labels map[string]string
	values []results.ServerValue
}

// Start scrapes every target once (before the load: this call returns when
// that first round is done or timed out), then keeps scraping every interval
// in the background until Stop.
func Start(ctx context.Context, cfg Config) (*Scraper, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("scrape: no targets")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = min(cfg.Interval, 5*time.Second)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: false}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Scraper{cfg: cfg, done: make(chan struct{})}
	for _, t := range cfg.Targets {
		u, err := url.Parse(t.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("metrics URL %q: want http(s)://host:port/path", t.URL)
		}
		job := t.Job
		if job == "" {
			job = "slogate"
		}
		s.targets = append(s.targets, &targetState{
			ScrapeTarget: results.ScrapeTarget{URL: u.Redacted(), Job: job, Instance: u.Host, IntervalS: cfg.Interval.Seconds(), TimesMs: []int64{}},
			fetchURL:     t.URL,
			byKey:        map[string]int{},
		})
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.round(ctx)
	go s.loop(ctx)
	return s, nil
}

func (s *Scraper) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.round(ctx)
		}
	}
}

// round scrapes every target concurrently, each with its own timeout.
func (s *Scraper) round(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range s.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.scrapeOne(ctx, i)
		}()
	}
	wg.Wait()
}

// Stop ends the background scrapes, scrapes every target a last time (after
// the drain) and returns what was collected.
func (s *Scraper) Stop() *results.Server {
	s.cancel()
	<-s.done
	s.round(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &results.Server{Keep: s.cfg.KeepName, DroppedSeries: s.dropped, Targets: []results.ScrapeTarget{}, Series: []results.ServerSeries{}}
	for ti, t := range s.targets {
		out.Targets = append(out.Targets, t.ScrapeTarget)
		if int64(len(t.TimesMs)) >= results.MaxServerScrapes {
			out.DroppedScrapes += t.Scrapes - int64(len(t.TimesMs))
		}
		for _, se := range t.series {
			vals := se.values
			if len(vals) < len(t.TimesMs) { // absent from the last scrapes
				vals = append(vals, make([]results.ServerValue, len(t.TimesMs)-len(vals))...)
			}
			out.Series = append(out.Series, results.ServerSeries{Target: ti, Labels: se.labels, Values: vals})
		}
	}
	return out
}

func (s *Scraper) scrapeOne(ctx context.Context, i int) {
	t := s.targets[i]
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	at := s.cfg.Now()
	vec, err := s.fetch(ctx, t.fetchURL, at)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return // the run ended while scraping: not the target's failure
		}
		t.Failures++
		t.LastError = err.Error()
		return
	}
	t.Scrapes++
	if len(t.TimesMs) >= results.MaxServerScrapes {
		return
	}
	idx := len(t.TimesMs)
	t.TimesMs = append(t.TimesMs, at.UnixMilli())
	for _, smp := range vec {
		name := string(smp.Metric[model.MetricNameLabel])
		if s.cfg.Keep != nil && !s.cfg.Keep(familyOf(name)) && !s.cfg.Keep(name) {
			continue
		}
		key := seriesKey(smp.Metric)
		si, ok := t.byKey[key]
		if !ok {
			if s.series >= results.MaxServerSeries {
				s.dropped++
				continue
			}
			lbls := make(map[string]string, len(smp.Metric)+2)
			for k, v := range smp.Metric {
				lbls[string(k)] = string(v)
			}
			lbls["job"], lbls["instance"] = t.Job, t.Instance
			si = len(t.series)
			t.byKey[key] = si
			t.series = append(t.series, &seriesState{labels: lbls})
			s.series++
		}
		se := t.series[si]
		if len(se.values) < idx { // absent from the scrapes between
			se.values = append(se.values, make([]results.ServerValue, idx-len(se.values))...)
		}
		if len(se.values) == idx {
			se.values = append(se.values, results.ServerValue{V: float64(smp.Value), Present: true})
		}
	}
}

// fetch GETs one exposition and flattens it into samples (histograms and
// summaries into their _bucket, _sum, _count and quantile series).
func (s *Scraper) fetch(ctx context.Context, u string, at time.Time) (model.Vector, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return parseExposition(resp.Body, expfmt.ResponseFormat(resp.Header), at)
}

// parseExposition reads one exposition (text or OpenMetrics; unknown
// formats as text), at most MaxBody bytes, into flat samples stamped at.
func parseExposition(r io.Reader, format expfmt.Format, at time.Time) (model.Vector, error) {
	body := &limitedReader{r: r, n: MaxBody}
	if format.FormatType() == expfmt.TypeUnknown {
		format = expfmt.NewFormat(expfmt.TypeTextPlain)
	}
	dec := expfmt.NewDecoder(body, format)
	var fams []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if err == io.EOF {
			break
		}
		if err != nil {
			if body.over {
				return nil, fmt.Errorf("exposition larger than %d MiB", MaxBody>>20)
			}
			return nil, fmt.Errorf("parsing the exposition: %w", err)
		}
		fams = append(fams, mf)
	}
	if body.over {
		return nil, fmt.Errorf("exposition larger than %d MiB", MaxBody>>20)
	}
	return expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.TimeFromUnixNano(at.UnixNano())}, fams...)
}

// limitedReader reads at most n bytes and remembers when there was more.
type limitedReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if k, _ := l.r.Read(one[:]); k > 0 {
			l.over = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// familyOf strips the suffixes a histogram or summary adds to its family's
// name, so that keeping "ddos_request_duration_seconds" keeps its buckets.
func familyOf(name string) string {
	for _, suf := range []string{"_bucket", "_sum", "_count", "_total", "_created"} {
		if f, ok := strings.CutSuffix(name, suf); ok {
			return f
		}
	}
	return name
}

func seriesKey(m model.Metric) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, string(k))
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(0xff)
		b.WriteString(string(m[model.LabelName(k)]))
		b.WriteByte(0xfe)
	}
	return b.String()
}
