package signals

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/surge-dev/surge/result"
)

// FuzzParse feeds any body in the text format to two readings and checks
// what they deliver (see checkParse).
func FuzzParse(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(textPayload, 1, 2)))
	f.Add([]byte("# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx_sum 1\nx_count 1\n"))
	f.Add([]byte("a{b=\"\\\"\"} NaN\n"))
	f.Fuzz(func(t *testing.T, body []byte) { checkParse(t, body, expfmt.FmtText) })
}

// FuzzParseOpenMetrics is FuzzParse in OpenMetrics, through its rewrite
// as the text format (openMetricsToText).
func FuzzParseOpenMetrics(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(omPayload, 3)))
	f.Add([]byte(omRich))
	f.Add([]byte("# TYPE x counter\nx_total 1\nx_created 5\n# EOF\n"))
	f.Add([]byte("a{b=\"}\\\"\"} 1 # {t=\"1\"} 2\n"))
	f.Fuzz(func(t *testing.T, body []byte) { checkParse(t, body, expfmt.FmtOpenMetrics_1_0_0) })
}

// checkParse parses body twice as two readings and checks what they
// deliver: a series once, under the bound, with a kind and a well-formed
// key; values only of series delivered.
func checkParse(t *testing.T, body []byte, format expfmt.Format) {
	{
		s := &Scraper{name: "fuzz"}
		tb := newTable("fuzz", 50)
		ids := map[uint32]result.Series{}
		var next uint32
		for range 2 {
			tb.begin()
			rd := &Reading{t: tb}
			if err := s.parse(bytes.NewReader(body), format, rd); err != nil {
				tb.abort()
				continue
			}
			var sc result.Scrape
			tb.commit(&sc)
			for _, f := range rd.commits {
				f()
			}
			for i, se := range sc.New {
				next++
				tb.fresh[i].id = next
				se.ID = next
				if se.Kind != result.SignalGauge && se.Kind != result.SignalCounter {
					t.Fatalf("series %+v: kind %q", se, se.Kind)
				}
				if se.Name == "" || strings.ContainsAny(se.Name, "{}\n") || (se.Labels != "" && (!strings.HasPrefix(se.Labels, "{") || !strings.HasSuffix(se.Labels, "}"))) {
					t.Fatalf("series %+v: malformed name or labels", se)
				}
				ids[se.ID] = se
			}
			for _, v := range sc.Values {
				if _, ok := ids[v.ID]; !ok {
					t.Fatalf("value %+v of a series never delivered", v)
				}
			}
		}
		if len(ids) > 50 {
			t.Fatalf("%d series over the bound of 50", len(ids))
		}
	}
}
