package report

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"strings"
)

// The page's assets, embedded so that a report opens offline: uPlot (see
// assets/VERSION) and surge's own script and style.
var (
	//go:embed assets/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uPlot.min.css
	uplotCSS string
	//go:embed assets/report.js
	reportJS string
	//go:embed assets/report.css
	reportCSS string
)

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header><h1 id="title">{{.Title}}</h1><div id="status"></div></header>
<main id="app"></main>
<script id="surge-data" type="application/json">{{.Data}}</script>
<script>{{.UPlot}}</script>
<script>{{.Script}}</script>
</body>
</html>
`))

type pageData struct {
	Title  string
	CSS    template.CSS
	Data   template.JS
	UPlot  template.JS
	Script template.JS
}

// HTML writes a self-contained HTML report of runs to w: latency of every
// request over time (sampled above the Points budget, maxima kept),
// percentiles, throughput and errors over time on one time axis, the
// latency distribution with the Gatling bounds, the percentile spectrum,
// the text report's figures and a per-label table, and each run's
// metadata. Several runs are overlaid, one colour each. The page needs no
// network: its chart library and data are inside.
func HTML(w io.Writer, runs []Run, o Options) error {
	d, err := buildData(runs, o)
	if err != nil {
		return err
	}
	return writePage(w, d)
}

// LivePage writes the live dashboard's page: the report's page with a stop
// button, drawing from the Server-Sent Events at "events" (relative to the
// page) instead of embedded data. Each event's data is an HTMLData
// document; an event named "done" says the run ended and "report.html"
// holds its final report. The page carries token, the dashboard's per-run
// secret, and sends it with every request it makes: as the X-Surge-Token
// header of its POST to "stop", and as the token query parameter of
// "events" and "report.html" (an EventSource cannot set headers).
func LivePage(w io.Writer, title, token string) error {
	return writePage(w, &htmlData{Title: title, Live: true, Token: token, Runs: []htmlRun{}})
}

func writePage(w io.Writer, d *htmlData) error {
	js, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return pageTemplate.Execute(w, pageData{
		Title:  d.Title,
		CSS:    template.CSS(uplotCSS + "\n" + reportCSS),
		Data:   template.JS(safeScriptJSON(js)),
		UPlot:  template.JS(uplotJS),
		Script: template.JS(reportJS),
	})
}

// safeScriptJSON makes JSON safe inside a <script> element: json.Marshal
// already escapes <, > and &, so no "</script>" can appear; this also
// keeps the output stable if that ever changes.
func safeScriptJSON(js []byte) string {
	return strings.ReplaceAll(string(js), "</", `<\/`)
}
