package results

import (
	"strings"
	"testing"
)

// A hand-edited server section is refused on read, naming the field.
func TestServerValidated(t *testing.T) {
	ok := func() *Server {
		return &Server{
			Targets: []ScrapeTarget{{URL: "http://127.0.0.1:1/metrics", Scrapes: 2, TimesMs: []int64{1, 2}}},
			Series:  []ServerSeries{{Labels: map[string]string{"__name__": "up"}, Values: []ServerValue{{V: 1, Present: true}, {}}}},
		}
	}
	if err := ok().validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Server){
		"negative counts":    func(s *Server) { s.Targets[0].Failures = -1 },
		"does not exist":     func(s *Server) { s.Series[0].Target = 3 },
		"1 values for 2":     func(s *Server) { s.Series[0].Values = s.Series[0].Values[:1] },
		"no __name__ label":  func(s *Server) { delete(s.Series[0].Labels, "__name__") },
		"above the limit of": func(s *Server) { s.Targets[0].TimesMs = make([]int64, MaxServerScrapes+1) },
	}
	for want, spoil := range cases {
		s := ok()
		spoil(s)
		if err := s.validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}
