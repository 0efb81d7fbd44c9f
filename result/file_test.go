package result

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sample returns n varied results, like a run with a few labels and errors.
func sample(n int, seed uint64) []Result {
	r := rand.New(rand.NewPCG(seed, 7))
	labels := []string{"search", "login", "GET /users/{id}"}
	out := make([]Result, n)
	var at time.Duration
	for i := range out {
		at += time.Duration(r.IntN(400)) * time.Microsecond
		res := Result{
			Seq:      uint64(i),
			Label:    labels[r.IntN(len(labels))],
			Intended: at,
			Sent:     at + time.Duration(r.IntN(50000)),
			Latency:  time.Duration(r.IntN(int(time.Second))),
			Status:   200,
			BytesIn:  512,
			BytesOut: int64(r.IntN(3)) * 100,
		}
		switch r.IntN(20) {
		case 0:
			res.Status, res.Error = 0, "dial tcp 127.0.0.1:1: connect: connection refused"
		case 1:
			res.Status = 503
		case 2:
			res.Flags, res.Latency, res.Sent = NotSent, 0, res.Intended
		case 3:
			res.Seq += 3 // out of order completion
			res.Worker = uint32(r.IntN(8))
		}
		if r.IntN(4) == 0 {
			res.Connect = time.Duration(r.IntN(1e6))
		}
		res.FirstByte = res.Latency / 2
		out[i] = res
	}
	return out
}

func encode(t testing.TB, rs []Result) []byte {
	t.Helper()
	data, _ := encodeBlocks(t, rs)
	return data
}

// block locates one block of an encoded file.
type block struct {
	off   int // byte offset of its start
	first int // index of its first record
}

// encodeBlocks encodes rs and returns where its blocks start.
func encodeBlocks(t testing.TB, rs []Result) ([]byte, []block) {
	t.Helper()
	var starts []block
	var buf bytes.Buffer
	w, err := NewWriter(&buf, &Meta{ID: "run-1", Start: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	starts = append(starts, block{buf.Len(), 0})
	for i := range rs {
		if err := w.Write(&rs[i]); err != nil {
			t.Fatal(err)
		}
		if w.n == 0 {
			starts = append(starts, block{buf.Len(), i + 1})
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), starts
}

func readAll(t testing.TB, data []byte) ([]Result, *Reader, error) {
	t.Helper()
	rd := NewReader(bytes.NewReader(data))
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
	}
}

func TestRoundTrip(t *testing.T) {
	want := sample(10000, 1)
	data := encode(t, want)
	got, rd, err := readAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("round trip mismatch (-want +got):\n%s", diff)
	}
	if len(rd.Warnings()) != 0 {
		t.Errorf("warnings on a clean file: %v", rd.Warnings())
	}
	if m := rd.Meta(); m == nil || m.ID != "run-1" || m.Version != Version || m.Rate != 100 {
		t.Errorf("Meta = %+v, want the written one", m)
	}
}

func TestBytesPerRecordPlainRun(t *testing.T) {
	// A plain run: one label, all 200, same size, 5,000 req/s with small lag.
	var rs []Result
	for i := range 100000 {
		at := time.Duration(i) * 200 * time.Microsecond
		rs = append(rs, Result{Seq: uint64(i), Label: "GET /", Intended: at, Sent: at + 40*time.Microsecond,
			Latency: 900*time.Microsecond + time.Duration(i%500)*time.Microsecond, Status: 200, BytesIn: 2,
			FirstByte: 800 * time.Microsecond})
	}
	per := float64(len(encode(t, rs))) / float64(len(rs))
	t.Logf("%.2f bytes per record", per)
	if per > 16 {
		t.Errorf("plain run takes %.2f bytes per record, want ≤ 16", per)
	}
}

func TestTruncatedAtEveryBlockBoundary(t *testing.T) {
	want := sample(3*maxBlockRecords+100, 2)
	data, starts := encodeBlocks(t, want)
	// Cut the file at many offsets after the header; each cut must yield a
	// prefix of whole blocks, report truncation when the cut is inside a
	// block, and never fail.
	for cut := starts[0].off + 1; cut < len(data); cut += 997 {
		got, rd, err := readAll(t, data[:cut])
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		whole := 0
		for _, b := range starts[1:] {
			if b.off <= cut {
				whole = b.first
			}
		}
		if len(got) != whole {
			t.Fatalf("cut at %d: read %d results, want the %d of the whole blocks before it", cut, len(got), whole)
		}
		if !slices.Equal(want[:len(got)], got) { // cmp.Diff is too slow for every cut
			t.Fatalf("cut at %d: prefix differs:\n%s", cut, cmp.Diff(want[:len(got)], got, cmpopts.EquateEmpty()))
		}
		if !rd.Truncated() {
			t.Fatalf("cut at %d: Truncated() = false, warnings %v", cut, rd.Warnings())
		}
	}
}

func TestCorruptBlockSkipped(t *testing.T) {
	want := sample(3*maxBlockRecords, 3)
	data, starts := encodeBlocks(t, want)
	second := starts[1].off
	bad := bytes.Clone(data)
	bad[second+500] ^= 0xff
	var warned []error
	rd := NewReader(bytes.NewReader(bad))
	rd.Warn = func(err error) { warned = append(warned, err) }
	var got []Result
	for {
		var r Result
		err := rd.Read(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	wantKept := append(append([]Result{}, want[:starts[1].first]...), want[starts[2].first:]...)
	if diff := cmp.Diff(wantKept, got); diff != "" {
		t.Fatalf("after a corrupt second block, got other results than blocks 1 and 3:\n%s", diff)
	}
	if len(warned) != 1 || !errors.Is(warned[0], ErrCorrupt) {
		t.Fatalf("warnings = %v, want one ErrCorrupt", warned)
	}
	var oe *OffsetError
	if !errors.As(warned[0], &oe) || oe.Offset != int64(second) {
		t.Errorf("warning %v does not name the block's first byte %d", warned[0], second)
	}
}

func TestConcatenatedRuns(t *testing.T) {
	a, b := sample(100, 4), sample(50, 5)
	data := append(encode(t, a), encode(t, b)...)
	got, rd, err := readAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append(append([]Result{}, a...), b...), got); diff != "" {
		t.Fatalf("concatenated runs differ:\n%s", diff)
	}
	if len(rd.Metas()) != 2 {
		t.Errorf("read %d run headers, want 2", len(rd.Metas()))
	}
}

func TestNotResults(t *testing.T) {
	for _, in := range []string{"", "GET http://x/\n", "\x89SRG"} {
		_, _, err := readAll(t, []byte(in))
		if !errors.Is(err, ErrNotResults) {
			t.Errorf("read %q: err = %v, want ErrNotResults", in, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f, sample(20, 9)))
	f.Add(encode(f, nil))
	f.Add([]byte(magic + "\x01\x02{}"))
	f.Add(smallBlocks(f, sample(30, 10), 10).data)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Never a panic, never more results than bytes (a loop), and the
		// runs account for every result read.
		got, rd, err := readLimited(t, data, 64)
		var n int64
		for _, run := range rd.Runs() {
			if run.Records < 0 || run.End > int64(len(data)) || run.CorruptBytes > int64(len(data)) {
				t.Fatalf("impossible run %+v of %d bytes", run, len(data))
			}
			n += run.Records
			_ = run.Problem()
		}
		if n != int64(len(got)) || len(rd.Runs()) != len(rd.Metas()) {
			t.Fatalf("runs %+v account for %d results, %d read", rd.Runs(), n, len(got))
		}
		if len(rd.Warnings()) > len(data)+1 {
			t.Fatalf("%d warnings from %d bytes", len(rd.Warnings()), len(data))
		}
		if err != nil {
			return
		}
		// Whatever decoded must survive a re-encode round trip.
		again, _, err := readAll(t, encode(t, got))
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if diff := cmp.Diff(got, again); diff != "" && len(got) > 0 {
			t.Fatalf("re-encode round trip differs:\n%s", diff)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(1), "label", "", uint16(200), int64(10), int64(5), int64(-3), byte(0))
	f.Fuzz(func(t *testing.T, seq uint64, label, errStr string, status uint16, in, lat, lag int64, flags byte) {
		rs := []Result{{Seq: seq, Label: label, Error: errStr, Status: status, BytesIn: in & (1<<62 - 1),
			Latency: time.Duration(lat), Intended: time.Duration(lag), Sent: time.Duration(lag * 2), Flags: Flags(flags & 0x7f)},
			{Seq: seq + 1, Label: label}}
		got, _, err := readAll(t, encode(t, rs))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rs, got); diff != "" {
			t.Fatalf("round trip differs:\n%s", diff)
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	rs := sample(4096, 6)
	w, err := NewWriter(io.Discard, &Meta{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := w.Write(&rs[i%len(rs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	data := encode(b, sample(100000, 8))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd := NewReader(bytes.NewReader(data))
		var r Result
		for rd.Read(&r) == nil {
		}
	}
}

func TestMarkersKeepOrder(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, &Meta{ID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	rs := sample(10, 11)
	for i := range rs {
		if i == 5 {
			if err := w.WriteMarker(&Marker{At: rs[i].Intended, Kind: MarkStage, Name: "hold", Attrs: map[string]string{"users": "5"}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(&rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd := NewReader(bytes.NewReader(buf.Bytes()))
	var n int
	var r Result
	for rd.Read(&r) == nil {
		n++
		if n == 5 && len(rd.Markers()) != 0 {
			t.Fatalf("marker seen before the 5 results written ahead of it")
		}
	}
	want := []Marker{{At: rs[5].Intended, Kind: MarkStage, Name: "hold", Attrs: map[string]string{"users": "5"}}}
	if n != 10 || !cmp.Equal(want, rd.Markers()) {
		t.Fatalf("read %d results and markers %+v; want 10 and %+v", n, rd.Markers(), want)
	}
}
