package attack

import (
	"context"

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
	c.send(ctx, newTargetRequest(t, c.client.noKeepAlive), t, r)
}
