package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/surge-dev/surge/analyze"
)

// TestHTMLFindings checks that the page's data carries the text report's
// findings, sentence for sentence, and that an overlay is titled by its
// runs' names.
func TestHTMLFindings(t *testing.T) {
	a, b := htmlFixture(), htmlFixture()
	b.Name = "second"
	a.Findings, b.Findings = analyze.Diagnose(a.Summary), analyze.Diagnose(b.Summary)
	js, err := HTMLData([]Run{a, b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d htmlData
	if err := json.Unmarshal(js, &d); err != nil {
		t.Fatal(err)
	}
	if want := "surge report: fixed, second"; d.Title != want {
		t.Errorf("overlay title %q, want %q", d.Title, want)
	}
	var text bytes.Buffer
	if err := Text(&text, a.Summary, a.Findings, Options{}); err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(text.String(), "Findings:\n")
	if !ok {
		t.Fatalf("no findings in the text report:\n%s", text.String())
	}
	var want []string
	for _, l := range strings.Split(strings.TrimRight(section, "\n"), "\n") {
		want = append(want, strings.TrimPrefix(l, "  "))
	}
	for ri, r := range d.Runs {
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.Who+": "+f.Text)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("run %d findings in the page:\n%s\nwant the text report's:\n%s", ri, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if len(want) < 3 {
		t.Errorf("the fixture has %d finding lines, want the generator's and both labels'", len(want))
	}
}
