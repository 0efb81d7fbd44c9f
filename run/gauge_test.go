package run

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
)

// TestGaugeRecords runs a short attack with 3 connections against a
// server that holds each request 100 ms, and checks the generator marker's
// figures against what is known of the run: in flight peaked at the cap,
// the CPU seconds are within the wall time times the cores, the fd and
// port limits are the process's, and on Linux the /proc figures are there.
func TestGaugeRecords(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
	}))
	t.Cleanup(srv.Close)
	cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: srv.URL}}, Count: 12, Connections: 3}
	p := Plan{Config: cfg, Meta: NewMeta(cfg, nil)}
	sm := summary.New(summary.Options{})
	if _, err := Do(context.Background(), p, Outputs{Consumers: []result.Consumer{sm}}); err != nil {
		t.Fatal(err)
	}
	a := sm.Runs[0].Attrs
	num := func(k string) float64 {
		t.Helper()
		x, err := strconv.ParseFloat(a[k], 64)
		if err != nil {
			t.Errorf("attr %s = %q: %v", k, a[k], err)
		}
		return x
	}
	wall, cpu := num(result.AttrWallSeconds), num(result.AttrCPUSeconds)
	if wall < 0.3 || cpu < 0 || cpu > wall*float64(runtime.NumCPU()) {
		t.Errorf("wall %.3fs, CPU %.3fs: want wall ≥ 0.3 s (4 rounds of 100 ms) and CPU within wall × %d cores", wall, cpu, runtime.NumCPU())
	}
	if peak, c := num(result.AttrPeakInFlight), num(result.AttrInFlightCap); peak != 3 || c != 3 {
		t.Errorf("peak in flight %v of cap %v, want 3 of 3", peak, c)
	}
	if num(result.AttrFDLimit) <= 0 || num(result.AttrSwitchesVoluntary) < 0 {
		t.Errorf("fd limit %s, voluntary switches %s", a[result.AttrFDLimit], a[result.AttrSwitchesVoluntary])
	}
	if runtime.GOOS != "linux" {
		return
	}
	for _, k := range []string{result.AttrMachineBusy, result.AttrSteal, result.AttrRunQueuePeak, result.AttrFDsPeak, result.AttrSocketsPeak, result.AttrPorts, result.AttrCPUWaitSeconds} {
		if x := num(k); x < 0 {
			t.Errorf("attr %s = %v, want ≥ 0", k, x)
		}
	}
	if fds := num(result.AttrFDsPeak); fds < 3 {
		t.Errorf("fds peak %v, want at least the 3 connections", fds)
	}
}

// BenchmarkGaugeSample is the cost of one reading of the machine's peaks,
// taken once a second, and of the counters read at the start and the end.
func BenchmarkGaugeSample(b *testing.B) {
	g := &gauge{runQueue: -1, fds: -1, sockets: -1}
	b.Run("peaks", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g.sampleProc()
		}
	})
	b.Run("usage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			readUsage()
		}
	})
}
