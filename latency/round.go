package latency

import "time"

// Round3 rounds d to 3 significant digits for display: 1.23456s → 1.23s,
// 20.016ms → 20ms, 123.4µs → 123µs. From 100 s up it keeps whole seconds;
// below 1µs it returns d unchanged. Every table and sentence that prints a
// latency or a duration derived from one uses it, so one figure reads the
// same everywhere.
func Round3(d time.Duration) time.Duration {
	for _, u := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
		switch {
		case d >= 100*u:
			return d.Round(u)
		case d >= 10*u:
			return d.Round(u / 10)
		case d >= u:
			return d.Round(u / 100)
		}
	}
	return d
}
