package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// TestReportThresholdsOldChecksHeader: a results file written before
// Meta.Checks existed lists its check names in Attrs["checks"], one a
// line; 'surge report -thresholds' still counts their failures.
func TestReportThresholdsOldChecksHeader(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "old.srg")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	m := &result.Meta{ID: "old", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Attrs: map[string]string{"scenario": "login", "checks": "me is authorized\nextract token"}}
	w, err := result.NewWriter(f, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		r := result.Result{Seq: uint64(i), Label: "me", Intended: time.Duration(i) * 10 * time.Millisecond, Latency: time.Millisecond, Status: 200}
		r.Sent = r.Intended
		switch i {
		case 0, 1:
			r.Status, r.Error = 401, "me is authorized"
		case 2:
			r.Error = "extract token"
		case 3:
			r.Status, r.Error = 500, "500 Internal Server Error"
		}
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ths := writeFile(t, dir, "th.txt", "check_failures == 0\ncheck_failures <= 3\n")
	code, stdout, stderr := surge(t, context.Background(), "", "report", "-thresholds", ths, name)
	if code != exitThresholds || !regexp.MustCompile(`FAIL  check_failures == 0\s+measured 3\n`).MatchString(stdout) ||
		!regexp.MustCompile(`PASS  check_failures <= 3\s+measured 3\n`).MatchString(stdout) {
		t.Errorf("exit %d, want %d and check_failures measured 3:\n%s\n%s", code, exitThresholds, stdout, stderr)
	}
}
