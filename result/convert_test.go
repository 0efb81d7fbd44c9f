package result

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var convMeta = &Meta{Start: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}

var convResults = []Result{
	{Seq: 0, Label: "GET /fixed", Intended: 0, Sent: 120 * time.Microsecond, Latency: 21 * time.Millisecond,
		Status: 200, BytesIn: 35, FirstByte: 20 * time.Millisecond, Connect: 80 * time.Microsecond},
	{Seq: 1, Label: `say "hi"`, Intended: 10 * time.Millisecond, Sent: 10 * time.Millisecond,
		Error: "read: connection reset by peer", Worker: 3},
	{Seq: 2, Label: "GET /fixed", Intended: 20 * time.Millisecond, Sent: 20 * time.Millisecond, Flags: NotSent},
	{Seq: 3, Label: "PUT /item", Intended: 30 * time.Millisecond, Sent: 30 * time.Millisecond, Latency: 2 * time.Millisecond,
		Status: 204, Flags: Resent},
}

func TestJSONEncoderGolden(t *testing.T) {
	var buf bytes.Buffer
	e := NewJSONEncoder(&buf)
	for i := range convResults {
		if err := e.Encode(&convResults[i], convMeta); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "results.jsonl", buf.Bytes())
	// Every line is valid JSON carrying vegeta's keys.
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		for _, k := range []string{"attack", "seq", "code", "timestamp", "latency", "bytes_in", "bytes_out", "error"} {
			if _, ok := v[k]; !ok {
				t.Errorf("line %d lacks vegeta key %q", i+1, k)
			}
		}
	}
}

func TestCSVEncoderGolden(t *testing.T) {
	var buf bytes.Buffer
	e := NewCSVEncoder(&buf)
	for i := range convResults {
		if err := e.Encode(&convResults[i], convMeta); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "results.csv", buf.Bytes())
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(convResults) || len(rows[0]) != len(CSVHeader) {
		t.Fatalf("got %d rows of %d columns, want %d rows of %d", len(rows), len(rows[0]), 1+len(convResults), len(CSVHeader))
	}
}

func BenchmarkJSONEncode(b *testing.B) {
	e := NewJSONEncoder(&bytes.Buffer{})
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Encode(&convResults[0], convMeta)
		_ = e.Flush()
	}
}

func FuzzJSONString(f *testing.F) {
	f.Add("plain")
	f.Add("quote \" back \\ ctl \x01 bad \xff")
	f.Fuzz(func(t *testing.T, s string) {
		var got string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatalf("appendJSONString(%q) is not JSON: %v", s, err)
		}
		want, _ := json.Marshal(s)
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("appendJSONString(%q) decodes to %q, want %q", s, got, w)
		}
	})
}
