package api

import (
	"sync"
	"time"

	"github.com/centralita/centralita/internal/clock"
)

// limiter counts requests per token in fixed one-minute windows, which is
// what the inin-ratelimit-count / -allowed / -reset headers describe.
type limiter struct {
	clock   clock.Clock
	allowed int

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	count int
}

type limitResult struct {
	ok                    bool
	count, allowed, reset int
}

func newLimiter(c clock.Clock, perMinute int) *limiter {
	return &limiter{clock: c, allowed: perMinute, windows: map[string]*window{}}
}

func (l *limiter) take(key string) limitResult {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if len(l.windows) > 10000 {
			for k, old := range l.windows {
				if now.Sub(old.start) >= time.Minute {
					delete(l.windows, k)
				}
			}
		}
		w = &window{start: now}
		l.windows[key] = w
	}
	reset := int((time.Minute - now.Sub(w.start) + time.Second - 1) / time.Second)
	if w.count >= l.allowed {
		return limitResult{ok: false, count: w.count, allowed: l.allowed, reset: reset}
	}
	w.count++
	return limitResult{ok: true, count: w.count, allowed: l.allowed, reset: reset}
}

// blocked reports, without counting, whether key has used up its window, and
// the seconds until the window resets.
func (l *limiter) blocked(key string) (bool, int) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= time.Minute || w.count < l.allowed {
		return false, 0
	}
	return true, int((time.Minute - now.Sub(w.start) + time.Second - 1) / time.Second)
}
