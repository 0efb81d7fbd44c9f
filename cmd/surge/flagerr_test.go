package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestFlagErrors: on every command a flag error prints the error and one
// line pointing at -h, not the usage; -h still prints the usage.
func TestFlagErrors(t *testing.T) {
	for _, c := range []string{"attack", "run", "capacity", "report", "plot", "compare", "encode", "lab", "demo"} {
		code, _, stderr := surge(t, context.Background(), "", c, "-nope")
		want := "surge " + c + ": flag provided but not defined: -nope\nRun 'surge " + c + " -h' for usage.\n"
		if code != exitUsage || stderr != want {
			t.Errorf("%s -nope: exit %d, stderr\n%s\nwant exit %d and\n%s", c, code, stderr, exitUsage, want)
		}
		if code, _, stderr := surge(t, context.Background(), "", c, "-h"); code != 0 || !strings.Contains(stderr, "Usage: surge "+c) || !strings.Contains(stderr, "Examples:") {
			t.Errorf("%s -h: exit %d, stderr %q; want the usage with examples", c, code, stderr)
		}
	}
}

// TestBadValuesSendNothing: values accepted before, each now a clear
// error before anything is sent.
func TestBadValuesSendNothing(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "r.srg")
	extra := filepath.Join(dir, "extra.http")
	os.WriteFile(extra, []byte("GET "+srv.URL+"/a extra tokens\n"), 0o644)
	ftp := filepath.Join(dir, "ftp.yaml")
	os.WriteFile(ftp, []byte("base_url: ftp://127.0.0.1/\nrequests: [{url: /a}]\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"attack", "-duration", "abc"}, exitUsage, `surge attack: -duration "abc": expected a duration such as 10s, 1m30s or 500ms`},
		{[]string{"attack", "-connections", "0", "-duration", "1s", "-output", out}, exitUsage, `surge attack: -connections "0": expected a positive whole number (leave the flag out for the default)`},
		{[]string{"attack", "-redirects", "-5", "-duration", "1s", "-output", out}, exitUsage, "surge attack: -redirects -5: expected -1 or 0"},
		{[]string{"attack", "-targets", extra, "-duration", "1s", "-output", out}, exitError, `extra.http:1: url: expected "METHOD URL" and nothing after the URL, got "extra tokens"`},
		{[]string{"run", "-output", out, ftp}, exitError, `ftp.yaml:1: base_url: expected an absolute http:// or https:// URL, got "ftp://127.0.0.1/"`},
		{[]string{"run", "-dry-run", ftp}, exitError, `ftp.yaml:1: base_url: expected an absolute http:// or https:// URL`},
		{[]string{"capacity", "-connections", "0", srv.URL}, exitUsage, `-connections "0": expected a positive whole number`},
		// A p99 on 0.8s measured at 10/s rests on 8 requests: refused before any load.
		{[]string{"capacity", "-slo", "p99<500ms", "-start", "10/1s", "-step-duration", "1s", srv.URL}, exitUsage,
			"-step-duration 1s is too short for p99<500ms at -start 10/s: the percentile needs 1000 measured requests"},
	} {
		code, _, stderr := surge(t, context.Background(), "GET "+srv.URL+"/\n", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	code, _, stderr := surge(t, context.Background(), "GET http://127.0.0.1:99999/\n", "attack", "-duration", "1s", "-output", out)
	if code != exitError || !strings.Contains(stderr, "stdin:1: url:") || !strings.Contains(stderr, "expected a port from 1 to 65535") {
		t.Errorf("port out of range: exit %d, stderr %q; want exit 1 naming stdin:1, url and the port range", code, stderr)
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests were sent", hits.Load())
	}
}

// TestFlagErrorNamesValueOnce: a flag whose own error names the flag and
// value again (as -rate's does) says them once.
func TestFlagErrorNamesValueOnce(t *testing.T) {
	code, _, stderr := surge(t, context.Background(), "", "attack", "-rate", "1000000000/1s")
	want := `surge attack: -rate "1000000000/1s": 1000000000/s is above the ceiling of 1000000/s`
	if code != exitUsage || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit %d and a line starting %q", code, stderr, exitUsage, want)
	}
}
