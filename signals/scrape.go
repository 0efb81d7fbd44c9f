package signals

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/surge-dev/surge/result"
)

// Accept is the Accept header of a scrape: the Prometheus text format
// 0.0.4 or OpenMetrics 1.0.0. The text format is preferred because a
// server that speaks both then sends what expfmt's text parser reads
// directly; OpenMetrics is rewritten as text first (openMetricsToText).
const Accept = "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1"

// MaxBody bounds the body of one scrape.
const MaxBody = 32 << 20

// Scraper reads a Prometheus endpoint.
type Scraper struct {
	url    string
	name   string
	client *http.Client

	key    []byte
	om     bytes.Buffer // the body, as text (OpenMetrics rewritten)
	blocks blocks       // the families of the previous reading
	noSkip bool         // parse every family (tests: the reference)
	labels []*dto.LabelPair
	fams   []*dto.MetricFamily
}

// NewScraper returns a Scraper of the endpoint at rawURL (http or https),
// fetched with client (nil: a client of its own, which keeps its
// connection open between readings). Its Name is the URL with its secrets
// (userinfo, token-like query values) redacted by redact.
func NewScraper(rawURL string, client *http.Client, redact func(string) string) (*Scraper, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("scrape URL %q: expected an http:// or https:// URL with a host, such as http://127.0.0.1:9090/metrics", redact(rawURL))
	}
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: false}}
	}
	return &Scraper{url: rawURL, name: redact(rawURL), client: client}, nil
}

// Name implements Source.
func (s *Scraper) Name() string { return s.name }

// Read implements Source: one GET of the endpoint, its families parsed
// and added to r. A status other than 2xx fails the reading.
func (s *Scraper) Read(ctx context.Context, r *Reading) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return s.hide(err)
	}
	req.Header.Set("Accept", Accept)
	resp, err := s.client.Do(req)
	if err != nil {
		return s.hide(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("status %s", resp.Status)
	}
	format := expfmt.ResponseFormat(resp.Header)
	if format == expfmt.FmtUnknown {
		format = expfmt.FmtText
	}
	body := &limited{r: resp.Body, n: MaxBody}
	if err := s.parse(body, format, r); err != nil {
		return s.hide(err)
	}
	return nil
}

// hide keeps the URL's secrets out of an error: net/http names the URL
// in its errors.
func (s *Scraper) hide(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// parse decodes body and adds each sample to r.
func (s *Scraper) parse(body io.Reader, format expfmt.Format, r *Reading) error {
	s.om.Reset()
	switch format.FormatType() {
	case expfmt.TypeOpenMetrics:
		if err := openMetricsToText(body, &s.om); err != nil {
			return fmt.Errorf("parse: %w", err)
		}
	case expfmt.TypeTextPlain, expfmt.TypeUnknown:
		if _, err := s.om.ReadFrom(body); err != nil {
			return fmt.Errorf("read: %w", err)
		}
	default:
		return s.decode(expfmt.NewDecoder(body, format), r)
	}
	if s.noSkip {
		return s.decode(expfmt.NewDecoder(&s.om, expfmt.FmtText), r)
	}
	r.onCommit(s.blocks.commit)
	return s.decode(expfmt.NewDecoder(bytes.NewReader(s.blocks.changed(s.om.Bytes())), expfmt.FmtText), r)
}

// decode adds the samples of every family dec decodes to r.
func (s *Scraper) decode(dec expfmt.Decoder, r *Reading) error {
	s.fams = s.fams[:0]
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if err == io.EOF {
				break
			}
			return fmt.Errorf("parse: %w", err)
		}
		s.fams = append(s.fams, mf)
	}
	// The text decoder hands families over in map order: sort them, so
	// that a source's series are first seen in the same order every time.
	slices.SortFunc(s.fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	for _, mf := range s.fams {
		s.family(mf, r)
	}
	clear(s.fams)
	return nil
}

// family adds the samples of mf: a counter's, gauge's or untyped value
// under its name; a summary's quantiles (gauges) and _sum and _count
// (counters); a histogram's _bucket, _sum and _count (counters; gauges
// of a gauge histogram).
func (s *Scraper) family(mf *dto.MetricFamily, r *Reading) {
	name := mf.GetName()
	for _, m := range mf.GetMetric() {
		s.labels = append(s.labels[:0], m.GetLabel()...)
		slices.SortFunc(s.labels, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			s.add(r, name, "", "", "", result.SignalCounter, m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			s.add(r, name, "", "", "", result.SignalGauge, m.GetGauge().GetValue())
		case dto.MetricType_SUMMARY:
			q := m.GetSummary()
			for _, qq := range q.GetQuantile() {
				s.add(r, name, "", "quantile", formatFloat(qq.GetQuantile()), result.SignalGauge, qq.GetValue())
			}
			s.add(r, name, "_sum", "", "", result.SignalCounter, q.GetSampleSum())
			s.add(r, name, "_count", "", "", result.SignalCounter, float64(q.GetSampleCount()))
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			kind := result.SignalCounter
			if mf.GetType() == dto.MetricType_GAUGE_HISTOGRAM {
				kind = result.SignalGauge
			}
			h := m.GetHistogram()
			inf := false
			for _, b := range h.GetBucket() {
				le := b.GetUpperBound()
				inf = inf || le > 1e308
				s.add(r, name, "_bucket", "le", formatFloat(le), kind, float64(b.GetCumulativeCount()))
			}
			if !inf {
				s.add(r, name, "_bucket", "le", "+Inf", kind, float64(h.GetSampleCount()))
			}
			s.add(r, name, "_sum", "", "", kind, h.GetSampleSum())
			s.add(r, name, "_count", "", "", kind, float64(h.GetSampleCount()))
		default:
			s.add(r, name, "", "", "", result.SignalGauge, m.GetUntyped().GetValue())
		}
	}
	clear(s.labels)
}

// add adds one sample: name+suffix, the metric's labels (s.labels, sorted)
// with extra=value merged in at its place, in text form.
func (s *Scraper) add(r *Reading, name, suffix, extra, value, kind string, v float64) {
	k := append(append(s.key[:0], name...), suffix...)
	n := len(k)
	if len(s.labels) > 0 || extra != "" {
		k = append(k, '{')
		first := true
		put := func(ln, lv string) {
			if !first {
				k = append(k, ',')
			}
			first = false
			k = append(append(k, ln...), '=', '"')
			k = appendEscaped(k, lv)
			k = append(k, '"')
		}
		done := extra == ""
		for _, l := range s.labels {
			if !done && extra < l.GetName() {
				put(extra, value)
				done = true
			}
			if l.GetName() == extra {
				continue // the family's own quantile or le label
			}
			put(l.GetName(), l.GetValue())
		}
		if !done {
			put(extra, value)
		}
		k = append(k, '}')
	}
	s.key = k
	r.t.add(k, n, kind, v)
}

// appendEscaped appends a label value escaped as the text format does.
func appendEscaped(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// formatFloat formats a bucket bound or quantile as the text format does.
func formatFloat(f float64) string {
	switch {
	case f > 1e308:
		return "+Inf"
	case f < -1e308:
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// limited is an io.Reader that fails past n bytes, so that an endpoint
// answering without end fails its reading instead of filling memory.
type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("body over %d MiB", MaxBody>>20)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, fmt.Errorf("body over %d MiB", MaxBody>>20)
	}
	return n, err
}
