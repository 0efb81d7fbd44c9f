package scenario

import "testing"

func TestParseRateAndUsers(t *testing.T) {
	rates := []struct {
		in       string
		from, to float64
		ok       bool
	}{
		{"20", 20, 20, true},
		{"20/1s", 20, 20, true},
		{"20/s", 20, 20, true},
		{"5/100ms", 50, 50, true},
		{"30/1m", 0.5, 0.5, true},
		{"10/1s..200/1s", 10, 200, true},
		{"0.5/1s", 0.5, 0.5, true},
		{"-1/1s", 0, 0, false},
		{"20/0s", 0, 0, false},
		{"fast", 0, 0, false},
		{"10/1s..", 0, 0, false},
	}
	for _, tt := range rates {
		from, to, err := parseRateRange(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (from != tt.from || to != tt.to)) {
			t.Errorf("parseRateRange(%q) = %v, %v, %v; want %v, %v, ok %v", tt.in, from, to, err, tt.from, tt.to, tt.ok)
		}
	}
	users := []struct {
		in       string
		from, to int
		ok       bool
	}{
		{"5", 5, 5, true}, {"1..5", 1, 5, true}, {"5..1", 5, 1, true}, {"0..3", 0, 3, true},
		{"-1", 0, 0, false}, {"1.5", 0, 0, false}, {"1..", 0, 0, false}, {"many", 0, 0, false},
	}
	for _, tt := range users {
		from, to, err := parseUsers(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (from != tt.from || to != tt.to)) {
			t.Errorf("parseUsers(%q) = %v, %v, %v; want %v, %v, ok %v", tt.in, from, to, err, tt.from, tt.to, tt.ok)
		}
	}
}
