package sip

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// media is a call leg's audio as the switch sees it. rtpLeg (a minimal
// RTP endpoint and relay of our own) is the only implementation; diago's
// media or a PCM mixer can sit behind the same interface later.
type media interface {
	// Port is the local RTP port given in our SDP.
	Port() int
	// SetRemote is where the party wants its audio (from its SDP); the
	// source of the first packet received from the party wins over it
	// (symmetric RTP).
	SetRemote(addr *net.UDPAddr)
	// RelayTo makes every RTP packet received from this leg's party go to
	// the party of to (nil: stop relaying).
	RelayTo(to media)
	// Send writes one RTP packet to the party.
	Send(pkt []byte) error
	// PlayTone sends a PCMU sine tone to the party for d, or until ctx ends.
	PlayTone(ctx context.Context, freq float64, d time.Duration) error
	// Stats counts packets.
	Stats() mediaStats
	Close() error
}

type mediaStats struct {
	Received, Relayed, Sent uint64
}

// portPool hands out even RTP ports from [min, max]; min = 0 means any port.
type portPool struct {
	mu       sync.Mutex
	min, max int
	next     int
}

func (p *portPool) listen(ip string) (*net.UDPConn, error) {
	if p.min == 0 {
		return net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.max-p.min)/2 + 1
	for i := 0; i < n; i++ {
		if p.next < p.min || p.next > p.max {
			p.next = p.min + p.min%2
		}
		port := p.next
		p.next += 2
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
		if err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("sip: no free RTP port in %d-%d", p.min, p.max)
}

// rtpLeg is one RTP socket.
type rtpLeg struct {
	conn   *net.UDPConn
	remote atomic.Pointer[net.UDPAddr]
	latch  atomic.Bool // remote learned from a received packet
	relay  atomic.Pointer[relayTarget]
	done   chan struct{}

	received, relayed, sent atomic.Uint64

	// our own RTP stream (tones)
	ssrc uint32
	seq  uint16
	ts   uint32
	pmu  sync.Mutex
}

type relayTarget struct{ m media }

func newRTPLeg(pool *portPool, ip string) (*rtpLeg, error) {
	c, err := pool.listen(ip)
	if err != nil {
		return nil, err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	l := &rtpLeg{conn: c, done: make(chan struct{}), ssrc: binary.BigEndian.Uint32(b[:])}
	go l.readLoop()
	return l, nil
}

func (l *rtpLeg) Port() int { return l.conn.LocalAddr().(*net.UDPAddr).Port }

func (l *rtpLeg) SetRemote(a *net.UDPAddr) {
	if !l.latch.Load() {
		l.remote.Store(a)
	}
}

func (l *rtpLeg) RelayTo(to media) {
	if to == nil {
		l.relay.Store(nil)
		return
	}
	l.relay.Store(&relayTarget{m: to})
}

func (l *rtpLeg) Send(pkt []byte) error {
	a := l.remote.Load()
	if a == nil || a.Port == 0 {
		return nil // party not known yet (or on hold with port 0): drop
	}
	if _, err := l.conn.WriteToUDP(pkt, a); err != nil {
		return err
	}
	l.sent.Add(1)
	return nil
}

func (l *rtpLeg) readLoop() {
	defer close(l.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := l.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n < 12 || buf[0]>>6 != 2 { // not RTP version 2
			continue
		}
		l.received.Add(1)
		if !l.latch.Load() {
			l.remote.Store(from)
			l.latch.Store(true)
		}
		if r := l.relay.Load(); r != nil {
			if r.m.Send(buf[:n]) == nil {
				l.relayed.Add(1)
			}
		}
	}
}

// PlayTone sends 20 ms PCMU frames paced on the wall clock.
func (l *rtpLeg) PlayTone(ctx context.Context, freq float64, d time.Duration) error {
	l.pmu.Lock()
	defer l.pmu.Unlock()
	frames := int(d / (20 * time.Millisecond))
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pkt := make([]byte, 12+160)
	var phase float64
	step := 2 * math.Pi * freq / 8000
	for i := 0; i < frames; i++ {
		pkt[0], pkt[1] = 0x80, 0 // V=2, PT=0 (PCMU)
		if i == 0 {
			pkt[1] |= 0x80 // marker
		}
		binary.BigEndian.PutUint16(pkt[2:], l.seq)
		binary.BigEndian.PutUint32(pkt[4:], l.ts)
		binary.BigEndian.PutUint32(pkt[8:], l.ssrc)
		for j := 0; j < 160; j++ {
			pkt[12+j] = linearToPCMU(int16(8000 * math.Sin(phase)))
			phase += step
		}
		l.seq++
		l.ts += 160
		_ = l.Send(pkt)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			return net.ErrClosed
		case <-tick.C:
		}
	}
	return nil
}

func (l *rtpLeg) Stats() mediaStats {
	return mediaStats{Received: l.received.Load(), Relayed: l.relayed.Load(), Sent: l.sent.Load()}
}

func (l *rtpLeg) Close() error {
	err := l.conn.Close()
	<-l.done
	return err
}

// linearToPCMU is G.711 µ-law encoding of one 16-bit sample.
func linearToPCMU(s int16) byte {
	const bias, clip = 0x84, 32635
	x := int(s)
	sign := 0
	if x < 0 {
		x, sign = -x, 0x80
	}
	if x > clip {
		x = clip
	}
	x += bias
	exp := 7
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (x >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

// pcmuToLinear decodes one µ-law byte (tests use it for tone checks).
func pcmuToLinear(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}
