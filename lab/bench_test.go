package lab_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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

func BenchmarkUsers(b *testing.B) {
	l := lab.New(lab.Config{})
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, "/users?ms=0", strings.NewReader(`{"email":"user`+strconv.Itoa(i)+`@example.com"}`))
		l.ServeHTTP(w, req)
		if w.code != http.StatusCreated {
			b.Fatalf("status %d", w.code)
		}
	}
}

func BenchmarkMe(b *testing.B) {
	l := lab.New(lab.Config{})
	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login?ms=0", strings.NewReader(`{"user":"ada","password":"x"}`)))
	var login struct{ Token string }
	if err := json.Unmarshal(rec.Body.Bytes(), &login); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/me?ms=0", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			l.ServeHTTP(w, req)
		}
	})
}

// BenchmarkMetrics is a scrape of /metrics with the Go runtime's figures and
// a few parameter sets, as surge's -scrape makes every second.
func BenchmarkMetrics(b *testing.B) {
	l := lab.New(lab.Config{})
	w := &discardWriter{h: http.Header{}}
	for _, p := range []string{"/fixed?ms=0", "/pool?ms=0", "/error?ms=0", "/pause?ms=0"} {
		l.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		l.ServeHTTP(w, req)
	}
}

// BenchmarkLookupScan is the cost of /lookup without the index, per row read.
func BenchmarkLookupScan(b *testing.B) {
	l := lab.New(lab.Config{})
	w := &discardWriter{h: http.Header{}}
	const rows = 1_000_000
	req := httptest.NewRequest(http.MethodGet, "/lookup?rows=1000000", nil)
	l.ServeHTTP(w, req) // builds the table
	b.ReportAllocs()
	for b.Loop() {
		l.ServeHTTP(w, req)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}

// BenchmarkLookupIndex is the cost of /lookup through the index.
func BenchmarkLookupIndex(b *testing.B) {
	l := lab.New(lab.Config{})
	w := &discardWriter{h: http.Header{}}
	req := httptest.NewRequest(http.MethodGet, "/lookup?rows=1000000&index=1", nil)
	l.ServeHTTP(w, req) // builds the table and its index
	b.ReportAllocs()
	for b.Loop() {
		l.ServeHTTP(w, req)
	}
}
