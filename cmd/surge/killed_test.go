package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	surgerun "github.com/surge-dev/surge/run"
)

// TestKilledWriterReported copies a results file while its run is still
// writing — what `kill -9` leaves on disk, since the writer's blocks go
// straight to the file — and reports the copies: every report type says
// the file is incomplete and how far it got. The first block reaches the
// disk well before a second has passed.
func TestKilledWriterReported(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run.srg")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	start := time.Now()
	go func() {
		code, _, _ := surge(t, ctx, base+"/fixed?ms=1\n", "attack", "-rate", "200", "-duration", "10s", "-output", out)
		done <- code
	}()
	var header, first []byte
	var firstAt time.Duration
	for first == nil && time.Since(start) < 5*time.Second {
		data, _ := os.ReadFile(out)
		if header == nil && len(data) > 0 {
			header = data
		}
		if header != nil && len(data) > len(header) {
			first, firstAt = data, time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("attack exit %d", code)
	}
	if first == nil {
		t.Fatal("no block reached the file in 5s")
	}
	if firstAt >= surgerun.FlushEvery {
		t.Errorf("the first block reached the file after %v, want before %v", firstAt, surgerun.FlushEvery)
	}

	killed := filepath.Join(dir, "killed.srg")
	os.WriteFile(killed, first, 0o644)
	code, text, stderr := surge(t, context.Background(), "", "report", killed)
	if code != 0 || !strings.HasPrefix(text, "WARNING: "+killed+": incomplete: ") || !strings.Contains(text, "no end-of-run record") {
		t.Errorf("text report of a killed run (exit %d, stderr %q):\n%s", code, stderr, text)
	}
	if !strings.Contains(stderr, "incomplete") {
		t.Errorf("stderr %q does not say the file is incomplete", stderr)
	}
	_, js, _ := surge(t, context.Background(), "", "report", "-type", "json", killed)
	var v struct {
		Requests int64  `json:"requests"`
		Warning  string `json:"warning"`
		Inputs   []struct {
			Complete bool  `json:"complete"`
			Records  int64 `json:"records"`
			End      int64 `json:"end"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil || len(v.Inputs) != 1 || v.Inputs[0].Complete ||
		v.Inputs[0].Records == 0 || v.Inputs[0].Records != v.Requests || v.Inputs[0].End != int64(len(first)) || !strings.Contains(v.Warning, "incomplete") {
		t.Errorf("json report of a killed run: %v, %+v", err, v)
	}
	_, hist, _ := surge(t, context.Background(), "", "report", "-type", "hist[0,10ms]", killed)
	if !strings.Contains(hist, "WARNING: "+killed+": incomplete") {
		t.Errorf("hist report of a killed run:\n%s", hist)
	}
	page := filepath.Join(dir, "killed.html")
	if code, _, stderr := surge(t, context.Background(), "", "plot", "-output", page, killed); code != 0 {
		t.Fatalf("plot exit %d: %s", code, stderr)
	}
	if html, _ := os.ReadFile(page); !strings.Contains(string(html), killed+": incomplete") {
		t.Errorf("plot's page does not say the run is incomplete")
	}

	// Killed before any block: the report says so, not just 0 requests.
	os.WriteFile(killed, header, 0o644)
	_, text, _ = surge(t, context.Background(), "", "report", killed)
	if !strings.HasPrefix(text, "WARNING: "+killed+": incomplete: 0 records, no end-of-run record") {
		t.Errorf("text report of a run killed before its first block:\n%s", text)
	}

	// The run's own file, closed at the interrupt, is whole.
	_, text, stderr = surge(t, context.Background(), "", "report", out)
	if strings.Contains(text, "incomplete") || strings.Contains(stderr, "warning") {
		t.Errorf("report of the closed file warns (stderr %q):\n%s", stderr, text)
	}
}

// TestFailedStartClosesFile: an attack that fails before load (here its
// dashboard's address is taken) leaves a results file that says so by
// being whole and empty, not one that reads as a killed writer's.
func TestFailedStartClosesFile(t *testing.T) {
	base := startLab(t)
	out := filepath.Join(t.TempDir(), "run.srg")
	busy := strings.TrimPrefix(base, "http://") // the lab holds the port
	code, _, stderr := surge(t, context.Background(), base+"/fixed?ms=1\n", "attack", "-rate", "10", "-duration", "1s",
		"-dashboard", busy, "-quiet", "-output", out)
	if code == 0 || !strings.Contains(stderr, "dashboard") {
		t.Fatalf("attack with a taken dashboard address: exit %d, stderr %q; want a dashboard error", code, stderr)
	}
	code, text, stderr := surge(t, context.Background(), "", "report", out)
	if code != 0 || strings.Contains(text, "incomplete") || strings.Contains(stderr, "warning") {
		t.Errorf("report of a run that failed before load (exit %d, stderr %q):\n%s", code, stderr, text)
	}
}
