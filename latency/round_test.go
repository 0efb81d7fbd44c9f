package latency

import (
	"testing"
	"time"
)

func TestRound3(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{1500 * time.Millisecond, 1500 * time.Millisecond},
		{1501234567, 1500 * time.Millisecond},
		{20016 * time.Microsecond, 20 * time.Millisecond},
		{20 * time.Millisecond, 20 * time.Millisecond},
		{123456 * time.Microsecond, 123 * time.Millisecond},
		{2345678 * time.Nanosecond, 2350 * time.Microsecond},
		{56789 * time.Nanosecond, 56800 * time.Nanosecond},
		{1234 * time.Nanosecond, 1230 * time.Nanosecond},
		{999, 999},
		{0, 0},
		{123456789012, 123 * time.Second},
		{12345678901, 12300 * time.Millisecond},
		{3723 * time.Second, 3723 * time.Second},
	} {
		if got := Round3(tc.in); got != tc.want {
			t.Errorf("Round3(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
