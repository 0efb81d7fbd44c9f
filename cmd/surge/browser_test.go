package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/report"
	"github.com/surge-dev/surge/result"
	surgerun "github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
)

// These tests drive Debian's headless Chromium (package chromium). When it
// is missing they fail: the pictures are a feature, not an option.
//
// Screenshots go to a temporary directory named in the log; with
// SURGE_SCREENSHOTS=docs they are also written to docs/ for the README.

const chromiumPath = "/usr/bin/chromium"

// reboundHost is a name the test browser resolves to 127.0.0.1 itself.
const reboundHost = "rebind.test"

func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath
	if p := os.Getenv("SURGE_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("headless Chromium is needed for this test and was not found at %s (%v): install it with 'apt-get install -y chromium', or set SURGE_CHROMIUM", path, err)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// A name "rebound" to loopback without any DNS lookup, to drive a
		// DNS-rebinding attack on the dashboard.
		chromedp.Flag("host-resolver-rules", "MAP "+reboundHost+" 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start headless Chromium at %s: %v", path, err)
	}
	return ctx
}

// within runs fn with a timeout derived from the browser's context.
func within[T any](t *testing.T, ctx context.Context, d time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

var artifactDir string

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	save(t, name, within(t, ctx, 20*time.Second, chromedp.FullScreenshot(100)))
}

// save writes a screenshot to the test's artifact directory and, with
// SURGE_SCREENSHOTS=docs, to docs/.
func save(t *testing.T, name string, png []byte) {
	t.Helper()
	if artifactDir == "" {
		d, err := os.MkdirTemp("", "surge-screenshots-")
		if err != nil {
			t.Fatal(err)
		}
		artifactDir = d
	}
	path := filepath.Join(artifactDir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if os.Getenv("SURGE_SCREENSHOTS") == "docs" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const seriesJS = `Object.fromEntries(Object.entries(window.surgeCharts).map(([k, u]) => [k, u.series.length - 1]))`
const xRangesJS = `Object.fromEntries(Object.entries(window.surgeCharts).map(([k, u]) => [k, [u.scales.x.min, u.scales.x.max]]))`
const labelsJS = `Array.from(document.querySelectorAll('#labels tbody tr')).map(tr => Array.from(tr.cells).map(td => td.textContent))`

// expectedRows computes the per-label table rows of one results file
// straight from a summary.
func expectedRows(t *testing.T, path, run string) [][]string {
	t.Helper()
	s := summary.New(summary.Options{})
	var e env
	e.stderr = io.Discard
	if err := readResults(&e, []string{path}, s, nil); err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, st := range append(s.Labels(), s.Total) {
		l := st.Latency
		name := st.Label
		if st == s.Total {
			name = "Total"
		}
		row := []string{name, fmt.Sprint(st.Requests), fmt.Sprintf("%.2f%%", st.SuccessRatio()*100), fmt.Sprintf("%.2f", st.Rate()),
			roundForTest(l.Quantile(0.5)), roundForTest(l.Quantile(0.9)), roundForTest(l.Quantile(0.99)), roundForTest(l.Max()), fmt.Sprint(st.Failed())}
		if run != "" {
			row = append([]string{run}, row...)
		}
		rows = append(rows, row)
	}
	return rows
}

// roundForTest rounds as the text report does (to the unit below the
// largest).
func roundForTest(d time.Duration) string {
	units := [...]time.Duration{time.Hour, time.Minute, time.Second, time.Millisecond, time.Microsecond}
	for i, u := range units {
		if d >= u {
			if i+1 < len(units) {
				return d.Round(units[i+1]).String()
			}
			return d.String()
		}
	}
	return d.String()
}

func TestBrowserReport(t *testing.T) {
	ctx := browser(t)
	base := startLab(t)
	dir := t.TempDir()
	targets := "GET " + base + "/fixed?ms=5&jitter=3\n\nGET " + base + "/pause?every=1s&for=200ms&ms=2\n\nGET " + base + "/error?ratio=0.1&ms=3\n"
	var files []string
	for _, rate := range []string{"150/1s", "300/1s"} {
		f := filepath.Join(dir, "rate"+strings.TrimSuffix(rate, "/1s")+".srg")
		if code, _, stderr := surge(t, context.Background(), targets, "attack", "-rate", rate, "-duration", "2s", "-quiet", "-output", f); code != 0 {
			t.Fatalf("attack exit %d: %s", code, stderr)
		}
		files = append(files, f)
	}
	page := filepath.Join(dir, "report.html")
	if code, _, stderr := surge(t, context.Background(), "", append([]string{"plot", "-output", page}, files...)...); code != 0 {
		t.Fatalf("plot exit %d: %s", code, stderr)
	}
	within(t, ctx, 30*time.Second, chromedp.Navigate("file://"+page))
	within(t, ctx, 30*time.Second, chromedp.WaitVisible("body[data-rendered]"))

	got := within(t, ctx, 10*time.Second, chromedp.Evaluate[map[string]int](seriesJS))
	want := map[string]int{"latency": 6, "percentiles": 8, "throughput": 8, "hist": 2, "spectrum": 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series per chart (-want +got):\n%s", diff)
	}
	rows := within(t, ctx, 10*time.Second, chromedp.Evaluate[[][]string](labelsJS))
	var wantRows [][]string
	requests := 0
	for _, f := range files {
		r := expectedRows(t, f, runName([]string{f}))
		wantRows = append(wantRows, r...)
		n, _ := strconv.Atoi(r[len(r)-1][2])
		requests += n
	}
	// Every request of both runs is a point (far under the budget).
	points := within(t, ctx, 10*time.Second, chromedp.Evaluate[int](`surgeCharts.latency.data[0].length`))
	drawn := within(t, ctx, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll('#charts canvas').length`))
	if points != requests || drawn != 5 {
		t.Errorf("latency chart has %d points, want %d (every request); %d canvases, want 5", points, requests, drawn)
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("per-label table (-want +got):\n%s", diff)
	}
	// Every time chart shows the same span, so that a second sits at the
	// same place on each.
	ranges := within(t, ctx, 10*time.Second, chromedp.Evaluate[map[string][2]float64](xRangesJS))
	for _, k := range []string{"percentiles", "throughput"} {
		if ranges[k] != ranges["latency"] {
			t.Errorf("%s chart shows %v s, latency chart %v s: want the same span", k, ranges[k], ranges["latency"])
		}
	}
	checkLegendsAndTicks(t, ctx)
	if title := within(t, ctx, 10*time.Second, chromedp.Evaluate[string](`document.title`)); title != "surge report: rate150, rate300" {
		t.Errorf("overlay page titled %q, want it to name both runs", title)
	}
	// The findings, the text report's sentences, one list per run; a
	// label's URL with & reads as typed (escaped, not as &amp;).
	findings := within(t, ctx, 10*time.Second, chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll('#findings ul')).map(ul => Array.from(ul.children).map(li => li.textContent))`))
	if len(findings) != 2 {
		t.Fatalf("findings lists %v, want one per run", findings)
	}
	for i, lines := range findings {
		joined := strings.Join(lines, "\n")
		if !strings.HasPrefix(joined, "generator: ") || !strings.Contains(joined, "GET /error?ratio=0.1&ms=3: errors far above the other labels") {
			t.Errorf("run %d findings in the page lack the generator's line or /error's error rate:\n%s", i, joined)
		}
	}
	// The charts and findings, not the tables, at 0.7 scale: the README's
	// picture stays small.
	save(t, "report.png", within(t, ctx, 20*time.Second, chromedp.ScreenshotScale("#charts", 0.7)))
}

// checkLegendsAndTicks checks that no legend shows "null" or "--" and
// that tick labels read as their values: every time label parses back to
// its tick (a 0.25 s step is not "0.3s") at several zooms, the latency
// axes do not start at "0µs", and the distribution's axis has several
// labels.
func checkLegendsAndTicks(t *testing.T, ctx context.Context) {
	t.Helper()
	legends := within(t, ctx, 10*time.Second, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('.u-legend .u-value')).map(e => e.textContent)`))
	for _, v := range legends {
		if v == "null" || v == "--" {
			t.Errorf("a legend shows %q (all: %q)", v, legends)
			break
		}
	}
	// Zoom the latency chart (the others follow) from 0.5 s to 5 s wide
	// and read every time axis's labels against its ticks.
	bad := within(t, ctx, 20*time.Second, chromedp.Evaluate[[]string](`(async () => {
		const bad = [], u = surgeCharts.latency, x0 = u.scales.x.min, x1 = u.scales.x.max;
		for (let w = 0.5; w <= 5; w += 0.25) {
			u.setScale("x", {min: 0, max: w});
			await new Promise(r => setTimeout(r, 0)); // uPlot redraws after a microtask
			for (const k of ["latency", "percentiles", "throughput"]) {
				const a = surgeCharts[k].axes[0];
				a._splits.forEach((v, i) => {
					const l = a._values[i];
					if (l == null || l === "") return;
					const got = parseFloat(l);
					if (!/^-?[0-9.]+s$/.test(l) || Math.abs(got - v) > 1e-9 + 1e-6 * Math.abs(v)) bad.push(k + " span " + w + "s: tick " + v + " labelled " + l);
				});
			}
		}
		u.setScale("x", {min: x0, max: x1});
		return bad;
	})()`, chromedp.EvalAwaitPromise))
	if len(bad) > 0 {
		t.Errorf("%d time labels do not read as their ticks, e.g. %q", len(bad), bad[:min(5, len(bad))])
	}
	first := within(t, ctx, 10*time.Second, chromedp.Evaluate[map[string]string](
		`Object.fromEntries(["latency", "percentiles"].map(k => [k, surgeCharts[k].axes[1]._values[0]]))`))
	for k, l := range first {
		if l == "0µs" || l == "" {
			t.Errorf("the %s chart's latency axis starts at %q, want a plain 0 or a value", k, l)
		}
	}
	hist := within(t, ctx, 10*time.Second, chromedp.Evaluate[[]string](`surgeCharts.hist.axes[0]._values.filter(v => v)`))
	if len(hist) < 4 {
		t.Errorf("the distribution's axis has labels %q, want at least 4", hist)
	}
	// The bars fill the axis: it ends near the slowest run's top bin, not
	// at the next power of ten.
	span := within(t, ctx, 10*time.Second, chromedp.Evaluate[[3]float64](`(() => {
		const u = surgeCharts.hist, top = Math.max(...surgeCharts.hist.data[0]);
		return [u.scales.x.min, u.scales.x.max, top];
	})()`))
	if span[1] > 1.5*span[2] {
		t.Errorf("the distribution's axis spans %g–%g ms for bins up to %g ms: the bars are squeezed to one side", span[0], span[1], span[2])
	}
}

func TestBrowserDashboard(t *testing.T) {
	ctx := browser(t)
	base := startLab(t)
	cfg := attack.Config{
		Targets:  []target.Target{{Method: "GET", URL: base + "/fixed?ms=5&jitter=3"}, {Method: "GET", URL: base + "/pause?every=2s&for=300ms&ms=2"}},
		Rate:     schedule.Rate{Freq: 200, Per: time.Second},
		Duration: 60 * time.Second,
	}
	cfg.Labels = labels(cfg.Targets, "")
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	meta := surgerun.NewMeta(cfg, []string{"surge", "attack", "-rate", "200", "-duration", "60s", "-dashboard", "127.0.0.1:0"})
	a, err := attack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr}
	views, err := liveViews(e, liveOptions{dashboard: "127.0.0.1:0", quiet: true}, a.Stats(), cfg, meta, cancel)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`http://([0-9.:]+)/`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no dashboard address in %q", stderr.String())
	}
	addr := m[1]
	runDone := make(chan error, 1)
	go func() {
		runDone <- a.Run(runCtx, func(b []result.Result) error {
			for _, v := range views {
				result.AddBatch(v, meta, b)
			}
			return nil
		})
	}()

	within(t, ctx, 30*time.Second, chromedp.Navigate("http://"+addr+"/"))
	// The page counts its renders, one per event (every second). On a
	// loaded machine the page may open late, after more than three: wait
	// for at least that many, not for the count to be exactly three.
	rendered := renders(t, ctx, 3, 30*time.Second)
	got := within(t, ctx, 10*time.Second, chromedp.Evaluate[map[string]int](seriesJS))
	want := map[string]int{"latency": 3, "percentiles": 4, "throughput": 4, "hist": 1, "spectrum": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series per chart (-want +got):\n%s", diff)
	}
	total := func() string {
		rows := within(t, ctx, 10*time.Second, chromedp.Evaluate[[][]string](labelsJS))
		if len(rows) != 3 {
			t.Fatalf("live table has %d rows, want 2 labels and the total: %v", len(rows), rows)
		}
		return rows[2][1]
	}
	first := total()
	// The page is named by the run's command and shows its progress
	// toward -duration.
	if title := within(t, ctx, 10*time.Second, chromedp.Evaluate[string](`document.title`)); title != "surge live: surge attack -rate 200 -duration 60s -dashboard 127.0.0.1:0" {
		t.Errorf("live page titled %q, want the run's command", title)
	}
	progress := within(t, ctx, 10*time.Second, chromedp.Evaluate[[]string](
		`[document.querySelector("#progress .progress-text")?.textContent || "", String(document.querySelector("#progress progress")?.value)]`))
	if !regexp.MustCompile(`^[0-9]+s of 60s \([0-9]+%\)$`).MatchString(progress[0]) || progress[1] == "0" || progress[1] == "undefined" {
		t.Errorf("live progress %q, want 'Ns of 60s (P%%)' and a bar past 0", progress)
	}
	renders(t, ctx, rendered+2, 30*time.Second)
	if second := total(); second == first {
		t.Errorf("live table did not update: %s requests, then %s", first, second)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{`surge_requests_total{result="ok"}`, `surge_latency_seconds_bucket{le="0.01"}`, "surge_in_flight", "surge_send_lag_seconds_count"} {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("/metrics lacks %s:\n%s", w, body)
		}
	}
	screenshot(t, ctx, "dashboard.png")
	token := regexp.MustCompile(`"token":"([0-9a-f]+)"`).FindStringSubmatch(getBody(t, "http://"+addr+"/"))
	if token == nil {
		t.Fatal("the dashboard page carries no token")
	}

	// DNS rebinding: a page whose name now resolves to 127.0.0.1 gets
	// neither the dashboard nor its data.
	_, port, _ := strings.Cut(addr, ":")
	within(t, ctx, 30*time.Second, chromedp.Navigate("http://"+reboundHost+":"+port+"/"))
	if got := within(t, ctx, 10*time.Second, chromedp.Evaluate[int](`fetch("/metrics").then(r => r.status)`, chromedp.EvalAwaitPromise)); got != http.StatusMisdirectedRequest {
		t.Errorf("/metrics fetched by a page at %s:%s: status %d, want 421", reboundHost, port, got)
	}
	if got := within(t, ctx, 10*time.Second, chromedp.Evaluate[int](`fetch("/stop?token=`+token[1]+`", {method: "POST"}).then(r => r.status)`, chromedp.EvalAwaitPromise)); got != http.StatusMisdirectedRequest {
		t.Errorf("POST /stop by a page at %s:%s: status %d, want 421", reboundHost, port, got)
	}
	// Cross-site request forgery: a page of another origin (another port
	// of this host) posts to /stop, even with the token; the run goes on.
	other := httptestPage(t)
	within(t, ctx, 30*time.Second, chromedp.Navigate(other))
	within(t, ctx, 10*time.Second, chromedp.Evaluate[string](`fetch("http://`+addr+`/stop?token=`+token[1]+`", {method: "POST", mode: "no-cors"}).then(() => "sent", e => "failed: " + e)`, chromedp.EvalAwaitPromise))
	select {
	case err := <-runDone:
		t.Fatalf("a page of another origin stopped the run (run error %v, %d results)", err, a.Stats().Done.Load())
	case <-time.After(time.Second):
	}

	within(t, ctx, 30*time.Second, chromedp.Navigate("http://"+addr+"/"))
	within(t, ctx, 30*time.Second, chromedp.WaitVisible(`body[data-rendered]`))
	within(t, ctx, 10*time.Second, chromedp.Evaluate[bool](`document.getElementById("stop").click(), true`))
	clicked := time.Now()
	select {
	case err := <-runDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the stop button did not end the run within 30s (%d results so far)", a.Stats().Done.Load())
	}
	t.Logf("run ended %s after the click", time.Since(clicked).Round(time.Millisecond))
	if n := a.Stats().Done.Load(); n >= 200*60 {
		t.Errorf("run was not stopped early: %d results", n)
	}
	stopped := make(chan struct{})
	go func() {
		for _, v := range views {
			v.Stop()
		}
		close(stopped)
	}()
	within(t, ctx, 15*time.Second, chromedp.WaitVisible("#final-report"))
	<-stopped
}

// httptestPage serves a blank page on another loopback port and returns
// its URL.
func httptestPage(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!DOCTYPE html><title>another site</title><p>another site</p>")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// getBody returns the body of a GET of url.
func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// renders waits up to d until the page has rendered at least n times and
// returns how many times it had. It asks every 50ms rather than polling in
// the page: on a loaded machine the page's document can still be replaced
// after Navigate returns, and a poll task does not survive that ("Cannot
// find context with specified id").
func renders(t *testing.T, ctx context.Context, n int, d time.Duration) int {
	t.Helper()
	js := `+document.body.getAttribute("data-rendered") || 0`
	deadline := time.Now().Add(d)
	for {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		got, err := chromedp.Run(c, chromedp.Evaluate[int](js))
		cancel()
		if err == nil && got >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: the page rendered %d times in %s, want at least %d (last error: %v)", got, d, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestBrowserMillion measures the HTML report of a synthetic
// 1,000,000-request run: its size and the time headless Chromium takes to
// open and draw it. It runs with SURGE_MEASURE=1 (about a minute).
func TestBrowserMillion(t *testing.T) {
	if os.Getenv("SURGE_MEASURE") == "" {
		t.Skip("set SURGE_MEASURE=1 to measure the report of a 1,000,000-request run")
	}
	ctx := browser(t)
	dir := t.TempDir()
	srg := filepath.Join(dir, "million.srg")
	f, err := os.Create(srg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := result.NewWriter(f, &result.Meta{ID: "million", Start: time.Now(), Profile: "rate 10000/1s for 1m40s"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1_000_000
	for i := range n {
		at := time.Duration(i) * 100 * time.Microsecond // 10,000/s for 100s
		r := result.Result{Seq: uint64(i), Label: []string{"GET /a", "GET /b", "POST /c"}[i%3], Intended: at, Sent: at + 20*time.Microsecond,
			Latency: time.Duration(2000+(i*7919)%6000) * time.Microsecond, Status: 200, BytesIn: 80}
		if at%(10*time.Second) < 300*time.Millisecond { // a 300ms pause every 10s
			r.Latency += 300*time.Millisecond - at%(10*time.Second)
		}
		if i%97 == 0 {
			r.Status = 500
		}
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	page := filepath.Join(dir, "million.html")
	start := time.Now()
	if code, _, stderr := surge(t, context.Background(), "", "plot", "-output", page, srg); code != 0 {
		t.Fatalf("plot exit %d: %s", code, stderr)
	}
	build := time.Since(start)
	st, err := os.Stat(page)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	within(t, ctx, 60*time.Second, chromedp.Navigate("file://"+page))
	within(t, ctx, 60*time.Second, chromedp.WaitVisible("body[data-rendered]"))
	open := time.Since(start)
	points := within(t, ctx, 10*time.Second, chromedp.Evaluate[int](`surgeCharts.latency.data[0].length`))
	t.Logf("1,000,000 requests: HTML %.2f MB, written in %s, opened and drawn in %s, %d points drawn",
		float64(st.Size())/1e6, build.Round(time.Millisecond), open.Round(time.Millisecond), points)
	if st.Size() > 5e6 || open > 2*time.Second {
		t.Errorf("HTML %.2f MB opened in %s: want under 5 MB and 2s", float64(st.Size())/1e6, open)
	}
	screenshot(t, ctx, "million.png")
}

// TestBrowserSignals: a run against the lab's /pause with -scrape of its
// /metrics every 250ms (and of an address that refuses connections) draws
// the server signals under the latency charts, on the same time axis,
// with the pause counter rising in the pauses; the screenshot is the
// README's (docs/signals.png).
func TestBrowserSignals(t *testing.T) {
	ctx := browser(t)
	base := startLab(t)
	dir := t.TempDir()
	srg := filepath.Join(dir, "pause.srg")
	badURL := refusedURL(t)
	targets := "GET " + base + "/pause?every=2s&for=300ms&ms=2\n\nGET " + base + "/fixed?ms=3&jitter=1\n"
	if code, _, stderr := surge(t, context.Background(), targets, "attack", "-rate", "100/1s", "-duration", "12s", "-quiet",
		"-scrape", base+"/metrics", "-scrape", badURL, "-scrape-interval", "250ms", "-output", srg); code != 0 {
		t.Fatalf("attack exit %d: %s", code, stderr)
	}
	page := filepath.Join(dir, "signals.html")
	if code, _, stderr := surge(t, context.Background(), "", "plot", "-output", page, srg); code != 0 {
		t.Fatalf("plot exit %d: %s", code, stderr)
	}
	if code, out, _ := surge(t, context.Background(), "", "report", srg); code == 0 {
		t.Logf("surge report:\n%s", out)
	}

	within(t, ctx, 30*time.Second, chromedp.Navigate("file://"+page))
	within(t, ctx, 30*time.Second, chromedp.WaitVisible("body[data-rendered]"))
	titles := checkSignalCharts(t, ctx)
	pause := -1
	for i, title := range titles {
		if strings.HasPrefix(title, "surge_lab_pause_seconds_total") {
			pause = i
		}
	}
	if pause >= 0 {
		checkPauseSteps(t, ctx, pause)
	} else {
		// Unless the findings name it (analyze's truth tests say when they
		// must; a busy machine leaves the signals unjudged), the pause
		// counter competes with the lab's Go runtime series on how much
		// they moved, and may rank past the twelve drawn.
		t.Logf("the pause counter is not among the charts drawn: %q", titles)
	}
	sources := within(t, ctx, 10*time.Second, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('[id^="sources-"] tbody tr')).map(tr => Array.from(tr.cells).map(td => td.textContent))`))
	failedAll := false
	for _, row := range sources {
		if len(row) >= 3 && row[0] == badURL && row[1] == row[2] && row[1] != "0" {
			failedAll = true
		}
	}
	if len(sources) < 2 || !failedAll {
		t.Errorf("sources table %v: want the lab's and %s with every reading failed", sources, badURL)
	}
	// The findings the charts' order rests on are on the page too.
	if f := within(t, ctx, 10*time.Second, chromedp.Evaluate[string](`(document.getElementById("findings-0") || {}).textContent || ""`)); !strings.Contains(f, "server signals") {
		t.Errorf("the page's findings %q lack the server-signal finding", f)
	}
	t.Logf("signal charts, in order: %q", titles)
	screenshotCharts(t, ctx, "signals.png")
}

// checkPauseSteps checks the chart signal-i of the lab's pause counter:
// it rises only inside the pauses (every 2s for 300ms), so its rate is
// over 0.3/s in a few stretches, one per pause, and 0 most of the time.
func checkPauseSteps(t *testing.T, ctx context.Context, i int) {
	t.Helper()
	pause := i
	steps := within(t, ctx, 10*time.Second, chromedp.Evaluate[[2][]float64](fmt.Sprintf(`(u => [u.data[0], u.data[1].map(v => v == null ? -1 : v)])(surgeCharts["signal-%d"])`, pause)))
	stretches, busy, span := 0, 0.0, 0.0
	for i := 0; i+1 < len(steps[0]); i++ {
		d, r := steps[0][i+1]-steps[0][i], steps[1][i]
		span += d
		if r > 0 {
			busy += d
		}
		if r > 0.3 && (i == 0 || steps[1][i-1] <= 0.3) {
			stretches++
		}
	}
	if stretches < 2 || busy > span/2 {
		t.Errorf("pause counter steps %v: %d stretches over 0.3/s, rising %.2fs of %.2fs; want at least 2 (one per pause), rising under half the time", steps, stretches, busy, span)
	}
}

// TestBrowserDashboardSignals: with -dashboard and -scrape, the live page
// draws the server signals as the readings arrive, under the latency
// charts on their axis, and they grow from one event to the next.
func TestBrowserDashboardSignals(t *testing.T) {
	ctx := browser(t)
	base := startLab(t)
	addr := strings.TrimPrefix(strings.TrimSuffix(refusedURL(t), "/metrics"), "http://") // a free port
	done := make(chan string, 1)
	go func() {
		// 20s: the charts must still be growing after the browser has
		// started, loaded the page and seen the first of them (with 10s
		// the run had ended by then once, on a quiet machine, and the
		// charts stood still at their last reading).
		code, _, stderr := surge(t, context.Background(), "GET "+base+"/pause?every=2s&for=300ms&ms=2\n", "attack", "-rate", "100/1s", "-duration", "20s",
			"-quiet", "-dashboard", addr, "-scrape", base+"/metrics", "-scrape-interval", "250ms", "-output", filepath.Join(t.TempDir(), "live.srg"))
		done <- fmt.Sprintf("exit %d: %s", code, stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard at %s did not answer in 10s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	within(t, ctx, 30*time.Second, chromedp.Navigate("http://"+addr+"/"))
	steps := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`surgeCharts["signal-0"] ? surgeCharts["signal-0"].data[0].length + Object.keys(surgeCharts).length * 1000 : 0`))
		if err != nil {
			return 0
		}
		return n
	}
	// Wait for the signal charts, then for them to grow.
	var first int
	for first = steps(); first == 0 && time.Now().Before(deadline.Add(20*time.Second)); first = steps() {
		time.Sleep(100 * time.Millisecond)
	}
	if first == 0 {
		t.Fatal("the live page drew no server-signal chart")
	}
	n := renders(t, ctx, 1, 10*time.Second)
	renders(t, ctx, n+3, 20*time.Second)
	if second := steps(); second <= first {
		t.Errorf("signal charts did not grow: %d, then %d (steps of the first plus 1000 per chart)", first, second)
	}
	titles := checkSignalCharts(t, ctx)
	t.Logf("live signal charts: %q", titles)
	select {
	case r := <-done:
		if !strings.HasPrefix(r, "exit 0") {
			t.Fatalf("attack %s", r)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the attack did not end")
	}
}

// refusedURL returns a /metrics URL on a loopback port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/metrics"
	ln.Close()
	return u
}

// checkSignalCharts checks that the page has server-signal charts, each
// with a line, on the latency chart's x range and plot area, and returns
// their titles in page order.
func checkSignalCharts(t *testing.T, ctx context.Context) []string {
	t.Helper()
	type chart struct {
		Title        string
		Left, Width  float64
		Min, Max     float64
		Points, Dots int
	}
	charts := within(t, ctx, 10*time.Second, chromedp.Evaluate[map[string]chart](signalChartsJS))
	lat, ok := charts["latency"]
	if !ok {
		t.Fatalf("no latency chart: %v", charts)
	}
	var titles []string
	for i := range len(charts) {
		k := fmt.Sprintf("signal-%d", i)
		c, ok := charts[k]
		if !ok {
			break
		}
		titles = append(titles, c.Title)
		if c.Min != lat.Min || c.Max != lat.Max || c.Left != lat.Left || c.Width != lat.Width {
			t.Errorf("%s (%s): x %v–%v s at %v+%v px; the latency chart's is %v–%v s at %v+%v px: want the same axis",
				k, c.Title, c.Min, c.Max, c.Left, c.Width, lat.Min, lat.Max, lat.Left, lat.Width)
		}
		if c.Points < 2 || c.Dots < 2 {
			t.Errorf("%s (%s): %d steps, %d with a value: want a line", k, c.Title, c.Points, c.Dots)
		}
	}
	if len(titles) < 3 || len(titles) > report.MaxSignalCharts {
		t.Errorf("%d signal charts (%v): want the lab's series, at most %d", len(titles), titles, report.MaxSignalCharts)
	}
	return titles
}

// signalChartsJS returns every chart's title, plot area (CSS px), x range
// and how many steps it has with a value.
const signalChartsJS = `Object.fromEntries(Object.entries(window.surgeCharts).map(([k, u]) => [k, {
  Title: u.root.querySelector('.u-title') ? u.root.querySelector('.u-title').textContent : "",
  Left: u.bbox.left / devicePixelRatio, Width: u.bbox.width / devicePixelRatio,
  Min: u.scales.x.min, Max: u.scales.x.max,
  Points: u.data[0].length, Dots: (u.data[1] || []).filter(v => v != null).length }]))`

// screenshotCharts takes a screenshot of the time charts and the first
// four server signals' (the rest, the distribution and the spectrum
// hidden), the README's picture, at 0.7 scale to keep it small.
func screenshotCharts(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	within(t, ctx, 10*time.Second, chromedp.Evaluate[bool](`document.querySelectorAll("#chart-hist, #chart-spectrum, #charts .signal").forEach((e, i) => { if (!e.classList.contains("signal") || i >= 4) e.style.display = "none"; }), true`))
	save(t, name, within(t, ctx, 20*time.Second, chromedp.ScreenshotScale("#charts", 0.7)))
}
