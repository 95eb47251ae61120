package dialersim

import (
	"container/heap"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/clock"
)

// eventClock is a discrete-event clock.Clock: like clock.Fake, time moves
// only when the driver says so and timers run synchronously in deadline
// order (ties in creation order), but the driver can ask for the next
// deadline and fire timers one at a time, reacting to each before time
// moves on. It keeps its timers in a heap (clock.Fake re-sorts the whole
// list on every fire and scans it on every Stop, which is quadratic for the
// thousands of timers an 8-hour shift of a 100-agent campaign keeps armed).
type eventClock struct {
	mu  sync.Mutex
	now time.Time
	seq uint64
	h   timerHeap
}

var _ clock.Clock = (*eventClock)(nil)

func newEventClock(t time.Time) *eventClock { return &eventClock{now: t} }

func (c *eventClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *eventClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		d = 0
	}
	c.seq++
	t := &evTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	heap.Push(&c.h, t)
	return t
}

// next is the earliest pending deadline.
func (c *eventClock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.h) == 0 {
		return time.Time{}, false
	}
	return c.h[0].at, true
}

// fireAt runs the earliest timer if it is due at or before t, moving the
// clock to its deadline; false when none is.
func (c *eventClock) fireAt(t time.Time) bool {
	c.mu.Lock()
	if len(c.h) == 0 || c.h[0].at.After(t) {
		c.mu.Unlock()
		return false
	}
	tm := heap.Pop(&c.h).(*evTimer)
	if tm.at.After(c.now) {
		c.now = tm.at
	}
	c.mu.Unlock()
	tm.f()
	return true
}

// advanceTo moves the clock to t (no timer due before t must be pending).
func (c *eventClock) advanceTo(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
}

type evTimer struct {
	c   *eventClock
	at  time.Time
	seq uint64
	f   func()
	idx int
}

func (t *evTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.idx < 0 {
		return false
	}
	heap.Remove(&t.c.h, t.idx)
	return true
}

type timerHeap []*evTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*evTimer)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.idx = -1
	*h = old[:n-1]
	return t
}
