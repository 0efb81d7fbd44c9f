package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/lab"
)

// surge runs the command line in-process and returns its exit code, stdout
// and stderr.
func surge(t *testing.T, ctx context.Context, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, &env{strings.NewReader(stdin), &out, &errb}, args)
	return code, out.String(), errb.String()
}

func startLab(t *testing.T) string {
	t.Helper()
	s := lab.New(lab.Config{})
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return "http://" + addr.String()
}

func TestAttackReportEncode(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	run1 := filepath.Join(dir, "run.srg")
	targets := "GET " + base + "/fixed?ms=2\n\nGET " + base + "/error?ratio=0.5\n"
	code, _, stderr := surge(t, context.Background(), targets, "attack", "-rate", "200/1s", "-duration", "1s", "-output", run1)
	if code != 0 {
		t.Fatalf("attack exit %d: %s", code, stderr)
	}

	code, text, stderr := surge(t, context.Background(), "", "report", run1)
	if code != 0 {
		t.Fatalf("report exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Requests      [total, rate, throughput]", "200, ", "Status Codes  [code:count]", "200:150", "500:50", "GET /fixed?ms=2", "t < 800ms"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}

	code, js, _ := surge(t, context.Background(), "", "report", "-type", "json", run1)
	var v struct {
		Requests    int64            `json:"requests"`
		Success     float64          `json:"success"`
		StatusCodes map[string]int64 `json:"status_codes"`
		Latencies   map[string]int64 `json:"latencies"`
	}
	if err := json.Unmarshal([]byte(js), &v); code != 0 || err != nil {
		t.Fatalf("json report exit %d, %v:\n%s", code, err, js)
	}
	if v.Requests != 200 || v.Success != 0.75 || v.StatusCodes["500"] != 50 || v.Latencies["99th"] <= 0 {
		t.Errorf("json report = %+v; want 200 requests, success 0.75, 50 × 500, a p99", v)
	}

	code, hist, _ := surge(t, context.Background(), "", "report", "-type", "hist[0,10ms,50ms,100ms]", run1)
	if code != 0 || !strings.Contains(hist, "Bucket") || !strings.Contains(hist, "[0s,") {
		t.Errorf("hist report exit %d:\n%s", code, hist)
	}

	code, csv, _ := surge(t, context.Background(), "", "encode", "-to", "csv", run1)
	if lines := strings.Count(csv, "\n"); code != 0 || lines != 201 {
		t.Errorf("encode csv exit %d with %d lines, want 201 (header + 200)", code, lines)
	}
	code, jl, _ := surge(t, context.Background(), "", "encode", "-to", "json", run1)
	if lines := strings.Count(jl, "\n"); code != 0 || lines != 200 {
		t.Errorf("encode json exit %d with %d lines, want 200", code, lines)
	}

	// Two files merge into one report: 400 requests.
	code, js, _ = surge(t, context.Background(), "", "report", "-type", "json", run1, run1)
	if err := json.Unmarshal([]byte(js), &v); code != 0 || err != nil || v.Requests != 400 {
		t.Errorf("merged report: exit %d, requests %d, want 400", code, v.Requests)
	}
}

// TestAttackPipeReport checks 'surge attack | surge report' through stdin.
func TestAttackPipeReport(t *testing.T) {
	base := startLab(t)
	code, srg, stderr := surge(t, context.Background(), base+"/fixed\n", "attack", "-rate", "0", "-connections", "4", "-count", "500")
	if code != 0 {
		t.Fatalf("attack exit %d: %s", code, stderr)
	}
	code, text, stderr := surge(t, context.Background(), srg, "report")
	if code != 0 || !strings.Contains(text, "500, ") || !strings.Contains(text, "200:500") {
		t.Fatalf("report of piped results exit %d (%s):\n%s", code, stderr, text)
	}
}

// TestBadTargetsSendNothing: a malformed targets file is reported with its
// line before any request goes out.
func TestBadTargetsSendNothing(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	tf := filepath.Join(dir, "targets.http")
	os.WriteFile(tf, []byte("GET "+srv.URL+"/a\n\nGET "+srv.URL+"/b\nX-Broken\n"), 0o644)
	code, _, stderr := surge(t, context.Background(), "", "attack", "-targets", tf, "-rate", "10", "-duration", "1s", "-output", filepath.Join(dir, "r.srg"))
	if code != 1 || !strings.Contains(stderr, "targets.http:4") || !strings.Contains(stderr, "header") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming targets.http:4 and the header field", code, stderr)
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests were sent despite the bad targets file", hits.Load())
	}
	code, _, stderr = surge(t, context.Background(), "", "attack", "-rate", "ten")
	if code != 2 || !strings.Contains(stderr, "-rate") {
		t.Errorf("bad -rate: exit %d, stderr %q; want usage exit 2 naming -rate", code, stderr)
	}
}

// TestInterruptKeepsResults: stopping an attack (Ctrl-C) writes every result
// recorded so far into a readable file.
func TestInterruptKeepsResults(t *testing.T) {
	base := startLab(t)
	out := filepath.Join(t.TempDir(), "r.srg")
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	code, _, stderr := surge(t, ctx, base+"/fixed?ms=1\n", "attack", "-rate", "100", "-duration", "1m", "-output", out)
	if code != 0 || !strings.Contains(stderr, "interrupted") {
		t.Fatalf("exit %d, stderr %q; want 0 and an 'interrupted' note", code, stderr)
	}
	code, js, stderr := surge(t, context.Background(), "", "report", "-type", "json", out)
	var v struct{ Requests int64 }
	if err := json.Unmarshal([]byte(js), &v); code != 0 || err != nil || v.Requests < 50 || v.Requests > 90 {
		t.Fatalf("report after interrupt: exit %d, %v, %d requests (stderr %q); want about 70", code, err, v.Requests, stderr)
	}
}

// TestTruncatedFileReported: a results file cut short still reports its
// whole blocks and says it was truncated.
func TestTruncatedFileReported(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.srg")
	if code, _, stderr := surge(t, context.Background(), base+"/fixed\n", "attack", "-rate", "0", "-count", "10000", "-output", full); code != 0 {
		t.Fatal(stderr)
	}
	data, _ := os.ReadFile(full)
	cut := filepath.Join(dir, "cut.srg")
	os.WriteFile(cut, data[:len(data)*2/3], 0o644) // inside a results block
	code, js, stderr := surge(t, context.Background(), "", "report", "-type", "json", cut)
	var v struct{ Requests int64 }
	if err := json.Unmarshal([]byte(js), &v); code != 0 || err != nil || v.Requests == 0 || v.Requests >= 10000 {
		t.Fatalf("exit %d, %v, %d requests; want the whole blocks before the cut", code, err, v.Requests)
	}
	if !strings.Contains(stderr, "truncated") || !strings.Contains(stderr, "cut.srg") || !strings.Contains(stderr, "incomplete") {
		t.Errorf("stderr %q does not say cut.srg was truncated and is incomplete", stderr)
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "demo.srg")
	code, text, stderr := surge(t, context.Background(), "", "demo", "-duration", "2s", "-output", out)
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Latencies", "/pause", "/cold", "Wrote " + out} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("demo did not write %s: %v", out, err)
	}
}

func TestUsage(t *testing.T) {
	if code, _, stderr := surge(t, context.Background(), "", "nope"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, stderr)
	}
	if code, _, stderr := surge(t, context.Background(), "", "attack", "-h"); code != 0 || !strings.Contains(stderr, "Examples:") {
		t.Errorf("attack -h: exit %d, %q", code, stderr)
	}
}
