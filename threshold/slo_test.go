package threshold

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSLO(t *testing.T) {
	slo, err := ParseSLO("p99<500ms, errors<1%,p99.9<=2s,mean<100ms")
	if err != nil {
		t.Fatal(err)
	}
	want := "p99<500ms,errors<1%,p99.9<2s,mean<100ms"
	if got := slo.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if slo[0].Quantile != 0.99 || slo[1].Value != 0.01 || slo.MaxLatency() != 2*time.Second {
		t.Errorf("parsed %+v", slo)
	}
	for _, bad := range []string{"", "p99", "p100<1s", "p99<-1s", "errors<0%", "errors<200%", "cpu<50%", "p99<fast", "p99>1s", ",", "p0<1s"} {
		if _, err := ParseSLO(bad); !errors.Is(err, ErrSLO) {
			t.Errorf("ParseSLO(%q) = %v, want ErrSLO", bad, err)
		}
	}
}

// TestParseSLOGrammar: an SLO takes every threshold expression that bounds
// a figure from above, filters with commas included.
func TestParseSLOGrammar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"p(99) < 500ms", "p(99)<500ms"},
		{"med<1s,avg<=200ms", "med<1s,avg<200ms"},
		{"error_rate < 0.5%", "errors<0.5%"},
		{"p95{name:search,status:200}<300ms,errors<1%", "p95{name:search,status:200}<300ms,errors<1%"},
		{"min<1ms,requests<=1000,rps<50/s", "min<1ms,requests<1000,rps<50/s"},
		{"p99<500ms,,errors<1%,", "p99<500ms,errors<1%"},
	}
	for _, tt := range tests {
		slo, err := ParseSLO(tt.in)
		if err != nil {
			t.Errorf("ParseSLO(%q): %v", tt.in, err)
			continue
		}
		if got := slo.String(); got != tt.want {
			t.Errorf("ParseSLO(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSLOStrictBound: in an SLO, <= reads as <, as it always has.
func TestSLOStrictBound(t *testing.T) {
	slo, err := ParseSLO("errors<=1%")
	if err != nil {
		t.Fatal(err)
	}
	get := func(string, float64, map[string]string) (float64, bool) { return 0.01, true }
	if pass, _, _ := slo[0].Eval(get); pass {
		t.Errorf("errors<=1%% at exactly 1%%: pass, want fail")
	}
}

func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"p99<500ms,errors<1%", "mean<1s", "p99.9<=2s", "errors<0.5", "max<1h", "p95{name:a,b:c}<1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slo, err := ParseSLO(s)
		if err != nil {
			if !errors.Is(err, ErrSLO) {
				t.Fatalf("ParseSLO(%q) = %v, want ErrSLO", s, err)
			}
			return
		}
		// What parses prints as something that parses to the same SLO.
		again, err := ParseSLO(slo.String())
		if err != nil || again.String() != slo.String() {
			t.Fatalf("%q → %q → %v %v", s, slo.String(), again, err)
		}
	})
}

// FuzzParseSLOLegacy: every SLO the parser of analyze accepted before the
// grammars merged still parses, to the same objectives printed the same
// way.
func FuzzParseSLOLegacy(f *testing.F) {
	for _, s := range []string{"p99<500ms,errors<1%", "mean<1s", "p99.9<=2s", "errors<0.5", "max<1h", "P50 < 20ms, error<=2%", "p9.9e1<1s", "errors<0x1p-7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		old, err := legacyParseSLO(s)
		if err != nil {
			return
		}
		slo, err := ParseSLO(s)
		if err != nil {
			t.Fatalf("ParseSLO(%q): %v; the old parser took it as %v", s, err, old)
		}
		if slo.String() != old.String() || len(slo) != len(old) || slo.MaxLatency() != old.MaxLatency() {
			t.Fatalf("ParseSLO(%q) = %v, the old parser %v", s, slo, old)
		}
		for i, o := range old {
			n := slo[i]
			var same bool
			switch {
			case o.Metric == "errors":
				same = n.Metric == MetricErrorRate && n.Value == o.Errors
			default:
				same = n.IsLatency() && n.Duration() == o.Latency && n.Name() == o.Metric && n.Quantile == o.Q &&
					(n.Metric == MetricQuantile) == strings.HasPrefix(o.Metric, "p")
			}
			if !same || n.Op != "<" || len(n.Filter) != 0 {
				t.Fatalf("ParseSLO(%q)[%d] = %+v, the old parser %+v", s, i, n, o)
			}
		}
	})
}
