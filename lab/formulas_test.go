package lab

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const ms = time.Millisecond

func TestColdCost(t *testing.T) {
	tests := []struct {
		ms, extra time.Duration
		n, i      uint64
		want      time.Duration
	}{
		{5 * ms, 800 * ms, 4, 1, 805 * ms},
		{5 * ms, 800 * ms, 4, 2, 605 * ms},
		{5 * ms, 800 * ms, 4, 3, 405 * ms},
		{5 * ms, 800 * ms, 4, 4, 205 * ms},
		{5 * ms, 800 * ms, 4, 5, 5 * ms},
		{5 * ms, 800 * ms, 4, 1000, 5 * ms},
		{0, 100, 3, 1, 100},
		{0, 100, 3, 2, 66}, // 100*2/3 truncated to the nanosecond
		{0, 100, 3, 3, 33},
		{0, 100, 3, 4, 0},
		{0, maxMillis * ms, maxCount, 1, maxMillis * ms}, // no overflow at the limits
	}
	for _, tt := range tests {
		if got := coldCost(tt.ms, tt.extra, tt.n, tt.i); got != tt.want {
			t.Errorf("coldCost(%v, %v, n=%d, i=%d) = %v, want %v", tt.ms, tt.extra, tt.n, tt.i, got, tt.want)
		}
	}
}

func TestPauseFinish(t *testing.T) {
	// Windows [300,400), [600,700), [900,1000), … ms.
	every, pause := 300*ms, 100*ms
	tests := []struct {
		name       string
		a, work    time.Duration
		wantFinish time.Duration
	}{
		{"before first window", 10 * ms, 5 * ms, 15 * ms},
		{"ends just before window", 290 * ms, 9 * ms, 299 * ms},
		{"ends as window opens", 290 * ms, 10 * ms, 400 * ms},
		{"runs into window", 290 * ms, 15 * ms, 405 * ms},
		{"arrives at window start", 300 * ms, 5 * ms, 405 * ms},
		{"arrives inside window", 350 * ms, 5 * ms, 405 * ms},
		{"arrives inside window, no work", 350 * ms, 0, 400 * ms},
		{"arrives as window closes", 400 * ms, 5 * ms, 405 * ms},
		{"spans two windows", 250 * ms, 450 * ms, 1000 * ms},  // 50+200+200 of work ends as [900,1000) opens: held
		{"spans two windows+", 250 * ms, 451 * ms, 1001 * ms}, // one more ms runs after it
		{"later cycle", 1250 * ms, 10 * ms, 1310 * ms},
		{"ms zero in gap", 500 * ms, 0, 500 * ms},
		{"no pauses", 350 * ms, 5 * ms, 355 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pause
			if tt.name == "no pauses" {
				p = 0
			}
			if got := pauseFinish(every, p, tt.a, tt.work); got != tt.wantFinish {
				t.Errorf("pauseFinish(%v, %v, a=%v, work=%v) = %v, want %v", every, p, tt.a, tt.work, got, tt.wantFinish)
			}
		})
	}
}

// TestPauseFinishModel checks the closed form against a step-by-step
// simulation of work advancing only outside the windows.
func TestPauseFinishModel(t *testing.T) {
	const step = time.Millisecond
	inWindow := func(every, pause, t time.Duration) bool {
		k := t / every
		return k >= 1 && t < k*every+pause
	}
	for _, c := range []struct{ every, pause time.Duration }{{10 * step, 3 * step}, {7 * step, 6 * step}, {5 * step, 1 * step}} {
		for a := time.Duration(0); a < 40*step; a += step {
			for work := time.Duration(0); work < 30*step; work += step {
				tt, left := a, work
				for {
					if inWindow(c.every, c.pause, tt) {
						tt += step
						continue
					}
					if left == 0 {
						break
					}
					tt += step
					left -= step
				}
				if got := pauseFinish(c.every, c.pause, a, work); got != tt {
					t.Fatalf("pauseFinish(%v, %v, a=%v, work=%v) = %v, simulation says %v", c.every, c.pause, a, work, got, tt)
				}
			}
		}
	}
}

func TestPausedTotal(t *testing.T) {
	every, pause := 300*ms, 100*ms
	for _, tt := range []struct{ t, want time.Duration }{
		{0, 0}, {299 * ms, 0}, {300 * ms, 0}, {350 * ms, 50 * ms}, {400 * ms, 100 * ms},
		{599 * ms, 100 * ms}, {650 * ms, 150 * ms}, {1250 * ms, 350 * ms},
	} {
		if got := pausedTotal(every, pause, tt.t); got != tt.want {
			t.Errorf("pausedTotal(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

func TestSpaced(t *testing.T) {
	for _, ratio := range []float64{0, 0.001, 0.1, 0.25, 1.0 / 3, 0.3, 0.5, 0.7, 0.999999, 1} {
		ppm := uint64(ratio*ppmScale + 0.5)
		var hits uint64
		var first uint64
		for i := uint64(1); i <= 10_000; i++ {
			if spaced(ppm, i) {
				hits++
				if first == 0 {
					first = i
				}
			}
			if want := i * ppm / ppmScale; hits != want {
				t.Fatalf("ratio %v: %d hits after %d requests, want %d", ratio, hits, i, want)
			}
		}
		if ratio == 0.1 && first != 10 {
			t.Errorf("ratio 0.1: first hit at request %d, want 10", first)
		}
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		ep        endpointID
		raw       string
		wantCanon string
		want      settings
	}{
		{epFixed, "", "", settings{}},
		{epFixed, "ms=20", "ms=20", settings{ms: 20 * ms}},
		{epFixed, "jitter=0&ms=20.0&id=42", "ms=20", settings{ms: 20 * ms}},
		{epFixed, "ms=0.5&jitter=0.25", "jitter=0.25&ms=0.5", settings{ms: 500 * time.Microsecond, jitter: 250 * time.Microsecond}},
		{epFixed, "ms=3&ms=3", "ms=3", settings{ms: 3 * ms}},
		{epCold, "", "", settings{ms: 5 * ms, extra: 800 * ms, n: 300}},
		{epCold, "n=10&extra=50&ms=0", "extra=50&ms=0&n=10", settings{extra: 50 * ms, n: 10}},
		{epPause, "every=300ms&for=100ms", "every=300ms&for=100ms", settings{ms: 5 * ms, every: 300 * ms, pause: 100 * ms}},
		{epPause, "every=300&for=0.1s&ms=5", "every=300ms&for=100ms", settings{ms: 5 * ms, every: 300 * ms, pause: 100 * ms}},
		{epPause, "every=5s&for=1s", "", settings{ms: 5 * ms, every: 5 * time.Second, pause: time.Second}},
		{epPool, "size=2&ms=100", "ms=100&size=2", settings{ms: 100 * ms, size: 2}},
		{epError, "ratio=0.25&code=503", "code=503&ratio=0.25", settings{ppm: 250_000, code: 503}},
		{epError, "ratio=0.1234567", "ratio=0.123457", settings{ppm: 123_457, code: 500}},
		{epReset, "ratio=1", "ratio=1", settings{ppm: ppmScale}},
		{epReady, "anything=1", "", settings{}},
	}
	for _, tt := range tests {
		name := endpoints[tt.ep].name + "?" + tt.raw
		t.Run(name, func(t *testing.T) {
			got, canon, err := parseParams(&endpoints[tt.ep], tt.raw)
			if err != nil {
				t.Fatalf("parseParams: %v", err)
			}
			if canon != tt.wantCanon {
				t.Errorf("canonical = %q, want %q", canon, tt.wantCanon)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(settings{})); diff != "" {
				t.Errorf("settings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseParams checks that parsing never panics and that the canonical
// form of an accepted query parses back to the same settings and form.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"", "ms=20&jitter=5", "every=300ms&for=100ms", "n=3&extra=1e3", "ratio=0.1&code=503", "size=2", "ms=%zz", "ms=1;x=2", "for=NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for i := range endpoints {
			ep := &endpoints[i]
			set, canon, err := parseParams(ep, raw)
			if err != nil {
				continue
			}
			set2, canon2, err := parseParams(ep, canon)
			if err != nil {
				t.Fatalf("%s: canonical %q of %q does not parse: %v", ep.name, canon, raw, err)
			}
			if canon2 != canon || set2 != set {
				t.Fatalf("%s: %q → %q %+v → %q %+v", ep.name, raw, canon, set, canon2, set2)
			}
			if _, err := url.ParseQuery(canon); err != nil {
				t.Fatalf("%s: canonical %q is not a query: %v", ep.name, canon, err)
			}
		}
	})
}

func TestPoolFIFO(t *testing.T) {
	p := newPool(1)
	ctx := context.Background()
	if !p.acquire(ctx) {
		t.Fatal("first acquire failed")
	}
	order := make(chan int, 5)
	for i := range 5 {
		go func() {
			if p.acquire(ctx) {
				order <- i
			}
		}()
		waitFor(t, func() bool { _, w := p.stats(); return w == i+1 })
	}
	for want := range 5 {
		p.release()
		if got := <-order; got != want {
			t.Fatalf("slot went to waiter %d, want %d", got, want)
		}
	}
	p.release()
	if b, w := p.stats(); b != 0 || w != 0 {
		t.Errorf("after all releases busy=%d waiting=%d, want 0 0", b, w)
	}
}

func TestPoolCancel(t *testing.T) {
	p := newPool(1)
	p.acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- p.acquire(ctx) }()
	waitFor(t, func() bool { _, w := p.stats(); return w == 1 })
	cancel()
	if <-done {
		t.Fatal("acquire with a cancelled context reported a slot")
	}
	if b, w := p.stats(); b != 1 || w != 0 {
		t.Errorf("busy=%d waiting=%d, want 1 0", b, w)
	}
	p.release()
	if b, _ := p.stats(); b != 0 {
		t.Errorf("busy=%d after release, want 0", b)
	}
}

func TestEscapeLabel(t *testing.T) {
	for in, want := range map[string]string{"ms=20": "ms=20", `a"b`: `a\"b`, `a\b`: `a\\b`, "a\nb": `a\nb`} {
		if got := escapeLabel(in); got != want {
			t.Errorf("escapeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
