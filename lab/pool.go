package lab

import (
	"context"
	"sync"
)

// pool is a counting semaphore whose waiters are served in arrival order, the
// model of a bounded worker or connection pool.
type pool struct {
	size int

	mu      sync.Mutex
	busy    int             // requests in service
	waiters []chan struct{} // FIFO; a closed channel hands its slot to the waiter
}

func newPool(size int) *pool { return &pool{size: size} }

// acquire takes a slot, waiting behind earlier callers if none is free. It
// reports false, holding no slot, if ctx is done first.
func (p *pool) acquire(ctx context.Context) bool {
	p.mu.Lock()
	if p.busy < p.size && len(p.waiters) == 0 {
		p.busy++
		p.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	p.waiters = append(p.waiters, ch)
	p.mu.Unlock()

	select {
	case <-ch:
		return true
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.waiters {
		if c == ch {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return false
		}
	}
	// The slot was handed over between ctx.Done and the lock: pass it on.
	p.releaseLocked()
	return false
}

// release returns a slot, handing it straight to the oldest waiter if any.
func (p *pool) release() {
	p.mu.Lock()
	p.releaseLocked()
	p.mu.Unlock()
}

func (p *pool) releaseLocked() {
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters[0] = nil
		p.waiters = p.waiters[1:]
		close(ch) // busy stays: the slot changes hands
		return
	}
	p.busy--
}

// stats returns the number of requests in service and waiting.
func (p *pool) stats() (busy, waiting int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy, len(p.waiters)
}
