package threshold

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in   string
		want Threshold
	}{
		{"p99 < 500ms", Threshold{Metric: MetricQuantile, Quantile: 0.99, Op: "<", Value: 0.5}},
		{"p50<=1s", Threshold{Metric: MetricQuantile, Quantile: 0.5, Op: "<=", Value: 1}},
		{"p99.9 < 2s", Threshold{Metric: MetricQuantile, Quantile: 0.999, Op: "<", Value: 2}},
		{"p(95) < 300ms", Threshold{Metric: MetricQuantile, Quantile: 0.95, Op: "<", Value: 0.3}},
		{"med < 100ms", Threshold{Metric: MetricQuantile, Quantile: 0.5, Op: "<", Value: 0.1}},
		{"p95{name:search} < 300ms", Threshold{Metric: MetricQuantile, Quantile: 0.95, Filter: map[string]string{"name": "search"}, Op: "<", Value: 0.3}},
		{"p90{name: search, status: 200} > 800µs", Threshold{Metric: MetricQuantile, Quantile: 0.9, Filter: map[string]string{"name": "search", "status": "200"}, Op: ">", Value: 0.0008}},
		{"mean < 250us", Threshold{Metric: MetricMean, Op: "<", Value: 0.00025}},
		{"avg < 1.5s", Threshold{Metric: MetricMean, Op: "<", Value: 1.5}},
		{"min >= 0", Threshold{Metric: MetricMin, Op: ">=", Value: 0}},
		{"max != 30s", Threshold{Metric: MetricMax, Op: "!=", Value: 30}},
		{"error_rate < 1%", Threshold{Metric: MetricErrorRate, Op: "<", Value: 0.01}},
		{"error_rate <= 0.05", Threshold{Metric: MetricErrorRate, Op: "<=", Value: 0.05}},
		{"error_rate == 0", Threshold{Metric: MetricErrorRate, Op: "==", Value: 0}},
		{"rps > 100", Threshold{Metric: MetricRPS, Op: ">", Value: 100}},
		{"rps >= 12.5/s", Threshold{Metric: MetricRPS, Op: ">=", Value: 12.5}},
		{"check_failures == 0", Threshold{Metric: MetricCheckFailures, Op: "==", Value: 0}},
		{"checks_failed < 10", Threshold{Metric: MetricCheckFailures, Op: "<", Value: 10}},
		{"requests >= 10000", Threshold{Metric: MetricRequests, Op: ">=", Value: 10000}},
	}
	for _, tt := range tests {
		got, err := ParseThreshold(tt.in)
		if err != nil {
			t.Errorf("ParseThreshold(%q): %v", tt.in, err)
			continue
		}
		tt.want.Expr = tt.in
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b float64) bool { return a == b || (a-b)/b < 1e-12 && (b-a)/b < 1e-12 })); diff != "" {
			t.Errorf("ParseThreshold(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseThresholdErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "expected METRIC OP VALUE"},
		{"p99", "expected METRIC OP VALUE"},
		{"p99 500ms", "expected an operator"},
		{"p99 =< 500ms", "expected an operator"},
		{"p99 < 500", "expected a latency with a unit"},
		{"p101 < 1s", "unknown metric"},
		{"latency < 1s", "unknown metric"},
		{"< 1s", "expected a metric"},
		{"error_rate < 150%", "between 0 and 100%"},
		{"error_rate < lots", "expected a rate"},
		{"rps > fast", "requests per second"},
		{"requests > 1.5", "whole number"},
		{"p99{name} < 1s", "expected {label:value,...}"},
		{"p99{name:a < 1s", "expected }"},
		{"p99{a:1,a:2} < 1s", "given twice"},
		{"p99 <", "expected a value"},
	}
	for _, tt := range tests {
		_, err := ParseThreshold(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseThreshold(%q) error = %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestThresholdEval(t *testing.T) {
	measured := map[string]float64{
		"quantile0.99": 0.4, "quantile0.95{search}": 0.35, "mean": 0.1, "min": 0.001, "max": 1.2,
		MetricErrorRate: 0.005, MetricRPS: 120, MetricCheckFailures: 0, MetricRequests: 10000,
	}
	get := func(metric string, q float64, filter map[string]string) (float64, bool) {
		key := metric
		if metric == MetricQuantile {
			key += fmt.Sprint(q)
		}
		if filter["name"] != "" {
			key += "{" + filter["name"] + "}"
		}
		v, ok := measured[key]
		return v, ok
	}
	tests := []struct {
		expr string
		pass bool
	}{
		{"p99 < 500ms", true}, {"p99 < 400ms", false}, {"p99 <= 400ms", true},
		{"p99 > 400ms", false}, {"p99 >= 400ms", true}, {"p99 == 400ms", true}, {"p99 != 400ms", false},
		{"p95{name:search} < 300ms", false}, {"mean < 200ms", true}, {"min > 0", true}, {"max < 1s", false},
		{"error_rate < 1%", true}, {"error_rate < 0.1%", false}, {"rps > 100", true},
		{"check_failures == 0", true}, {"check_failures != 0", false}, {"requests >= 10000", true},
	}
	for _, tt := range tests {
		th, err := ParseThreshold(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		pass, _, err := th.Eval(get)
		if err != nil || pass != tt.pass {
			t.Errorf("%s: pass = %v, %v; want %v", tt.expr, pass, err, tt.pass)
		}
	}
	th, _ := ParseThreshold("p90 < 1s")
	if _, _, err := th.Eval(get); err == nil || !strings.Contains(err.Error(), "no data for p90") {
		t.Errorf("a metric without data: error = %v, want no data for p90", err)
	}
}

func TestThresholdFormat(t *testing.T) {
	tests := []struct {
		expr string
		v    float64
		want string
	}{
		{"p99 < 500ms", 0.41234, "412.34ms"},
		{"mean < 1s", 2.5, "2.5s"},
		{"error_rate < 1%", 0.0035, "0.35%"},
		{"rps > 100", 120.54, "120.5/s"},
		{"requests > 5", 10000, "10000"},
	}
	for _, tt := range tests {
		th, _ := ParseThreshold(tt.expr)
		if got := th.FormatValue(tt.v); got != tt.want {
			t.Errorf("%s: FormatValue(%v) = %q, want %q", tt.expr, tt.v, got, tt.want)
		}
	}
	th := Threshold{Metric: MetricQuantile, Quantile: 0.95, Filter: map[string]string{"name": "a"}, Op: "<", Value: 0.3}
	if got := th.String(); got != "p95{name:a} < 300ms" {
		t.Errorf("String() = %q", got)
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p99 < 500ms", "p95{name:search} < 300ms", "error_rate < 1%", "rps > 100", "check_failures == 0", "p(99.9)<=1s", "requests != 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			return
		}
		if !slices.Contains(thresholdOps, th.Op) || th.Quantile < 0 || th.Quantile > 1 || th.Value != th.Value {
			t.Fatalf("ParseThreshold(%q) = %+v", s, th)
		}
		// The canonical form parses to the same metric, filter and operator.
		th.Expr = ""
		back, err := ParseThreshold(th.String())
		if err != nil || back.Metric != th.Metric || back.Op != th.Op || len(back.Filter) != len(th.Filter) {
			t.Fatalf("ParseThreshold(%q).String() = %q: %+v, %v", s, th.String(), back, err)
		}
	})
}
