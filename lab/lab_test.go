package lab_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/lab"
)

// reply is one answer from the lab, as a client saw it.
type reply struct {
	code int
	body map[string]any
	raw  string
	took time.Duration
	err  error
}

// get sends GET base+path and decodes the JSON answer.
func get(t *testing.T, base, path string) reply {
	t.Helper()
	return do(t, http.DefaultClient, http.MethodGet, base+path)
}

func do(t *testing.T, c *http.Client, method, url string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(`{"any":"body"}`))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, raw: string(b), took: time.Since(start), err: err}
	if err == nil && resp.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(b, &r.body); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, url, b, err)
		}
	}
	return r
}

func newLab(t *testing.T, cfg lab.Config) (*lab.Server, string) {
	t.Helper()
	l := lab.New(cfg)
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, srv.URL
}

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestFixed(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	r := get(t, base, "/fixed?ms=50")
	if r.code != 200 || r.body["ok"] != true || r.body["endpoint"] != "fixed" || r.body["ms"] != 50.0 {
		t.Fatalf("GET /fixed?ms=50 = %d %s", r.code, r.raw)
	}
	if r.took < 50*time.Millisecond || r.took > 2*time.Second {
		t.Errorf("GET /fixed?ms=50 took %v, want about 50ms", r.took)
	}
	for range 5 {
		r := get(t, base, "/fixed?ms=30&jitter=10")
		got, _ := r.body["ms"].(float64)
		if r.code != 200 || got < 20 || got > 40 {
			t.Fatalf("GET /fixed?ms=30&jitter=10 = %d %s, want ms in [20, 40]", r.code, r.raw)
		}
		if r.took < time.Duration(got*float64(time.Millisecond)) {
			t.Errorf("took %v, less than the %vms the lab reported", r.took, got)
		}
	}
	if r := get(t, base, "/fixed"); r.code != 200 || r.body["ms"] != 0.0 || r.took > time.Second {
		t.Errorf("GET /fixed = %d %s in %v", r.code, r.raw, r.took)
	}
}

func TestCold(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	// Request i costs ms + extra*(n-i+1)/n for i <= n: 2+100, 2+75, 2+50, 2+25, then 2.
	want := []float64{102, 77, 52, 27, 2, 2}
	var took []time.Duration
	for i, w := range want {
		r := get(t, base, "/cold?ms=2&extra=100&n=4")
		if r.code != 200 || r.body["ms"] != w || r.body["request"] != float64(i+1) {
			t.Fatalf("request %d: %d %s, want ms %v", i+1, r.code, r.raw, w)
		}
		if r.took < time.Duration(w*float64(time.Millisecond)) {
			t.Errorf("request %d took %v, want at least %vms", i+1, r.took, w)
		}
		took = append(took, r.took)
	}
	if took[0] <= took[4] {
		t.Errorf("request 1 took %v, not more than request n+1 (%v)", took[0], took[4])
	}
	// Another parameter set warms up on its own.
	if r := get(t, base, "/cold?ms=2&extra=10&n=4"); r.body["ms"] != 12.0 {
		t.Errorf("first request of a new set: %s, want ms 12", r.raw)
	}
}

func TestPause(t *testing.T) {
	clock := newFakeClock()
	_, base := newLab(t, lab.Config{Now: clock.Now})
	const path = "/pause?every=300ms&for=100ms&ms=5"
	// Windows are [300,400), [600,700), … ms after this first request.
	if r := get(t, base, path); r.body["ms"] != 5.0 {
		t.Fatalf("first request: %s, want ms 5", r.raw)
	}
	clock.Advance(150 * time.Millisecond) // in the gap
	if r := get(t, base, path); r.body["ms"] != 5.0 {
		t.Errorf("request at 150ms: %s, want ms 5", r.raw)
	}
	clock.Advance(160 * time.Millisecond) // 310ms: inside the first window
	r := get(t, base, path)
	if r.body["ms"] != 95.0 { // waits 90ms for the window to end, then 5ms
		t.Errorf("request at 310ms: %s, want ms 95", r.raw)
	}
	if r.took < 95*time.Millisecond {
		t.Errorf("request at 310ms took %v, want at least 95ms", r.took)
	}
	clock.Advance(288 * time.Millisecond) // 598ms: 2ms of work, suspended in [600,700), 3ms more
	if r := get(t, base, path); r.body["ms"] != 105.0 {
		t.Errorf("request at 598ms: %s, want ms 105 (suspended by the window)", r.raw)
	}
	clock.Advance(652 * time.Millisecond) // 1250ms: three full windows and half of a fourth
	m := scrape(t, base)
	if got, want := m[`surge_lab_pause_seconds_total{endpoint="pause",params="every=300ms&for=100ms"}`], 0.35; got != want {
		t.Errorf("pause seconds = %v, want %v", got, want)
	}
}

// TestPauseRealClock checks the windows against the wall clock, with margins
// wide enough for a loaded machine.
func TestPauseRealClock(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	const path = "/pause?every=300ms&for=100ms&ms=1"
	start := time.Now()
	get(t, base, path) // creates the windows [300,400), [600,700), …
	time.Sleep(time.Until(start.Add(320 * time.Millisecond)))
	r := get(t, base, path)
	if since := time.Since(start); since < 380*time.Millisecond {
		t.Errorf("request sent inside the first window returned %v after the first request, want ≥ 380ms (%s)", since, r.raw)
	}
}

func TestPool(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	var wg sync.WaitGroup
	took := make([]time.Duration, 4)
	for i := range took {
		wg.Go(func() {
			r := get(t, base, "/pool?size=2&ms=100")
			if r.code != 200 {
				t.Errorf("status %d: %s", r.code, r.raw)
			}
			took[i] = r.took
		})
	}
	wg.Wait()
	slices.Sort(took)
	for i, d := range took {
		want := 100 * time.Millisecond
		if i >= 2 {
			want = 190 * time.Millisecond
		}
		if d < want || d > 5*time.Second {
			t.Errorf("request %d of 4 (by duration) took %v, want at least %v", i+1, d, want)
		}
	}
}

func TestPoolMetrics(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { get(t, base, "/pool?size=1&ms=300") })
	}
	const labels = `{endpoint="pool",params="ms=300&size=1"}`
	deadline := time.Now().Add(2 * time.Second)
	for {
		m := scrape(t, base)
		if m["surge_lab_pool_waiting"+labels] == 2 {
			if m["surge_lab_pool_busy"+labels] != 1 || m["surge_lab_pool_size"+labels] != 1 || m["surge_lab_in_flight"+labels] != 3 {
				t.Errorf("busy %v size %v in flight %v, want 1 1 3", m["surge_lab_pool_busy"+labels], m["surge_lab_pool_size"+labels], m["surge_lab_in_flight"+labels])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never saw 2 requests waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	m := scrape(t, base)
	if m["surge_lab_pool_waiting"+labels] != 0 || m["surge_lab_in_flight"+labels] != 0 || m["surge_lab_requests_total"+labels] != 3 {
		t.Errorf("after the requests: %v", m)
	}
}

func TestReady(t *testing.T) {
	clock := newFakeClock()
	_, base := newLab(t, lab.Config{Warmup: 2 * time.Second, Now: clock.Now})
	r := get(t, base, "/ready")
	if r.code != 503 || r.body["ready"] != false || r.body["remaining_ms"] != 2000.0 {
		t.Fatalf("GET /ready at start = %d %s", r.code, r.raw)
	}
	clock.Advance(1500 * time.Millisecond)
	if r := get(t, base, "/ready"); r.code != 503 || r.body["remaining_ms"] != 500.0 {
		t.Fatalf("GET /ready after 1.5s = %d %s", r.code, r.raw)
	}
	if m := scrape(t, base); m["surge_lab_ready"] != 0 {
		t.Errorf("surge_lab_ready = %v while warming up", m["surge_lab_ready"])
	}
	clock.Advance(500 * time.Millisecond)
	if r := get(t, base, "/ready"); r.code != 200 || r.raw != `{"ready":true}` {
		t.Fatalf("GET /ready after warm-up = %d %s", r.code, r.raw)
	}
	if m := scrape(t, base); m["surge_lab_ready"] != 1 {
		t.Errorf("surge_lab_ready = %v after warm-up", m["surge_lab_ready"])
	}
}

func TestReadyRealClock(t *testing.T) {
	_, base := newLab(t, lab.Config{Warmup: 100 * time.Millisecond})
	if r := get(t, base, "/ready"); r.code != 503 {
		t.Fatalf("GET /ready at start = %d", r.code)
	}
	time.Sleep(110 * time.Millisecond)
	if r := get(t, base, "/ready"); r.code != 200 {
		t.Fatalf("GET /ready after warm-up = %d", r.code)
	}
	if _, base := newLab(t, lab.Config{}); get(t, base, "/ready").code != 200 {
		t.Error("GET /ready without warm-up is not 200")
	}
}

func TestError(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	for _, tt := range []struct {
		path     string
		code     int
		wantErrs int
	}{
		{"/error?ratio=0.1", 500, 10},
		{"/error?ratio=0.25&code=503", 503, 25},
		{"/error?ratio=0", 500, 0},
		{"/error?ratio=1&code=429", 429, 100},
	} {
		var errs []int
		for i := 1; i <= 100; i++ {
			r := get(t, base, tt.path)
			switch r.code {
			case 200:
			case tt.code:
				errs = append(errs, i)
				if r.body["ok"] != false || r.body["error"] != "injected error" {
					t.Errorf("%s: error body %s", tt.path, r.raw)
				}
			default:
				t.Fatalf("%s: request %d: status %d", tt.path, i, r.code)
			}
		}
		if len(errs) != tt.wantErrs {
			t.Errorf("%s: %d errors over 100 requests, want %d", tt.path, len(errs), tt.wantErrs)
		}
		if tt.path == "/error?ratio=0.1" && !slices.Equal(errs, []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}) {
			t.Errorf("%s: errors at requests %v, want every 10th", tt.path, errs)
		}
	}
	m := scrape(t, base)
	if got := m[`surge_lab_errors_total{endpoint="error",params="code=503&ratio=0.25"}`]; got != 25 {
		t.Errorf("errors_total = %v, want 25", got)
	}
}

func TestReset(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	// Keep-alive connections and an idempotent method: the lab's partial
	// response must stop net/http from silently retrying on a new connection.
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var failed []int
		for i := 1; i <= 50; i++ {
			r := do(t, http.DefaultClient, method, base+"/reset?ratio=0.2&ms=1")
			if r.err != nil {
				failed = append(failed, i)
			} else if r.code != 200 {
				t.Fatalf("%s request %d: status %d", method, i, r.code)
			}
		}
		if want := []int{5, 10, 15, 20, 25, 30, 35, 40, 45, 50}; !slices.Equal(failed, want) {
			t.Errorf("%s: failed requests %v, want %v", method, failed, want)
		}
	}
	m := scrape(t, base)
	const labels = `{endpoint="reset",params="ms=1&ratio=0.2"}`
	if m["surge_lab_requests_total"+labels] != 100 || m["surge_lab_resets_total"+labels] != 20 {
		t.Errorf("requests %v resets %v, want 100 20 (a retry would add requests)", m["surge_lab_requests_total"+labels], m["surge_lab_resets_total"+labels])
	}
}

func TestResetRecorder(t *testing.T) {
	// Without a hijackable connection the handler aborts the response.
	l := lab.New(lab.Config{})
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	l.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/reset?ratio=1", nil))
}

func TestBadParams(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	for _, tt := range []struct{ path, param string }{
		{"/fixed?ms=abc", "ms"},
		{"/fixed?ms=-1", "ms"},
		{"/fixed?ms=NaN", "ms"},
		{"/fixed?ms=Inf", "ms"},
		{"/fixed?ms=3600001", "ms"},
		{"/fixed?ms=5&jitter=6", "jitter"},
		{"/fixed?ms=1&ms=2", "ms"},
		{"/fixed?ms=%zz", "query"},
		{"/cold?n=0", "n"},
		{"/cold?n=1.5", "n"},
		{"/cold?extra=x", "extra"},
		{"/pause?every=0", "every"},
		{"/pause?every=soon", "every"},
		{"/pause?every=1s&for=1s", "for"},
		{"/pause?for=-1ms", "for"},
		{"/pool?size=0", "size"},
		{"/pool?size=two", "size"},
		{"/error?ratio=1.5", "ratio"},
		{"/error?code=99", "code"},
		{"/error?code=600", "code"},
		{"/reset?ratio=-0.1", "ratio"},
	} {
		r := get(t, base, tt.path)
		msg, _ := r.body["message"].(string)
		if r.code != 400 || r.body["param"] != tt.param || !strings.HasPrefix(msg, tt.param+": ") {
			t.Errorf("GET %s = %d %s, want 400 naming %q", tt.path, r.code, r.raw, tt.param)
		}
	}
}

func TestIndexAndNotFound(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	r := get(t, base, "/")
	if r.code != 200 {
		t.Fatalf("GET / = %d", r.code)
	}
	var paths []string
	for _, e := range r.body["endpoints"].([]any) {
		paths = append(paths, e.(map[string]any)["path"].(string))
	}
	want := []string{"/fixed", "/cold", "/pause", "/pool", "/ready", "/error", "/reset", "/users", "/search", "/login", "/me", "/gc", "/lookup", "/metrics", "/"}
	if !slices.Equal(paths, want) {
		t.Errorf("index lists %v, want %v", paths, want)
	}
	if r := get(t, base, "/nope"); r.code != 404 || r.body["path"] != "/nope" {
		t.Errorf("GET /nope = %d %s", r.code, r.raw)
	}
}

func TestClientGoneFreesHandler(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/fixed?ms=60000", nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("request with a 50ms timeout to a 60s endpoint succeeded")
	}
	const key = `surge_lab_in_flight{endpoint="fixed",params="ms=60000"}`
	deadline := time.Now().Add(2 * time.Second)
	for scrape(t, base)[key] != 0 {
		if time.Now().After(deadline) {
			t.Fatal("handler still in flight 2s after the client went away")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStartClose(t *testing.T) {
	l := lab.New(lab.Config{})
	if err := l.Close(); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}
	addr, err := l.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	base := "http://" + addr.String()
	if r := get(t, base, "/fixed?ms=1"); r.code != 200 {
		t.Fatalf("GET /fixed = %d %v", r.code, r.err)
	}
	slow := make(chan reply)
	go func() { slow <- get(t, base, "/fixed?ms=60000") }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case r := <-slow:
		if r.err == nil && r.code == 200 {
			t.Errorf("slow request completed normally after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow request still pending 5s after Close")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v to end the slow request", d)
	}
	if r := get(t, base, "/fixed"); r.err == nil {
		t.Error("request after Close succeeded")
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPaths: the start-up line's list is the endpoint table's, so a new
// endpoint is listed without a second edit (the line lacked /gc and
// /lookup when they were added).
func TestPaths(t *testing.T) {
	got := strings.Join(lab.Paths(), " ")
	for _, p := range []string{"/fixed", "/gc", "/lookup", "/pool", "/metrics"} {
		if !strings.Contains(got+" ", p+" ") {
			t.Errorf("lab.Paths() = %s, lacks %s", got, p)
		}
	}
}
