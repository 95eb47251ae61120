package audio

import (
	"sync"
	"testing"
)

func frameOf(v int16) []int16 {
	f := make([]int16, FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

func TestJitterFIFO(t *testing.T) {
	j := NewJitter(3)
	dst := frameOf(99)
	if j.Pop(dst) || dst[0] != 0 || dst[FrameSamples-1] != 0 {
		t.Fatal("empty queue: want false and silence")
	}
	in := frameOf(1)
	j.Push(in)
	in[0] = 42 // Push copied it
	j.Push(frameOf(2))
	if j.Len() != 2 {
		t.Fatalf("Len %d", j.Len())
	}
	for _, want := range []int16{1, 2} {
		if !j.Pop(dst) || dst[0] != want || dst[FrameSamples-1] != want {
			t.Fatalf("popped %d, want %d", dst[0], want)
		}
	}
	if j.Pop(dst) {
		t.Fatal("queue should be empty")
	}
}

func TestJitterOverflowDropsOldest(t *testing.T) {
	j := NewJitter(3)
	for v := int16(1); v <= 5; v++ {
		j.Push(frameOf(v))
	}
	if j.Len() != 3 || j.Dropped() != 2 {
		t.Fatalf("Len %d Dropped %d", j.Len(), j.Dropped())
	}
	dst := make([]int16, FrameSamples)
	for _, want := range []int16{3, 4, 5} {
		if !j.Pop(dst) || dst[0] != want {
			t.Fatalf("popped %d, want %d", dst[0], want)
		}
	}
}

func TestJitterShortAndLongFrames(t *testing.T) {
	j := NewJitter(0) // depth at least 1
	j.Push([]int16{7, 7})
	dst := frameOf(5)
	if !j.Pop(dst) || dst[1] != 7 || dst[2] != 0 || dst[FrameSamples-1] != 0 {
		t.Fatalf("short frame not padded: %v", dst[:4])
	}
	j.Push(make([]int16, 3*FrameSamples))
	if j.Len() != 1 {
		t.Fatal("a long frame is one frame")
	}
	if n := testing.AllocsPerRun(100, func() { j.Push(dst); j.Pop(dst) }); n != 0 {
		t.Fatalf("%v allocations per push/pop", n)
	}
}

// A reader goroutine pushes while the ticker pops: run with -race.
func TestJitterConcurrent(t *testing.T) {
	j := NewJitter(4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := range int16(1000) {
			j.Push(frameOf(v))
		}
	}()
	dst := make([]int16, FrameSamples)
	last := int16(-1)
	for range 2000 {
		if j.Pop(dst) {
			if dst[0] <= last || dst[0] != dst[FrameSamples-1] {
				t.Fatalf("popped %d after %d (torn or out of order)", dst[0], last)
			}
			last = dst[0]
		}
	}
	wg.Wait()
}
