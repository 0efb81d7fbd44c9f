package lab_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/surge-dev/surge/lab"
)

func BenchmarkFixed(b *testing.B) {
	l := lab.New(lab.Config{})
	req := httptest.NewRequest(http.MethodGet, "/fixed?ms=0", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkFixedHandler leaves out the recorder's own allocations, to show
// what the lab itself costs per request.
func BenchmarkFixedHandler(b *testing.B) {
	l := lab.New(lab.Config{})
	req := httptest.NewRequest(http.MethodGet, "/fixed?ms=0", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			l.ServeHTTP(w, req)
		}
	})
}

// discardWriter is the cheapest http.ResponseWriter: it reuses its header map
// and drops the body.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func TestFixedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
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
