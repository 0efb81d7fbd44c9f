package scenario

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSignals(t *testing.T) {
	src := "base_url: http://127.0.0.1:8088\nscrape: [/metrics, 'http://127.0.0.1:9100/metrics?token=x']\nscrape_interval: 500ms\nwatch: [4242, 7]\nrequests: [{url: /x}]\n"
	s, err := Parse(strings.NewReader(src), "scn.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://127.0.0.1:8088/metrics", "http://127.0.0.1:9100/metrics?token=x"}; !slices.Equal(s.ScrapeURLs(), want) {
		t.Errorf("ScrapeURLs = %q, want %q", s.ScrapeURLs(), want)
	}
	if s.Signals.Interval != 500*time.Millisecond || !slices.Equal(s.Signals.Watch, []int{4242, 7}) {
		t.Errorf("signals %+v", s.Signals)
	}
	moved, err := ParseWith(strings.NewReader(src), "scn.yaml", "", Options{BaseURL: "http://127.0.0.1:9999"})
	if err != nil {
		t.Fatal(err)
	}
	if got := moved.ScrapeURLs()[0]; got != "http://127.0.0.1:9999/metrics" {
		t.Errorf("after -base-url, the relative scrape URL is %q", got)
	}
	one, err := Parse(strings.NewReader("scrape: http://127.0.0.1:1/m\nwatch: 12\nrequests: [{url: http://h/}]\n"), "scn.yaml", "")
	if err != nil || len(one.Signals.Scrape) != 1 || !slices.Equal(one.Signals.Watch, []int{12}) {
		t.Errorf("single scrape and watch: %+v, %v", one.Signals, err)
	}
}

func TestParseSignalsErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"scrape: [/metrics]\nrequests: [{url: http://h/}]\n", `scn.yaml:1: scrape[0]: URL "/metrics" is relative and base_url is not set`},
		{"scrape:\n  - http://127.0.0.1/m\n  - ftp://h/m\nrequests: [{url: http://h/}]\n", "scn.yaml:3: scrape[1]: expected an http:// or https:// URL with a host (or a path joined with base_url), such as http://127.0.0.1:9090/metrics"},
		{"scrape_interval: 1ms\nrequests: [{url: http://h/}]\n", "scn.yaml:1: scrape_interval: expected a duration of at least 10ms, such as 1s, got 1ms"},
		{"watch: [12, nginx]\nrequests: [{url: http://h/}]\n", `scn.yaml:1: watch[1]: expected a process ID (a positive whole number), got "nginx"`},
		{"scrape: {url: x}\nrequests: [{url: http://h/}]\n", "scn.yaml:1: scrape: expected a list, got a mapping"},
	} {
		_, err := Parse(strings.NewReader(c.src), "scn.yaml", "")
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%q):\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}
