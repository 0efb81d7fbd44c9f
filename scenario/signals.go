package scenario

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Signals are the server signals a scenario reads during its run: the
// Prometheus endpoints of its top-level scrape field (a URL, or a list;
// relative ones are joined with base_url when the run starts, so that
// -base-url moves them too), how often (scrape_interval), and the
// processes of its watch field (PIDs).
type Signals struct {
	Scrape   []string
	Interval time.Duration // 0: the run's default
	Watch    []int
}

// ScrapeURLs returns the scrape URLs, relative ones joined with the
// scenario's base URL.
func (s *Scenario) ScrapeURLs() []string {
	out := make([]string, len(s.Signals.Scrape))
	for i, u := range s.Signals.Scrape {
		if !strings.Contains(u, "://") {
			u = strings.TrimRight(s.BaseURL, "/") + "/" + strings.TrimLeft(u, "/")
		}
		out[i] = u
	}
	return out
}

// signals decodes the scrape, scrape_interval and watch fields.
func (p *parser) signals(m mapping) error {
	d, s := p.d, p.s
	if v := m.get("scrape"); v != nil {
		urls, err := d.strings(v, "scrape")
		if err != nil {
			return err
		}
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		for i, u := range urls {
			path := "scrape"
			if v.Kind == yaml.SequenceNode {
				path = fmt.Sprintf("scrape[%d]", i)
			}
			if !strings.Contains(u, "://") {
				if s.BaseURL == "" {
					return d.errorf(items[i], path, "URL %q is relative and base_url is not set", u)
				}
			} else if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				return d.errorf(items[i], path, "expected an http:// or https:// URL with a host (or a path joined with base_url), such as http://127.0.0.1:9090/metrics")
			}
		}
		s.Signals.Scrape = urls
	}
	if v := m.get("scrape_interval"); v != nil {
		iv, err := d.duration(v, "scrape_interval")
		if err != nil {
			return err
		}
		if iv < 10*time.Millisecond {
			return d.errorf(v, "scrape_interval", "expected a duration of at least 10ms, such as 1s, got %v", iv)
		}
		s.Signals.Interval = iv
	}
	if v := m.get("watch"); v != nil {
		ids, err := d.strings(v, "watch")
		if err != nil {
			return err
		}
		for i, id := range ids {
			n, err := strconv.Atoi(strings.TrimSpace(id))
			if err != nil || n <= 0 {
				node := v
				if v.Kind == yaml.SequenceNode {
					node = v.Content[i]
				}
				return d.errorf(node, fmt.Sprintf("watch[%d]", i), "expected a process ID (a positive whole number), got %q", id)
			}
			s.Signals.Watch = append(s.Signals.Watch, n)
		}
	}
	return nil
}
