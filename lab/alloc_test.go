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
