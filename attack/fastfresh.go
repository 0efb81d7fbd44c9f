package attack

import (
	"context"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

var _ freshConn = (*fastConn)(nil)

// doFresh sends t as Do does, but serializes it for this request only
// instead of looking it up by pointer: a Flow renders every request of a
// step into the same *Target, and the cache's change detection (method,
// URL, body length, header count) cannot see a new body or header value of
// the same size.
func (c *fastConn) doFresh(ctx context.Context, t *target.Target, r *result.Result) {
	start := time.Now()
	req := newTargetRequest(t, c.client.noKeepAlive)
	r.BytesOut = int64(len(t.Body))
	if req.err != "" {
		r.Error = req.err
		return
	}
	c.watch(ctx)
	deadline := start.Add(c.client.timeout)
	for hop := 0; ; hop++ {
		err := c.roundTrip(ctx, req, start, deadline, r)
		r.Status, r.BytesIn = uint16(c.resp.status), c.resp.bytesIn
		if err != "" {
			r.Error = err
			return
		}
		next := c.redirect(req)
		if next == nil {
			return
		}
		if next.err != "" {
			r.Error = next.err
			return
		}
		if hop >= c.client.redirects {
			r.Error = c.client.tooManyHops
			return
		}
		req = next
	}
}
