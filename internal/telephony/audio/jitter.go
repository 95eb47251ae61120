package audio

import "sync"

// Jitter is a bounded FIFO of 20 ms frames between one speaker's packets and
// the mixer: packets arrive about 20 ms apart but unevenly, the mixer ticks
// every 20 ms and pops one frame per tick. When it runs dry the mixer gets
// silence; when it is full the oldest frame is dropped, so latency stays
// bounded at depth frames. It does not reorder by sequence number (RTP on
// the paths we serve rarely reorders; a late packet simply plays late).
// Push and Pop may be called from different goroutines (the leg's reader and
// the room's ticker).
type Jitter struct {
	mu     sync.Mutex
	frames [][]int16 // ring of depth preallocated frames
	head   int       // next frame to pop
	n      int       // frames queued
	drops  int
}

// NewJitter returns a queue holding at most depth frames (at least 1).
func NewJitter(depth int) *Jitter {
	depth = max(depth, 1)
	j := &Jitter{frames: make([][]int16, depth)}
	buf := make([]int16, depth*FrameSamples)
	for i := range j.frames {
		j.frames[i] = buf[i*FrameSamples : (i+1)*FrameSamples : (i+1)*FrameSamples]
	}
	return j
}

// Push copies frame into the queue (cut or padded with silence to
// FrameSamples), dropping the oldest frame if the queue is full.
func (j *Jitter) Push(frame []int16) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.n == len(j.frames) {
		j.head = (j.head + 1) % len(j.frames)
		j.n--
		j.drops++
	}
	dst := j.frames[(j.head+j.n)%len(j.frames)]
	c := copy(dst, frame)
	clear(dst[c:])
	j.n++
}

// Pop copies the oldest frame into dst (up to len(dst) samples; dst should
// be FrameSamples long) and reports true, or fills dst with silence and
// reports false when the queue is empty.
func (j *Jitter) Pop(dst []int16) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.n == 0 {
		clear(dst)
		return false
	}
	c := copy(dst, j.frames[j.head])
	clear(dst[c:])
	j.head = (j.head + 1) % len(j.frames)
	j.n--
	return true
}

// Len is the number of frames queued.
func (j *Jitter) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n
}

// Dropped is the number of frames dropped on overflow so far.
func (j *Jitter) Dropped() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.drops
}
