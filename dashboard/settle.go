package dashboard

import "time"

// settle tracks how long results take to reach the dashboard after their
// intended send time (their latency plus the batching in between), the
// largest over the last one to two seconds. A time window that ended
// less than that long ago may still be missing requests in flight, so a
// live snapshot leaves it out. Guarded by Server.mu.
type settle struct {
	cur, prev time.Duration // largest delay in the current and the previous second
	at        time.Time     // start of the current second
}

// observe records a batch received at now whose earliest intended send
// time is oldest.
func (st *settle) observe(now, oldest time.Time) {
	st.rotate(now)
	st.cur = max(st.cur, now.Sub(oldest))
}

// lag returns the largest delay seen in the last one to two seconds.
func (st *settle) lag(now time.Time) time.Duration {
	st.rotate(now)
	return max(st.cur, st.prev)
}

func (st *settle) rotate(now time.Time) {
	switch d := now.Sub(st.at); {
	case d >= 2*time.Second:
		st.cur, st.prev, st.at = 0, 0, now
	case d >= time.Second:
		st.cur, st.prev, st.at = 0, st.cur, now
	}
}
