package sip

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/centralita/centralita/internal/telephony/audio"
)

// Media of one leg (rtpLeg): one UDP socket, one goroutine reading it.
//
// What the party says (packets arriving on the socket) goes where the
// leg's route says: as packets to the bridged partner (the fast path: no
// decoding), decoded into a conference room, decoded into the leg's
// recorder, echoed back (extension 600), or nowhere (muted, held). RFC 4733
// telephone events are always fed to the leg's DTMF receiver first.
//
// What the party hears comes from one source at a time: the leg's player
// (prompts, tones, music on hold, DTMF digits) while it has something to
// play, otherwise the room's mix or the partner's relayed packets. Our own
// streams (player and mix) and the relayed packets share one SSRC,
// sequence and timestamp per leg, so switching between them — or a
// transfer changing the partner — keeps the stream continuous (relay).
//
// A leg with SRTP (srtp.go) decrypts in the read loop before anything
// else looks at a packet, and encrypts in write, after everything else.
//
// The route is an immutable snapshot the switch rebuilds under its lock
// whenever a leg's situation changes (reroute); the read loop loads it once
// per packet.

// route is where a leg's incoming audio goes.
type route struct {
	relay   *rtpLeg   // bridged partner: packets are relayed to it
	relayPT byte      // the partner's telephone-event payload type
	drop    bool      // muted or held: the party's voice goes nowhere
	room    *member   // in a conference: decoded frames go to the mixer
	rec     *recorder // recorded: decoded frames are the left channel
	echo    bool      // extension 600: every audio packet goes back
}

// mediaStats counts a leg's packets (tests and diagnostics). Rejected are
// packets that failed SRTP authentication (dropped).
type mediaStats struct {
	Received, Relayed, Sent, Rejected uint64
}

// portPool hands out even RTP ports from [min, max]; min = 0 means any port.
type portPool struct {
	mu       sync.Mutex
	min, max int
	next     int
	// digit is told each key a party presses (RFC 4733), from the leg's
	// read loop; set once before any leg exists.
	digit func(l *rtpLeg, digit string)
	// log gets the legs' SRTP authentication failures (at a low rate);
	// set once before any leg exists, nil: slog's default.
	log *slog.Logger
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

// DefaultEventPT is the telephone-event payload type when the party's SDP
// names none (it is what we offer).
const DefaultEventPT = 101

// rtpLeg is one leg's RTP endpoint.
type rtpLeg struct {
	conn    *net.UDPConn
	pool    *portPool // the switch's: where key presses are reported
	remote  atomic.Pointer[net.UDPAddr]
	latch   atomic.Bool // remote learned from a received packet
	route   atomic.Pointer[route]
	eventPT atomic.Uint32 // the party's telephone-event payload type
	done    chan struct{}

	busy atomic.Bool              // the player owns the output: relay and mix are dropped
	rec  atomic.Pointer[recorder] // recorded: what is sent is the right channel

	own ownStream
	pl  player

	// SRTP (srtp.go), nil for plain RTP: the negotiated keys, and what
	// the read loop decrypts with (the sending context is own.tx).
	crypto atomic.Pointer[legCrypto]
	rx     atomic.Pointer[srtpIn]

	received, relayed, sent, rejected atomic.Uint64
}

func newRTPLeg(pool *portPool, ip string) (*rtpLeg, error) {
	c, err := pool.listen(ip)
	if err != nil {
		return nil, err
	}
	var b [10]byte
	_, _ = rand.Read(b[:])
	l := &rtpLeg{conn: c, pool: pool, done: make(chan struct{})}
	l.own.ssrc = binary.BigEndian.Uint32(b[:])
	l.own.seq = binary.BigEndian.Uint16(b[4:])
	l.own.next = binary.BigEndian.Uint32(b[6:])
	l.eventPT.Store(DefaultEventPT)
	l.pl.l = l
	go l.readLoop()
	return l, nil
}

func (l *rtpLeg) Port() int { return l.conn.LocalAddr().(*net.UDPAddr).Port }

// SetRemote is where the party wants its audio (from its SDP); the source
// of the first packet received from the party wins over it (symmetric RTP).
func (l *rtpLeg) SetRemote(a *net.UDPAddr) {
	if !l.latch.Load() {
		l.remote.Store(a)
	}
}

// setEventPT takes the party's telephone-event payload type from its SDP.
func (l *rtpLeg) setEventPT(sdp []byte) { l.eventPT.Store(uint32(eventPayloadType(sdp))) }

// send writes one packet to the party.
func (l *rtpLeg) send(pkt []byte) error {
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

// relayAudio sends a packet the bridged partner's party said to this leg's
// party, on this leg's own stream, unless the player owns the output.
func (l *rtpLeg) relayAudio(h rtpHeader, payload []byte) bool {
	if l.busy.Load() {
		return false
	}
	if rec := l.rec.Load(); rec != nil {
		var buf [320]int16
		rec.heard(audio.DecodePCMU(buf[:0], payload))
	}
	return l.relay(h, 0, payload, len(payload))
}

// relayEvent sends a partner's telephone-event packet on, with this
// party's payload type, on this leg's own stream.
func (l *rtpLeg) relayEvent(h rtpHeader, pt byte, payload []byte) bool {
	if l.busy.Load() {
		return false
	}
	return l.relay(h, pt, payload, 0)
}

// relay sends what another stream carried (header h, payload) on the
// leg's own stream: our SSRC and sequence, the source's timestamps moved
// by an offset fixed when the source starts (a new SSRC, or our own
// stream having sent meanwhile), so timing within the source is kept and
// the party sees one continuous stream. Phones' jitter buffers drop a new
// SSRC whose sequence numbers are behind the old one's as late packets (a
// transfer swaps the source under the party's feet), hence no passing
// through of the partner's header. samples is how far the payload moves
// the timeline (0 for telephone-events, which keep their press's time).
func (l *rtpLeg) relay(h rtpHeader, pt byte, payload []byte, samples int) bool {
	o := &l.own
	o.mu.Lock()
	defer o.mu.Unlock()
	marker := h.marker
	if !o.relaying || h.ssrc != o.relaySrc {
		start, _ := o.stamp(time.Now(), 0)
		o.relayOff, o.relaySrc = start-h.ts, h.ssrc
		marker = true
	}
	ts := h.ts + o.relayOff
	if end := ts + uint32(samples); int32(end-o.next) > 0 {
		o.next = end
	}
	sent := l.write(pt, marker, ts, payload)
	o.relaying = true
	return sent
}

func (l *rtpLeg) readLoop() {
	defer close(l.done)
	buf := make([]byte, 1500)
	var pcm []int16
	var dtmf *audio.Receiver // made on the first event packet
	var dec []byte           // decrypted SRTP packets, made for the first one
	var srtpHdr rtp.Header
	var warned time.Time // the last SRTP failure logged
	for {
		n, from, err := l.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := buf[:n]
		if in := l.rx.Load(); in != nil {
			// Nothing unauthenticated goes further: not to the partner,
			// not into the latch that learns the party's address.
			if in.cur == nil || isRTCP(pkt) {
				continue // our offer not answered yet; RTCP we do not use
			}
			if dec == nil {
				dec = make([]byte, len(buf))
			}
			plain, ok := in.decrypt(dec[:0], pkt, &srtpHdr)
			if !ok {
				if n := l.rejected.Add(1); time.Since(warned) > srtpWarnEvery {
					warned = time.Now()
					l.logger().Warn("sip srtp: packet failed authentication, dropped", "from", from.String(), "port", l.Port(), "rejected", n)
				}
				continue
			}
			pkt = plain
		}
		h, payload, ok := parseRTP(pkt)
		if !ok {
			continue
		}
		l.received.Add(1)
		if !l.latch.Load() {
			l.remote.Store(from)
			l.latch.Store(true)
		}
		r := l.route.Load()
		if uint32(h.pt) == l.eventPT.Load() {
			if dtmf == nil {
				dtmf = &audio.Receiver{}
			}
			if d, ok := dtmf.Feed(h.ts, payload); ok {
				if l.pool.digit != nil {
					l.pool.digit(l, d)
				}
			}
			if r != nil && r.relay != nil && !r.drop && r.relay.relayEvent(h, r.relayPT, payload) {
				l.relayed.Add(1)
			}
			continue
		}
		if h.pt != 0 || r == nil || r.drop { // PCMU only
			continue
		}
		if r.echo {
			if !l.busy.Load() {
				l.sendPayload(0, payload)
			}
			continue
		}
		if r.room == nil && r.rec == nil { // the fast path: a plain bridge
			if r.relay != nil && r.relay.relayAudio(h, payload) {
				l.relayed.Add(1)
			}
			continue
		}
		pcm = audio.DecodePCMU(pcm, payload)
		if r.rec != nil {
			r.rec.said(pcm)
		}
		if r.room != nil {
			r.room.push(pcm)
		}
		if r.relay != nil && r.relay.relayAudio(h, payload) {
			l.relayed.Add(1)
		}
	}
}

// srtpWarnEvery spaces a leg's log lines about SRTP packets dropped: a
// flood of forged packets must not flood the log (Stats counts them all).
const srtpWarnEvery = 10 * time.Second

func (l *rtpLeg) logger() *slog.Logger {
	if l.pool.log != nil {
		return l.pool.log
	}
	return slog.Default()
}

// framer cuts audio that arrives in packets of any length (20 ms is usual,
// 10 or 30 ms happen) into the 20 ms frames a jitter queue holds, keeping
// the rest for the next packet, so that odd packet sizes add no silence.
type framer struct {
	mu   sync.Mutex // the leg's reader, the player and the mixer may push
	q    *audio.Jitter
	rest []int16
}

func newFramer(depth int) *framer { return &framer{q: audio.NewJitter(depth)} }

func (f *framer) push(pcm []int16) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.rest) > 0 {
		n := min(audio.FrameSamples-len(f.rest), len(pcm))
		f.rest = append(f.rest, pcm[:n]...)
		pcm = pcm[n:]
		if len(f.rest) < audio.FrameSamples {
			return
		}
		f.q.Push(f.rest)
		f.rest = f.rest[:0]
	}
	for len(pcm) >= audio.FrameSamples {
		f.q.Push(pcm[:audio.FrameSamples])
		pcm = pcm[audio.FrameSamples:]
	}
	f.rest = append(f.rest, pcm...)
}

// rtpHeader is what the switch reads from a received RTP header.
type rtpHeader struct {
	marker bool
	pt     byte
	seq    uint16
	ts     uint32
	ssrc   uint32
}

// parseRTP splits an RTP packet (RFC 3550) into header and payload,
// skipping CSRCs, a header extension and padding. ok is false for anything
// that is not a well-formed version 2 packet.
func parseRTP(b []byte) (h rtpHeader, payload []byte, ok bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return h, nil, false
	}
	h.marker = b[1]&0x80 != 0
	h.pt = b[1] & 0x7f
	h.seq = binary.BigEndian.Uint16(b[2:])
	h.ts = binary.BigEndian.Uint32(b[4:])
	h.ssrc = binary.BigEndian.Uint32(b[8:])
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // header extension
		if len(b) < off+4 {
			return h, nil, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 { // padding: the last byte counts it
		end -= int(b[end-1])
	}
	if off > end {
		return h, nil, false
	}
	return h, b[off:end], true
}

// ownStream is the leg's own RTP stream: one SSRC, a sequence number and a
// timestamp that stay continuous whatever we send (prompts, music, mix,
// DTMF). A pause longer than a few frames starts a new talkspurt: marker
// set, timestamp moved on by the wall time that passed.
type ownStream struct {
	mu      sync.Mutex
	ssrc    uint32
	seq     uint16
	next    uint32 // timestamp right after the last media sent
	started bool
	t0      time.Time // wall time of ts0
	ts0     uint32
	last    time.Time // when the last packet went out
	buf     [12 + 480]byte
	// relayed packets (relay): the source now relayed, the offset from
	// its timestamps to ours, and whether the last packet sent was one
	relaySrc, relayOff uint32
	relaying           bool
	// SRTP (srtp.go): what write encrypts with (nil: plain), its output
	// (made with tx: room for buf and the longest authentication tag) and
	// a header to parse into
	tx  *srtp.Context
	enc []byte
	hdr rtp.Header
}

// talkspurtGap is the silence after which a packet starts a new talkspurt.
const talkspurtGap = 60 * time.Millisecond

// stamp returns the timestamp of media that starts now and lasts n
// samples, and whether it starts a talkspurt. Needs o.mu.
func (o *ownStream) stamp(now time.Time, n int) (ts uint32, marker bool) {
	switch {
	case !o.started:
		o.started, o.t0, o.ts0, marker = true, now, o.next, true
	case now.Sub(o.last) > talkspurtGap:
		marker = true
		wall := o.ts0 + uint32(now.Sub(o.t0).Nanoseconds()*audio.SampleRate/int64(time.Second))
		if int32(wall-o.next) > 0 {
			o.next = wall
		}
	}
	ts = o.next
	o.next += uint32(n)
	return ts, marker
}

// write sends one packet of our stream (reporting whether it went out).
// Needs o.mu.
func (l *rtpLeg) write(pt byte, marker bool, ts uint32, payload []byte) bool {
	o := &l.own
	o.relaying = false // what is relayed next continues from here
	if len(payload) > len(o.buf)-12 {
		payload = payload[:len(o.buf)-12]
	}
	b := o.buf[:12+len(payload)]
	b[0], b[1] = 0x80, pt&0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], o.seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], o.ssrc)
	copy(b[12:], payload)
	o.seq++
	o.last = time.Now()
	if o.tx != nil {
		enc, err := o.tx.EncryptRTP(o.enc[:0], b, &o.hdr)
		if err != nil {
			return false
		}
		b = enc
	}
	return l.send(b) == nil
}

// sendFrame encodes pcm as PCMU and sends it on our stream (the recorder
// hears it as what the party heard).
func (l *rtpLeg) sendFrame(pcm []int16) {
	var enc [480]byte
	if rec := l.rec.Load(); rec != nil {
		rec.heard(pcm)
	}
	l.sendPayload(0, audio.EncodePCMU(enc[:0], pcm))
}

// sendPayload sends one audio payload (one sample per byte: PCMU) on our stream.
func (l *rtpLeg) sendPayload(pt byte, payload []byte) {
	l.own.mu.Lock()
	defer l.own.mu.Unlock()
	ts, marker := l.own.stamp(time.Now(), len(payload))
	l.write(pt, marker, ts, payload)
}

// Stats counts packets.
func (l *rtpLeg) Stats() mediaStats {
	return mediaStats{Received: l.received.Load(), Relayed: l.relayed.Load(), Sent: l.sent.Load(), Rejected: l.rejected.Load()}
}

// Close stops the socket and waits for the read loop (the player stops by itself).
func (l *rtpLeg) Close() error {
	err := l.conn.Close()
	<-l.done
	return err
}
