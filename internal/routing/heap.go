package routing

import "math"

// Hand-written binary heaps: each element knows its index so it can be
// removed in O(log n) when an agent leaves or an interaction is offered.

// agentEntry is an idle agent in one class's heap at its innermost
// eligible level. The key never changes while the entry is in the heap.
type agentEntry struct {
	ag      *agentState
	cls     *class
	level   int
	score   float64 // higher first (skill proficiency sum, BEST / skills_best_match)
	primary float64 // lower first (least_occupied: occupancy key; round_robin: last served)
	t       int64   // lower first (idle since)
	seq     uint64  // lower first (unique tie-break)
	idx     int     // in the heap
	aidx    int     // in ag.entries
}

func entryBefore(a, b *agentEntry) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.primary != b.primary {
		return a.primary < b.primary
	}
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}

func (e *agentEntry) before(o *agentEntry) bool { return entryBefore(e, o) }
func (e *agentEntry) setHeapIdx(i int)          { e.idx = i }

// ixBefore is the queue order: higher priority, then earlier EnqueuedAt,
// then earlier arrival in the engine.
func ixBefore(a, b *ixState) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	if a.enq != b.enq {
		return a.enq < b.enq
	}
	return a.seq < b.seq
}

func (x *ixState) before(o *ixState) bool { return ixBefore(x, o) }
func (x *ixState) setHeapIdx(i int)       { x.hidx = i }

// heapItem is an element of an indexedHeap: it orders itself against
// another element and records its position in the heap.
type heapItem[T any] interface {
	before(T) bool
	setHeapIdx(int)
}

// indexedHeap is a binary min-heap (by before) whose elements track their
// own index, so any of them can be removed in O(log n).
type indexedHeap[T heapItem[T]] []T

func (h *indexedHeap[T]) push(x T) {
	i := len(*h)
	x.setHeapIdx(i)
	*h = append(*h, x)
	h.up(i)
}

func (h *indexedHeap[T]) remove(i int) {
	s := *h
	n := len(s) - 1
	if i != n {
		s[i] = s[n]
		s[i].setHeapIdx(i)
	}
	var zero T
	s[n] = zero
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h indexedHeap[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		h[i].setHeapIdx(i)
		h[p].setHeapIdx(p)
		i = p
	}
}

func (h indexedHeap[T]) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h[r].before(h[l]) {
			j = r
		}
		if !h[j].before(h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].setHeapIdx(i)
		h[j].setHeapIdx(j)
		i = j
	}
	return i > i0
}

// Deadlines.
type timerKind uint8

const (
	tAlert    timerKind = iota + 1 // alerting timeout of the pending offer
	tPhase                         // next bullseye ring, or end of the preferred-agent wait
	tOverflow                      // overflow to Queue.OverflowQueue
)

type timerEntry struct {
	at   int64
	seq  uint64
	kind timerKind
	ix   *ixState
	idx  int // in the timer heap; -1 when not scheduled
}

func timerBefore(a, b *timerEntry) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

type timerHeap []*timerEntry

func (h *timerHeap) push(t *timerEntry) {
	t.idx = len(*h)
	*h = append(*h, t)
	h.up(t.idx)
}

func (h *timerHeap) remove(i int) {
	s := *h
	n := len(s) - 1
	s[i].idx = -1
	if i != n {
		s[i] = s[n]
		s[i].idx = i
	}
	s[n] = nil
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !timerBefore(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		h[i].idx, h[p].idx = i, p
		i = p
	}
}

func (h timerHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && timerBefore(h[r], h[l]) {
			j = r
		}
		if !timerBefore(h[j], h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].idx, h[j].idx = i, j
		i = j
	}
	return i > i0
}

var negInf = math.Inf(-1)
