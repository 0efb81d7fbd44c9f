package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// damaged is single's results read from three files: one whole, one whose
// writer was killed after its first block, one with a damaged header and a
// corrupt block.
func damaged(t testing.TB, hist bool) *summary.Summary {
	s := single(t, nil)
	if hist {
		s = single(t, histBuckets)
	}
	s.AddInput(summary.Input{File: "whole.srg", Run: 1, Runs: 1,
		Read: result.RunRead{Records: 40, Blocks: 1, End: 900, Ended: true, Written: 40, FirstCorrupt: -1}})
	s.AddInput(summary.Input{File: "killed.srg", Run: 1, Runs: 1,
		Read: result.RunRead{Records: 30, Blocks: 1, End: 700, Written: -1, FirstCorrupt: -1}})
	s.AddInput(summary.Input{File: "flipped.srg", Run: 2, Runs: 2,
		Read: result.RunRead{Records: 30, Blocks: 2, End: 1900, Ended: true, Written: 45, HeaderDamaged: true,
			Corrupt: 1, CorruptBytes: 300, FirstCorrupt: 1200}})
	return s
}

// TestDamagedInputs: every report type names the inputs that lost
// something; the text report on its first lines.
func TestDamagedInputs(t *testing.T) {
	var text, js, hist bytes.Buffer
	ds := damaged(t, false)
	if err := Text(&text, ds, analyze.Diagnose(ds), Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "damaged_text.golden", text.Bytes())
	lines := strings.SplitN(text.String(), "\n", 4)
	if !strings.HasPrefix(lines[0], "WARNING: killed.srg: incomplete: 30 records in 1 block, readable to byte 700, no end-of-run record") ||
		!strings.HasPrefix(lines[1], "WARNING: flipped.srg (run 2 of 2): header damaged: run metadata lost; 1 corrupt block skipped") || lines[2] != "" {
		t.Errorf("text report does not start with the two input warnings:\n%s", strings.Join(lines[:3], "\n"))
	}

	if err := JSON(&js, ds, analyze.Diagnose(ds), Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "damaged_json.golden", js.Bytes())
	var v struct {
		Warning string `json:"warning"`
		Inputs  []struct {
			File     string `json:"file"`
			Complete bool   `json:"complete"`
			Written  *int64 `json:"written"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(js.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Inputs) != 3 || !v.Inputs[0].Complete || v.Inputs[1].Complete || v.Inputs[1].Written != nil || !strings.HasPrefix(v.Warning, "killed.srg: incomplete") {
		t.Errorf("json inputs %+v, warning %q", v.Inputs, v.Warning)
	}

	if err := Hist(&hist, damaged(t, true), histBuckets); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "damaged_hist.golden", hist.Bytes())
	if strings.Count(hist.String(), "WARNING: ") != 2 {
		t.Errorf("hist report lacks the two input warnings:\n%s", hist.String())
	}

	d, err := HTMLData([]Run{{Name: "merged", Summary: damaged(t, false)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Runs []struct {
			Figures [][2]string `json:"figures"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(d, &page); err != nil {
		t.Fatal(err)
	}
	f := page.Runs[0].Figures
	if len(f) < 2 || f[0][0] != "WARNING" || !strings.HasPrefix(f[0][1], "killed.srg: incomplete") || f[1][0] != "WARNING" || !strings.HasPrefix(f[1][1], "flipped.srg (run 2 of 2)") {
		t.Errorf("HTML figures do not start with the input warnings: %q", f[:min(3, len(f))])
	}
}
