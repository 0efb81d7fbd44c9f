package result

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promFixture holds 61 readings, one a second, of the /metrics of a real
// Go server nobody on the project wrote: Prometheus 2.42.0 (Debian's
// package) scraping itself every second while a surge attack sent it 500
// queries/s. They are stored as the Scrapes a recorder makes of them
// (series at first sight, then only the changed values, counters as
// increases), in a results file of no results; -signals.record rebuilds
// it.
const promFixture = "prometheus-scrapes.srg"

var recordDir = flag.String("signals.record", "", "rebuild testdata/"+promFixture+" from the scrape-NN.txt exposition files and times.txt (NN start_ns took_ns per line) in this directory")

// TestSignalBytesPerRequest is the budget: with a 1 s scrape of a
// realistic endpoint, the results file of a 5,000 req/s run grows by less
// than 1 byte per request. The run is written with and without the
// readings among its results, and the difference is the signals' cost,
// the extra results-block flushes included.
func TestSignalBytesPerRequest(t *testing.T) {
	if *recordDir != "" {
		recordFixture(t, *recordDir)
	}
	ss := loadFixture(t)
	series, changed := 0, 0
	for _, s := range ss {
		series += len(s.New)
		changed += len(s.Values)
	}
	span := ss[len(ss)-1].At + time.Second
	const rate = 5000
	n := int(span.Seconds() * rate)
	rs := plainRun(n, rate)
	plain := len(writeWith(t, rs, nil))
	with := len(writeWith(t, rs, ss))
	per := float64(with-plain) / float64(n)

	var sw signalWriter
	first, _ := sw.encode(nil, &ss[0])
	rest := 0
	for i := range ss[1:] {
		b, _ := sw.encode(nil, &ss[1+i])
		rest += len(b)
	}
	t.Logf("%d readings of %d series, %.1f changed a reading; first reading %d bytes, then %.0f bytes a reading; "+
		"file %d → %d bytes for %d requests: %.3f bytes per request for the signals",
		len(ss), series, float64(changed)/float64(len(ss)-1), len(first), float64(rest)/float64(len(ss)-1), plain, with, n, per)
	if series < 100 || changed < 10*(len(ss)-1) {
		t.Fatalf("fixture of %d series, %d changes: not the realistic endpoint the budget is about", series, changed)
	}
	if per >= 1 {
		t.Errorf("server signals cost %.3f bytes per request at %d req/s with a 1 s scrape, want < 1", per, rate)
	}
}

// BenchmarkWriteScrape writes the fixture's readings, reporting the bytes
// a reading takes in the file.
func BenchmarkWriteScrape(b *testing.B) {
	ss := loadFixture(b)
	var cw countWriter
	w, err := NewWriter(&cw, &Meta{})
	if err != nil {
		b.Fatal(err)
	}
	start := cw.n
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// The steady readings: the first, with the definitions, is once
		// a run.
		if err := w.WriteScrape(&ss[1+i%(len(ss)-1)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cw.n-start)/float64(b.N), "bytes/scrape")
}

// BenchmarkReadScrape reads a file of the fixture's readings.
func BenchmarkReadScrape(b *testing.B) {
	ss := loadFixture(b)
	data := writeWith(b, nil, ss)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		rd := NewReader(bytes.NewReader(data))
		n := 0
		rd.Scrape = func(*Scrape) { n++ }
		var r Result
		for rd.Read(&r) == nil {
		}
		if n != len(ss) {
			b.Fatalf("%d readings, want %d", n, len(ss))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ss)), "ns/scrape")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// plainRun returns n results of a plain run at rate/s (as
// TestBytesPerRecordPlainRun).
func plainRun(n, rate int) []Result {
	rs := make([]Result, n)
	step := time.Second / time.Duration(rate)
	for i := range rs {
		at := time.Duration(i) * step
		rs[i] = Result{Seq: uint64(i), Label: "GET /", Intended: at, Sent: at + 40*time.Microsecond,
			Latency: 900*time.Microsecond + time.Duration(i%500)*time.Microsecond, Status: 200, BytesIn: 2,
			FirstByte: 800 * time.Microsecond}
	}
	return rs
}

// writeWith encodes rs with each of ss before the first result intended
// at or after its At.
func writeWith(t testing.TB, rs []Result, ss []Scrape) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, &Meta{ID: "budget"})
	if err != nil {
		t.Fatal(err)
	}
	j := 0
	for i := range rs {
		for ; j < len(ss) && ss[j].At <= rs[i].Intended; j++ {
			w.AddScrape(nil, &ss[j])
		}
		w.Add(nil, &rs[i])
	}
	for ; j < len(ss); j++ {
		w.AddScrape(nil, &ss[j])
	}
	if err := w.Close(); err != nil || w.Err() != nil {
		t.Fatalf("write: %v, %v", err, w.Err())
	}
	return buf.Bytes()
}

func loadFixture(t testing.TB) []Scrape {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", promFixture))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ss []Scrape
	rd := NewReader(f)
	rd.Scrape = func(s *Scrape) {
		c := *s
		c.New, c.Values = slices.Clone(s.New), slices.Clone(s.Values)
		ss = append(ss, c)
	}
	var r Result
	if err := rd.Read(&r); err != io.EOF || len(rd.Warnings()) != 0 {
		t.Fatalf("%s: %v, warnings %v", promFixture, err, rd.Warnings())
	}
	if len(ss) < 2 {
		t.Fatalf("%s: %d readings", promFixture, len(ss))
	}
	return ss
}

// recordFixture turns the exposition files of dir into the fixture.
func recordFixture(t *testing.T, dir string) {
	t.Helper()
	times, err := os.ReadFile(filepath.Join(dir, "times.txt"))
	if err != nil {
		t.Fatal(err)
	}
	const src = "http://127.0.0.1:9090/metrics"
	d := differ{source: src, last: map[string]*seen{}}
	var out bytes.Buffer
	w, err := NewWriter(&out, &Meta{ID: "prometheus-2.42.0-self", Targets: []string{"GET http://127.0.0.1:9090/api/v1/query?query=rate(prometheus_http_requests_total[10s])"}, Rate: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(times)), "\n") {
		var i int
		var at, took int64
		if _, err := fmt.Sscan(line, &i, &at, &took); err != nil {
			continue // the closing "done"
		}
		text, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("scrape-%02d.txt", i)))
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.read(text)
		if err != nil {
			t.Fatalf("scrape-%02d.txt: %v", i, err)
		}
		s.At, s.Took = time.Duration(at), time.Duration(took)
		if err := w.WriteScrape(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", promFixture), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// differ turns successive expositions of one source into Scrapes, as a
// recorder does: IDs in order of first sight, only changed values,
// counters as increases (a fall is a reset: the new total).
type differ struct {
	source string
	last   map[string]*seen
	nextID uint32
}

type seen struct {
	id      uint32
	counter bool
	v       float64
}

func (d *differ) read(text []byte) (*Scrape, error) {
	s := &Scrape{Source: d.source}
	types := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, v, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		key := name + labels
		p := d.last[key]
		if p == nil {
			d.nextID++
			p = &seen{id: d.nextID, counter: isCounter(name, types), v: v}
			d.last[key] = p
			kind := SignalGauge
			if p.counter {
				kind = SignalCounter
			}
			s.New = append(s.New, Series{ID: p.id, Source: d.source, Name: name, Labels: labels, Kind: kind, Initial: v})
			continue
		}
		change := v
		switch {
		case math.Float64bits(v) == math.Float64bits(p.v):
			continue
		case p.counter && v >= p.v:
			change = v - p.v
		}
		p.v = v
		s.Values = append(s.Values, SignalValue{ID: p.id, V: change})
	}
	return s, sc.Err()
}

// isCounter says whether a sample is a counter: a counter family's, or a
// histogram's or summary's _sum, _count or _bucket.
func isCounter(name string, types map[string]string) bool {
	if t, ok := types[name]; ok {
		return t == "counter"
	}
	for _, suf := range []string{"_sum", "_count", "_bucket"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if t := types[base]; t == "histogram" || t == "summary" {
				return true
			}
		}
	}
	return false
}

// parseSample reads `name{labels} value [timestamp]`, returning the labels
// with their names sorted.
func parseSample(line string) (name, labels string, v float64, err error) {
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return "", "", 0, fmt.Errorf("no metric name in %q", line)
	}
	name, rest := line[:i], line[i:]
	if rest[0] == '{' {
		var pairs []string
		j := 1
		for j < len(rest) && rest[j] != '}' {
			if rest[j] == ',' || rest[j] == ' ' {
				j++
				continue
			}
			eq := strings.IndexByte(rest[j:], '=')
			if eq < 0 || j+eq+1 >= len(rest) || rest[j+eq+1] != '"' {
				return "", "", 0, fmt.Errorf("bad label in %q", line)
			}
			k := j + eq + 2
			for k < len(rest) && rest[k] != '"' {
				if rest[k] == '\\' {
					k++
				}
				k++
			}
			if k >= len(rest) {
				return "", "", 0, fmt.Errorf("unterminated label value in %q", line)
			}
			pairs = append(pairs, rest[j:k+1])
			j = k + 1
		}
		if j >= len(rest) {
			return "", "", 0, fmt.Errorf("unterminated labels in %q", line)
		}
		slices.SortFunc(pairs, func(a, b string) int {
			return strings.Compare(a[:strings.IndexByte(a, '=')], b[:strings.IndexByte(b, '=')])
		})
		if len(pairs) > 0 {
			labels = "{" + strings.Join(pairs, ",") + "}"
		}
		rest = rest[j+1:]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", "", 0, fmt.Errorf("no value in %q", line)
	}
	v, err = strconv.ParseFloat(f[0], 64)
	return name, labels, v, err
}
