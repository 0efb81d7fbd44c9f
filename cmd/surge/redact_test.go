package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// secretMark starts every secret of TestSecretsNeverReachOutput, so one
// search finds any of them in any output.
const secretMark = "S3CR3T"

// TestSecretsNeverReachOutput runs attack (plain and -template), run and
// capacity with secrets in every spelling the command line and a scenario
// allow — -header=, --header=, -header "K: V", URL userinfo, token= and
// api_key= query parameters in targets, scenario URLs and arguments,
// -base-url userinfo, scenario headers — and searches every channel for
// them: the results file, every report type, plot's HTML, encode json and
// csv, compare, the dry run, stdout and stderr, and the live dashboard's
// page, /events, /metrics and /report.html.
func TestSecretsNeverReachOutput(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	oldArgs := os.Args
	t.Cleanup(func() { os.Args = oldArgs })
	// channels maps a channel's name to what it printed.
	channels := map[string]string{}
	// cmd runs a command line as the process would see it.
	cmd := func(name, stdin string, args ...string) string {
		t.Helper()
		os.Args = append([]string{"surge"}, args...)
		code, stdout, stderr := surge(t, context.Background(), stdin, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, stdout, stderr)
		}
		channels[name+" stdout"], channels[name+" stderr"] = stdout, stderr
		return stdout
	}

	attackFile := filepath.Join(dir, "attack.srg")
	targets := "GET http://user:" + secretMark + "-userinfo@" + host + "/a?ms=1&token=" + secretMark + "-qtoken&api_key=" + secretMark + "-qapikey\n"
	args := []string{"attack", "-rate", "50", "-duration", "1500ms", "-quiet", "-output", attackFile,
		"-header=Authorization: Bearer " + secretMark + "-eq", "--header=X-Api-Key: " + secretMark + "-dasheq",
		"-header", "Cookie: session=" + secretMark + "-space", "--header", "X-Auth-Token: " + secretMark + "-dashspace",
		"-header", "Accept: text/plain", "-dashboard", "127.0.0.1:0",
		"-scrape", "http://scraper:" + secretMark + "-suserinfo@" + host + "/metrics?token=" + secretMark + "-stoken", "-scrape-interval", "300ms"}
	os.Args = append([]string{"surge"}, args...)
	dashboardChannels(t, "attack", targets, channels, args...)

	tmplFile := filepath.Join(dir, "template.srg")
	// Two targets told apart only by their secrets: one label would name
	// both, so each is named by its (redacted) URL.
	tmplTarget := "GET http://user:" + secretMark + "-tuserinfo@" + host + "/t/{{seq}}?token=" + secretMark + "-tqtoken"
	cmd("attack -template", tmplTarget+"1\n\n"+tmplTarget+"2\n",
		"attack", "-template", "-rate", "max", "-count", "20", "-connections", "2", "-quiet", "-output", tmplFile,
		"-header=Authorization: Bearer "+secretMark+"-teq")

	scn := writeFile(t, dir, "leak.yaml", `name: leak
base_url: http://127.0.0.1:1
load:
  rate: 40/1s
  duration: 1500ms
requests:
  - url: /b?token=`+secretMark+`-stoken&api_key=`+secretMark+`-sapikey&ms=1
    headers:
      Authorization: Bearer `+secretMark+`-shdr
      X-Session-Secret: `+secretMark+`-ssecret
  - url: http://user:`+secretMark+`-suserinfo@`+host+`/c?password=`+secretMark+`-spassword
`)
	runFile := filepath.Join(dir, "run.srg")
	base := "http://user:" + secretMark + "-base@" + host
	args = []string{"run", "-quiet", "-base-url", base, "-output", runFile, "-dashboard", "127.0.0.1:0", scn}
	os.Args = append([]string{"surge"}, args...)
	dashboardChannels(t, "run", "", channels, args...)
	cmd("run -dry-run", "", "run", "-dry-run", "-base-url="+base, scn)

	// A scenario the fast client cannot run is refused naming the request,
	// not showing its secrets.
	https := writeFile(t, dir, "https.yaml", `name: https
load: {rate: 1/1s, duration: 1s}
requests:
  - url: https://user:`+secretMark+`-httpsuserinfo@127.0.0.1:1/x?token=`+secretMark+`-httpstoken
`)
	os.Args = []string{"surge", "run", "-client", "fast", https}
	code, stdout, stderr := surge(t, context.Background(), "", "run", "-client", "fast", "-output", filepath.Join(dir, "https.srg"), https)
	if code != 2 || !strings.Contains(stderr, "-client fast") {
		t.Errorf("run -client fast of an https scenario: exit %d, stderr %q; want a usage error", code, stderr)
	}
	channels["run -client fast stdout"], channels["run -client fast stderr"] = stdout, stderr

	capFile := filepath.Join(dir, "capacity.srg")
	// p50: a p99 on 0.8 s at 20/s rests on 16 requests, which capacity now refuses.
	cmd("capacity", "", "capacity", "-slo", "p50<1s", "-start", "20/1s", "-max", "40/1s", "-step-duration", "1s",
		"-max-trials", "1", "-cooldown", "0", "-quiet", "-output", capFile,
		"-scrape", "http://"+host+"/metrics?api_key="+secretMark+"-capscrape",
		"-header=Authorization: Bearer "+secretMark+"-capeq", srv.URL+"/d?access_token="+secretMark+"-capq")

	files := []string{attackFile, tmplFile, runFile, capFile}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		channels["results file "+name] = string(b)
		for _, typ := range []string{"text", "json", "html", "hist[0,10ms,100ms]"} {
			cmd("report -type "+typ+" "+name, "", "report", "-type", typ, f)
		}
		cmd("plot "+name, "", "plot", f)
		cmd("encode json "+name, "", "encode", "-to", "json", f)
		cmd("encode csv "+name, "", "encode", "-to", "csv", f)
	}
	for _, typ := range []string{"text", "json", "markdown"} {
		cmd("compare -type "+typ, "", "compare", "-type", typ, attackFile, runFile)
	}

	for name, out := range channels {
		if i := strings.Index(out, secretMark); i >= 0 {
			t.Errorf("%s shows a secret: …%s…", name, out[max(0, i-120):min(len(out), i+40)])
		}
	}
	// The channels show what was redacted, so the search above looked at
	// the right things: the command lines as given, with REDACTED values.
	for name, want := range map[string][]string{
		"results file attack.srg": {`"-header=Authorization: REDACTED"`, `"-header=X-Api-Key: REDACTED"`, `"-header=Cookie: REDACTED"`,
			`"-header=X-Auth-Token: REDACTED"`, `"-header=Accept: text/plain"`, `"-rate=50/1s"`, `token=REDACTED`, `user:REDACTED@`,
			`/metrics?token=REDACTED`},
		"results file template.srg": {`"-header=Authorization: REDACTED"`, `"-template=true"`, `token=REDACTED`},
		"results file run.srg":      {`"-base-url=http://user:REDACTED@`, `api_key=REDACTED`, `token=REDACTED`, `password=REDACTED`, `user:REDACTED@`},
		"results file capacity.srg": {`"-header=Authorization: REDACTED"`, `access_token=REDACTED`, `/metrics?api_key=REDACTED`},
		"attack /events":            {`-header=Authorization: REDACTED`, `token=REDACTED`},
		"run /report.html":          {`-base-url=http://user:REDACTED@`, `api_key=REDACTED`},
		"run -dry-run stdout":       {`Authorization: REDACTED`, `X-Session-Secret: REDACTED`, `user:REDACTED@`},
	} {
		for _, w := range want {
			if !strings.Contains(channels[name], w) {
				t.Errorf("%s lacks %s", name, w)
			}
		}
	}
}

// dashboardChannels runs a load command whose args serve -dashboard on
// 127.0.0.1:0 and reads, while it runs, every channel of its dashboard into
// channels under "CMD /path": the page, /metrics, the /events stream up to
// its done event, and then the final /report.html. It records the
// command's stdout and stderr too.
func dashboardChannels(t *testing.T, cmd, stdin string, channels map[string]string, args ...string) {
	t.Helper()
	var stdout bytes.Buffer
	var stderr syncBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(context.Background(), &env{strings.NewReader(stdin), &stdout, &stderr}, args) }()
	addrRE := regexp.MustCompile(`dashboard at http://([0-9.:]+)/`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-exited:
			t.Fatalf("%s exited %d before its dashboard started: %s", cmd, code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no dashboard address within 10s: %s", cmd, stderr.String())
		}
	}
	client := &http.Client{Timeout: 20 * time.Second}
	get := func(path string) string {
		t.Helper()
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("%s: GET %s: %v", cmd, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET %s: %s, %v", cmd, path, resp.Status, err)
		}
		return string(b)
	}
	channels[cmd+" /"] = get("/")
	channels[cmd+" /metrics"] = get("/metrics")
	resp, err := client.Get("http://" + addr + "/events")
	if err != nil {
		t.Fatalf("%s: GET /events: %v", cmd, err)
	}
	var events strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		events.WriteString(sc.Text() + "\n")
		if sc.Text() == "event: done" {
			break
		}
	}
	resp.Body.Close()
	if !strings.Contains(events.String(), "event: done") {
		t.Fatalf("%s: /events ended without its done event (%v):\n%.2000s", cmd, sc.Err(), events.String())
	}
	channels[cmd+" /events"] = events.String()
	channels[cmd+" /report.html"] = get("/report.html")
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", cmd, code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not end within 30s of its dashboard's done event", cmd)
	}
	channels[cmd+" stdout"], channels[cmd+" stderr"] = stdout.String(), stderr.String()
	if n := strings.Count(events.String(), "data: "); n < 2 {
		t.Errorf("%s: /events sent %d documents, want the live ones and the last", cmd, n)
	}
}
