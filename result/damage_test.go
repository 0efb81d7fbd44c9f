package result

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// span is one part of an encoded file: the header or a block.
type span struct {
	kind       byte // 0 for the header
	off, end   int  // bytes [off, end)
	first, lim int  // results [first, lim) it holds
}

// layout is an encoded file and where its parts are.
type layout struct {
	data  []byte
	spans []span
	meta  Meta
}

// where returns the part holding byte i.
func (l *layout) where(i int) span {
	for _, s := range l.spans {
		if i >= s.off && i < s.end {
			return s
		}
	}
	panic(fmt.Sprintf("byte %d is in no part of the file", i))
}

// without returns rs less the results of s.
func without(rs []Result, s span) []Result {
	return append(slices.Clone(rs[:s.first]), rs[s.lim:]...)
}

// flipScrape is the server-signal reading smallBlocks writes.
var flipScrape = Scrape{At: time.Second, Took: time.Millisecond, Source: "http://127.0.0.1:9100/metrics",
	New:    []Series{{ID: 1, Source: "http://127.0.0.1:9100/metrics", Name: "go_goroutines", Kind: SignalGauge, Initial: 12}},
	Values: []SignalValue{{ID: 1, V: 13}}}

// smallBlocks encodes rs in blocks of per results, with a marker block
// after the first block, a server-signal block after the second, and the
// end-of-run record, and says where each part is.
func smallBlocks(t testing.TB, rs []Result, per int) *layout {
	t.Helper()
	var buf bytes.Buffer
	m := &Meta{ID: "run-1", Start: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Rate: 100, Targets: []string{"GET http://127.0.0.1/"}}
	w, err := NewWriter(&buf, m)
	if err != nil {
		t.Fatal(err)
	}
	l := &layout{meta: *m, spans: []span{{kind: 0, off: 0, end: buf.Len()}}}
	first := 0
	cut := func(kind byte, lim int) {
		if buf.Len() > l.spans[len(l.spans)-1].end {
			l.spans = append(l.spans, span{kind: kind, off: l.spans[len(l.spans)-1].end, end: buf.Len(), first: first, lim: lim})
			first = lim
		}
	}
	for i := range rs {
		if err := w.Write(&rs[i]); err != nil {
			t.Fatal(err)
		}
		if (i+1)%per == 0 || i+1 == len(rs) {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			cut(kindResults, i+1)
			if i+1 == per {
				if err := w.WriteMarker(&Marker{At: rs[i].Intended, Kind: MarkStage, Name: "hold"}); err != nil {
					t.Fatal(err)
				}
				cut(kindMarkers, i+1)
			}
			if i+1 == 2*per {
				if err := w.WriteScrape(&flipScrape); err != nil {
					t.Fatal(err)
				}
				cut(kindSignals, i+1)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cut(kindEnd, len(rs))
	l.data = buf.Bytes()
	return l
}

func TestEndRecord(t *testing.T) {
	rs := sample(1000, 21)
	l := smallBlocks(t, rs, 100)
	got, rd, err := readAll(t, l.data)
	if err != nil || len(got) != len(rs) {
		t.Fatalf("read %d results, %v; want %d", len(got), err, len(rs))
	}
	runs := rd.Runs()
	if len(runs) != 1 || !runs[0].Ended || !runs[0].Complete() || runs[0].Written != 1000 || runs[0].Records != 1000 || runs[0].Blocks != 10 {
		t.Fatalf("Runs() = %+v, want one complete run of 1000 records in 10 blocks", runs)
	}
	if p := runs[0].Problem(); p != "" {
		t.Errorf("Problem() of a whole file = %q, want none", p)
	}
	if end := l.spans[len(l.spans)-1]; end.kind != kindEnd || runs[0].End != int64(end.end) {
		t.Errorf("End = %d, want %d (after the end-of-run record)", runs[0].End, end.end)
	}

	// Cut at every block boundary, as a killed writer leaves the file: the
	// whole blocks are read, and the run says it is incomplete.
	for _, s := range l.spans[:len(l.spans)-1] {
		got, rd, err := readAll(t, l.data[:s.end])
		if err != nil {
			t.Fatalf("cut after byte %d: %v", s.end, err)
		}
		run := rd.Runs()[0]
		if len(got) != s.lim || run.Records != int64(s.lim) || run.Complete() || run.Ended || run.End != int64(s.end) {
			t.Fatalf("cut after byte %d: read %d, run %+v; want %d records, incomplete, readable to %d", s.end, len(got), run, s.lim, s.end)
		}
		p := run.Problem()
		if !strings.HasPrefix(p, "incomplete: ") || !strings.Contains(p, "no end-of-run record") || !strings.Contains(p, fmt.Sprintf("%d records", s.lim)) {
			t.Fatalf("cut after byte %d: Problem() = %q", s.end, p)
		}
		if s.kind == 0 && p != "incomplete: 0 records, no end-of-run record (the writer was killed or is still writing)" {
			t.Errorf("header only: Problem() = %q", p)
		}
	}
}

// TestLegacyFile reads a file of the writer before the end-of-run record
// (testdata/legacy.srg, sample(300, 31) in two blocks, written by
// the code of commit 491d6a2): complete, nothing
// lost, no warning.
func TestLegacyFile(t *testing.T) {
	got, rd, err := readAll(t, readTestdata(t, "legacy.srg"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample(300, 31), got); diff != "" {
		t.Fatalf("legacy file differs:\n%s", diff)
	}
	run := rd.Runs()[0]
	if !run.Complete() || run.Lost() || run.Ended || len(rd.Warnings()) != 0 {
		t.Errorf("legacy file: run %+v, warnings %v; want complete without end record or warning", run, rd.Warnings())
	}
}

// TestHeaderDamaged: one flipped byte in the run metadata loses the
// metadata, not the results.
func TestHeaderDamaged(t *testing.T) {
	want := sample(7500, 22)
	data, starts := encodeBlocks(t, want)
	bad := bytes.Clone(data)
	bad[starts[0].off/2] ^= 0x20
	got, rd, err := readAll(t, bad)
	if err != nil {
		t.Fatalf("damaged header: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("results under a damaged header differ:\n%s", diff)
	}
	run := rd.Runs()[0]
	if !run.HeaderDamaged || rd.Meta().ID != "" || !run.Complete() {
		t.Errorf("run %+v, meta %+v; want header damaged, empty meta, complete", run, rd.Meta())
	}
	if p := run.Problem(); p != "header damaged: run metadata lost; all 7500 records read" {
		t.Errorf("Problem() = %q", p)
	}
	if w := rd.Warnings(); len(w) != 1 || !errors.Is(w[0], ErrHeader) || w[0].Error() != "at byte 0: damaged run header: checksum mismatch: run metadata lost, its results are still read" {
		t.Errorf("warnings %v, want one ErrHeader at byte 0", w)
	}
}

// TestCorruptBlockCount: a block whose record count does not parse is
// corrupt, not the end of the file, and reading resumes at the next block.
func TestCorruptBlockCount(t *testing.T) {
	want := sample(3*maxBlockRecords, 23)
	data, starts := encodeBlocks(t, want)
	bad := bytes.Clone(data)
	second := starts[1].off
	copy(bad[second+len(blockSync)+1:], bytes.Repeat([]byte{0xff}, 11)) // an overlong varint
	got, rd, err := readAll(t, bad)
	if err != nil {
		t.Fatal(err)
	}
	wantKept := append(slices.Clone(want[:starts[1].first]), want[starts[2].first:]...)
	if diff := cmp.Diff(wantKept, got); diff != "" {
		t.Fatalf("after a bad count in block 2, got other results than blocks 1 and 3 (%d, want %d)", len(got), len(wantKept))
	}
	w := rd.Warnings()
	var oe *OffsetError
	if len(w) != 1 || !errors.Is(w[0], ErrCorrupt) || !errors.As(w[0], &oe) || oe.Offset != int64(second) {
		t.Fatalf("warnings %v; want one ErrCorrupt at the block's first byte %d", w, second)
	}
	if rd.Truncated() {
		t.Errorf("a corrupt block was reported as truncation")
	}
	run := rd.Runs()[0]
	if p := run.Problem(); !strings.HasPrefix(p, fmt.Sprintf("1 corrupt block skipped (%d bytes, the first at byte %d); ", starts[2].off-second, second)) ||
		!strings.HasSuffix(p, fmt.Sprintf("%d of %d records read, %d lost", len(wantKept), len(want), len(want)-len(wantKept))) {
		t.Errorf("Problem() = %q", p)
	}
}

// checkFlip checks that l.data with byte i xored with x reads as the whole
// file less the part holding byte i: a block's results, the header's
// metadata, markers or the end-of-run record; never more, never an error.
func checkFlip(t *testing.T, l *layout, rs []Result, i int, x byte) {
	t.Helper()
	if x == 0 {
		return
	}
	bad := bytes.Clone(l.data)
	bad[i] ^= x
	s := l.where(i)
	// A small buffer is cheap and puts markers across refills.
	got, ev, rd, err := readAllScrapes(t, bad, 64)
	if err != nil {
		t.Fatalf("byte %d ^ %#x (in a kind %d part at %d): %v", i, x, s.kind, s.off, err)
	}
	want := rs
	if s.kind == kindResults {
		want = without(rs, s)
	}
	if !slices.EqualFunc(want, got, func(a, b Result) bool { return a == b }) {
		t.Fatalf("byte %d ^ %#x (in a kind %d part at %d): read %d results, want %d:\n%s", i, x, s.kind, s.off, len(got), len(want), cmp.Diff(want, got))
	}
	runs := rd.Runs()
	if len(runs) != 1 {
		t.Fatalf("byte %d ^ %#x: %d runs, want 1", i, x, len(runs))
	}
	run := runs[0]
	switch {
	case s.kind == 0:
		if !run.HeaderDamaged && !cmp.Equal(*rd.Meta(), l.meta) {
			t.Fatalf("byte %d ^ %#x: header neither intact nor said to be damaged: %+v", i, x, rd.Meta())
		}
	case s.kind == kindMarkers:
		if len(rd.Markers()) != 0 {
			t.Fatalf("byte %d ^ %#x: markers read from a damaged block", i, x)
		}
	}
	wantScrapes := 1
	if s.kind == kindSignals {
		wantScrapes = 0
	}
	if len(ev) != wantScrapes || len(ev) == 1 && !cmp.Equal(ev[0].scrape, flipScrape) {
		t.Fatalf("byte %d ^ %#x (in a kind %d part at %d): %d readings %+v, want %d", i, x, s.kind, s.off, len(ev), ev, wantScrapes)
	}
	if s.kind != kindEnd && !run.Complete() {
		t.Fatalf("byte %d ^ %#x: run %+v is not complete; warnings %v", i, x, run, rd.Warnings())
	}
	if s.kind != 0 && s.kind != kindEnd && rd.Truncated() {
		t.Fatalf("byte %d ^ %#x: damage inside the file reported as truncation: %v", i, x, rd.Warnings())
	}
	lost := s.kind != 0 || run.HeaderDamaged
	if len(rd.Warnings()) == 0 || lost != (run.Problem() != "") {
		t.Fatalf("byte %d ^ %#x: damage not reported: warnings %v, problem %q", i, x, rd.Warnings(), run.Problem())
	}
}

// TestFlipAnyByte flips every byte of a small file of many blocks with a
// few patterns.
func TestFlipAnyByte(t *testing.T) {
	rs := sample(200, 24)
	l := smallBlocks(t, rs, 25)
	for i := range l.data {
		for _, x := range []byte{0x01, 0x80, 0xff, 0x5a} {
			checkFlip(t, l, rs, i, x)
		}
	}
}

// FuzzFlip flips any one byte of a small file by any pattern.
func FuzzFlip(f *testing.F) {
	rs := sample(120, 25)
	l := smallBlocks(f, rs, 20)
	f.Add(uint(0), byte(1))
	f.Add(uint(9), byte(0x7f))
	f.Add(uint(l.spans[1].off+6), byte(0x80))
	f.Fuzz(func(t *testing.T, i uint, x byte) {
		checkFlip(t, l, rs, int(i%uint(len(l.data))), x)
	})
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readLimited reads data like readAll but fails when more results come out
// than the input has bytes: a reader that loops.
// bufSize, if not 0, is the Reader's initial buffer size.
func readLimited(t *testing.T, data []byte, bufSize int) ([]Result, *Reader, error) {
	t.Helper()
	if bufSize == 0 {
		bufSize = 256 << 10
	}
	rd := newReaderSize(bytes.NewReader(data), bufSize)
	var out []Result
	for {
		var r Result
		err := rd.Read(&r)
		if err == io.EOF {
			return out, rd, nil
		}
		if err != nil {
			return out, rd, err
		}
		out = append(out, r)
		if len(out) > len(data) {
			t.Fatalf("%d results out of %d bytes", len(out), len(data))
		}
	}
}

// TestHeaderDamagedKeepsStart: a damaged header loses the run's metadata
// but keeps its start time when the damaged bytes still name it, so that
// the run's results stay on the wall-clock time line that merging files
// relies on (a first run without a start would sit at year 1, 2,025 years
// before any other file's). Damage in the metadata length, in another
// field of the metadata and in the checksum are tried.
func TestHeaderDamagedKeepsStart(t *testing.T) {
	rs := sample(300, 26)
	l := smallBlocks(t, rs, 100)
	hdr := l.data[:l.spans[0].end]
	js := bytes.Index(hdr, []byte(`{`))
	id := bytes.Index(hdr, []byte(`"run-1"`))
	rate := bytes.Index(hdr, []byte(`"rate":100`))
	if js < 0 || id < 0 || rate < 0 {
		t.Fatalf("header %q lacks the fields the test damages", hdr)
	}
	for _, c := range []struct {
		name string
		i    int
		x    byte
	}{
		{"metadata length", len(magic) + 1, 0x01},
		{"id", id + 2, 0x01},
		{"rate", rate + len(`"rate":`), 0x01},
		{"checksum", len(hdr) - 2, 0xff},
	} {
		bad := bytes.Clone(l.data)
		bad[c.i] ^= c.x
		got, rd, err := readAll(t, bad)
		if err != nil || len(got) != len(rs) {
			t.Fatalf("%s damaged: read %d results, %v; want %d", c.name, len(got), err, len(rs))
		}
		if !rd.Runs()[0].HeaderDamaged {
			t.Fatalf("%s damaged: the header is not said to be damaged", c.name)
		}
		if got := rd.Meta().Start; !got.Equal(l.meta.Start) {
			t.Errorf("%s damaged: Start = %v, want %v from the damaged header", c.name, got, l.meta.Start)
		}
		if rd.Meta().ID != "" || rd.Meta().Rate != 0 {
			t.Errorf("%s damaged: metadata %+v kept from a damaged header, want only its start", c.name, rd.Meta())
		}
	}
}
