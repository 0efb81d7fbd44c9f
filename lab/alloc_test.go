//go:build !race

// Allocation counts are checked without the race detector, which
// allocates (and makes sync.Pool drop items) on its own: ./test.sh runs
// these tests in a second, non-race pass (go test -run Allocs).

package lab_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/surge-dev/surge/lab"
)

func TestFixedAllocs(t *testing.T) {
	l := lab.New(lab.Config{})
	req := httptest.NewRequest(http.MethodGet, "/fixed?ms=0", nil)
	w := &discardWriter{h: http.Header{}}
	l.ServeHTTP(w, req) // creates the parameter set
	if n := testing.AllocsPerRun(1000, func() { l.ServeHTTP(w, req) }); n != 0 {
		t.Errorf("ServeHTTP(/fixed?ms=0) allocates %v times per request, want 0", n)
	}
	if w.code != http.StatusOK {
		t.Errorf("status %d", w.code)
	}
}

// TestMetricsAllocs keeps a scrape of /metrics cheap: the runtime's and the
// process's figures are read into reused buffers (39 allocations a scrape
// before, 2 now: the sorted list of parameter sets and its sort).
func TestMetricsAllocs(t *testing.T) {
	l := lab.New(lab.Config{})
	w := &discardWriter{h: http.Header{}}
	for _, p := range []string{"/fixed?ms=0", "/pool?ms=0", "/error?ms=0", "/pause?ms=0"} {
		l.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	l.ServeHTTP(w, req) // sizes the buffers
	if n := testing.AllocsPerRun(100, func() { l.ServeHTTP(w, req) }); n > 3 {
		t.Errorf("a scrape of /metrics allocates %v times, want at most 3", n)
	}
}

func TestLookupAllocs(t *testing.T) {
	l := lab.New(lab.Config{})
	w := &discardWriter{h: http.Header{}}
	for _, p := range []string{"/lookup?rows=1000", "/lookup?rows=1000&index=1"} {
		req := httptest.NewRequest(http.MethodGet, p, nil)
		l.ServeHTTP(w, req) // builds the table and the index
		if n := testing.AllocsPerRun(1000, func() { l.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("ServeHTTP(%s) allocates %v times per request, want 0", p, n)
		}
	}
}
