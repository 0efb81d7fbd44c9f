package result

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sampleScrapes returns readings of two sources whose values take every
// encoding: small and large integers, negative ones, float32 and float64
// values, -0, infinities and NaN; a failed reading; a reading of nothing
// changed.
func sampleScrapes() []Scrape {
	const src = "http://127.0.0.1:9090/metrics"
	return []Scrape{
		{At: 0, Took: 3 * time.Millisecond, Source: src, New: []Series{
			{ID: 1, Source: src, Name: "go_goroutines", Kind: SignalGauge, Initial: 42},
			{ID: 2, Source: src, Name: "go_gc_duration_seconds_sum", Kind: SignalCounter, Initial: 0.0123456789},
			{ID: 3, Source: src, Name: "http_requests_total", Labels: `{code="200",method="get"}`, Kind: SignalCounter, Initial: 1e15},
			{ID: 4, Source: src, Name: "http_requests_total", Labels: `{code="500",method="get"}`, Kind: SignalCounter, Initial: 0},
			{ID: 5, Source: src, Name: "temperature", Kind: SignalGauge, Initial: -12.5},
		}},
		{At: 1e9 + 12345, Took: 2 * time.Millisecond, Source: "pid:1234", New: []Series{
			{ID: 6, Source: "pid:1234", Name: "process_resident_memory_bytes", Kind: SignalGauge, Initial: 123456789},
			{ID: 7, Source: "pid:1234", Name: "odd", Kind: SignalGauge, Initial: math.Inf(-1)},
		}},
		{At: 1e9 + 50000, Took: 3100 * time.Microsecond, Source: src, Values: []SignalValue{
			{ID: 1, V: 44}, {ID: 2, V: 0.000234}, {ID: 3, V: 5000}, {ID: 5, V: math.Copysign(0, -1)},
		}},
		{At: 2e9, Took: time.Second, Source: src, Err: "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"},
		{At: 2e9 + 7, Took: 1500 * time.Microsecond, Source: "pid:1234", Values: []SignalValue{
			{ID: 6, V: -4096}, {ID: 7, V: math.NaN()},
		}},
		{At: 3e9, Took: 2 * time.Millisecond, Source: src, New: []Series{
			{ID: 8, Source: src, Name: "http_requests_total", Labels: `{code="503",method="get"}`, Kind: SignalCounter, Initial: 3},
		}, Values: []SignalValue{
			// Out of ID order: written, and read back, in ID order.
			{ID: 8, V: 0.5}, {ID: 3, V: 1 << 60}, {ID: 1, V: -1},
		}},
		{At: 4e9, Took: 2 * time.Millisecond, Source: src},
	}
}

// sortedValues returns s with its Values in ID order, as they are read.
func sortedValues(ss []Scrape) []Scrape {
	out := make([]Scrape, len(ss))
	for i, s := range ss {
		s.Values = slices.Clone(s.Values)
		slices.SortStableFunc(s.Values, cmpID)
		out[i] = s
	}
	return out
}

// readEvent is one thing a Reader handed out, in order.
type readEvent struct {
	results int // results returned before it
	scrape  Scrape
}

// readAllScrapes reads data, collecting the readings with the number of
// results returned before each.
func readAllScrapes(t testing.TB, data []byte, bufSize int) ([]Result, []readEvent, *Reader, error) {
	t.Helper()
	var ev []readEvent
	var n int
	rd := newReaderSize(bytes.NewReader(data), bufSize)
	rd.Scrape = func(s *Scrape) { ev = append(ev, readEvent{n, cloneScrape(s)}) }
	var out []Result
	for {
		var r Result
		err := rd.Read(&r)
		if errors.Is(err, io.EOF) {
			return out, ev, rd, nil
		}
		if err != nil {
			return out, ev, rd, err
		}
		out = append(out, r)
		n++
		if len(out) > len(data) {
			t.Fatalf("%d results out of %d bytes", len(out), len(data))
		}
	}
}

// cloneScrape copies s, which the Reader reuses after the call.
func cloneScrape(s *Scrape) Scrape {
	c := *s
	c.New = slices.Clone(s.New)
	c.Values = slices.Clone(s.Values)
	return c
}

var equateScrapes = cmp.Options{cmp.Comparer(func(a, b float64) bool {
	// Tell -0 from 0, NaN from NaN by bits too.
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
})}

// TestScrapeRoundTrip writes readings among results and reads them back,
// each after exactly the results written before it.
func TestScrapeRoundTrip(t *testing.T) {
	rs := sample(3000, 41)
	ss := sampleScrapes()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, &Meta{ID: "run-1", Start: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var want []readEvent
	for i := range rs {
		if i%400 == 399 && len(want) < len(ss) {
			s := ss[len(want)]
			s.Run = 7 // ignored by the Writer
			w.AddScrape(nil, &s)
			want = append(want, readEvent{i, sortedValues([]Scrape{ss[len(want)]})[0]})
		}
		w.Add(nil, &rs[i])
	}
	for _, s := range ss[len(want):] {
		w.AddScrape(nil, &s)
		want = append(want, readEvent{len(rs), sortedValues([]Scrape{s})[0]})
	}
	if err := w.Close(); err != nil || w.Err() != nil {
		t.Fatalf("close: %v, Err %v", err, w.Err())
	}
	for _, size := range []int{64, 256 << 10} {
		got, ev, rd, err := readAllScrapes(t, buf.Bytes(), size)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rs, got); diff != "" {
			t.Fatalf("results differ with readings among them:\n%s", diff)
		}
		if diff := cmp.Diff(want, ev, cmp.AllowUnexported(readEvent{}), equateScrapes); diff != "" {
			t.Fatalf("buffer %d: readings differ (-want +got):\n%s", size, diff)
		}
		if run := rd.Runs()[0]; run.Lost() || len(rd.Warnings()) != 0 {
			t.Fatalf("run %+v, warnings %v; want nothing lost", run, rd.Warnings())
		}
	}

	// A reader that takes no signals (Scrape nil, as in every reader
	// before kind 4) reads the same results and warns of nothing.
	got, rd, err := readAll(t, buf.Bytes())
	if err != nil || !cmp.Equal(rs, got) || len(rd.Warnings()) != 0 || rd.Runs()[0].Lost() {
		t.Fatalf("without Scrape: %d results, %v, warnings %v", len(got), err, rd.Warnings())
	}
}

// TestScrapeRun: Scrape.Run is the run's index among concatenated files.
func TestScrapeRun(t *testing.T) {
	var data []byte
	for i := range 3 {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, &Meta{ID: "run"})
		if err != nil {
			t.Fatal(err)
		}
		w.Add(nil, &Result{Seq: 1, Status: 200})
		w.AddScrape(nil, &Scrape{At: time.Duration(i), Source: "pid:1"})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		data = append(data, buf.Bytes()...)
	}
	_, ev, _, err := readAllScrapes(t, data, 1024)
	if err != nil || len(ev) != 3 {
		t.Fatalf("%d readings, %v; want 3", len(ev), err)
	}
	for i, e := range ev {
		if e.scrape.Run != i || e.scrape.At != time.Duration(i) || e.results != i+1 {
			t.Errorf("reading %d: Run %d, At %v after %d results; want run %d after %d", i, e.scrape.Run, e.scrape.At, e.results, i, i+1)
		}
	}
}

// TestScrapeBadInput: what cannot be encoded is an error naming the series,
// kept by AddScrape for Err, and nothing is written.
func TestScrapeBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Scrape
		want string
	}{
		{"kind", Scrape{New: []Series{{ID: 1, Name: "x", Kind: "histogram"}}}, `encode server signals: series 1 (x): kind "histogram", want "gauge" or "counter"`},
		{"order", Scrape{New: []Series{{ID: 2, Name: "x", Kind: SignalGauge}, {ID: 1, Name: "y", Kind: SignalGauge}}}, "encode server signals: series 1 (y) after series 2: new series must come in ID order"},
	} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, &Meta{})
		if err != nil {
			t.Fatal(err)
		}
		n := buf.Len()
		w.AddScrape(nil, &c.s)
		if err := w.Err(); err == nil || err.Error() != c.want {
			t.Errorf("%s: Err() = %v, want %q", c.name, err, c.want)
		}
		if buf.Len() != n {
			t.Errorf("%s: %d bytes written for a reading that cannot be encoded", c.name, buf.Len()-n)
		}
	}
}

// signalFile is the golden file's content: a header, results, readings,
// the end record.
func signalFile(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, &Meta{ID: "golden", Start: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	rs := sample(6, 42)
	for i, s := range sampleScrapes() {
		if err := w.Write(&rs[i%len(rs)]); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteScrape(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestScrapeGolden pins the encoding of signal blocks (testdata/signals.hex,
// a hex dump of the file signalFile writes): a change to it breaks the
// files users have, and must be on purpose.
func TestScrapeGolden(t *testing.T) {
	data := signalFile(t)
	checkGolden(t, "signals.hex", []byte(hex.Dump(data)))
	_, ev, _, err := readAllScrapes(t, data, 1024)
	if err != nil {
		t.Fatal(err)
	}
	var got []Scrape
	for _, e := range ev {
		got = append(got, e.scrape)
	}
	if diff := cmp.Diff(sortedValues(sampleScrapes()), got, equateScrapes); diff != "" {
		t.Fatalf("golden file reads back differently:\n%s", diff)
	}
}

// signalBlock wraps payload as a whole, checksummed signal block.
func signalBlock(cnt uint64, payload []byte) []byte {
	o := append([]byte(blockSync), kindSignals)
	o = binary.AppendUvarint(o, cnt)
	o = binary.AppendUvarint(o, uint64(len(payload)))
	o = append(o, payload...)
	return binary.LittleEndian.AppendUint32(o, crc32.Checksum(o[len(blockSync):], crcTable))
}

// FuzzDecodeScrape decodes any payload as a signal block between two
// results blocks: the results are always read; a payload that decodes
// re-encodes to one that decodes the same; one that does not is reported
// as corrupt and hands on no reading.
func FuzzDecodeScrape(f *testing.F) {
	var sw signalWriter
	for _, s := range sampleScrapes() {
		b, err := sw.encode(nil, &s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(1), b)
	}
	f.Add(uint8(2), []byte{0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(1), []byte{0, 0, 0, 0, 1, 1, 'x', 1, 1, 0, 0, 0, 3, 0})
	rs := sample(20, 43)
	f.Fuzz(func(t *testing.T, cnt uint8, payload []byte) {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, &Meta{ID: "fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs[:10] {
			w.Write(&rs[i])
		}
		w.Flush()
		buf.Write(signalBlock(uint64(cnt), payload))
		for i := range rs[10:] {
			w.Write(&rs[10+i])
		}
		w.Close()
		got, ev, rd, err := readAllScrapes(t, buf.Bytes(), 64)
		if err != nil || !cmp.Equal(rs, got) {
			t.Fatalf("results lost around a signal block: %d of %d, %v", len(got), len(rs), err)
		}
		if len(ev) == 0 {
			if rd.Runs()[0].Corrupt != 1 {
				t.Fatalf("nothing decoded and no corrupt block: %+v %v", rd.Runs()[0], rd.Warnings())
			}
			return
		}
		if len(ev) != int(cnt) || rd.Runs()[0].Lost() {
			t.Fatalf("%d readings of a block of %d, run %+v", len(ev), cnt, rd.Runs()[0])
		}
		var again []byte
		for _, e := range ev {
			if again, err = sw.encode(again, &e.scrape); err != nil {
				t.Fatalf("decoded reading does not re-encode: %v", err)
			}
		}
		var d sigDec
		d.b = again
		var sr signalReader
		for i, e := range ev {
			var s Scrape
			if err := sr.decode(&d, &s); err != nil {
				t.Fatalf("re-encoded reading %d does not decode: %v", i, err)
			}
			s.Run = e.scrape.Run
			if diff := cmp.Diff(e.scrape, s, equateScrapes); diff != "" {
				t.Fatalf("reading %d differs after re-encoding:\n%s", i, diff)
			}
		}
	})
}
