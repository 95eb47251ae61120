// Package webrtc is the browser end of a call: one pion PeerConnection per
// call carrying G.711 µ-law audio (PCMU, payload type 0) and RFC 4733
// telephone-events (payload type 101) to and from the softphone page. The
// server offers, the browser answers; ICE uses host candidates on the
// configured addresses only (no STUN unless configured), so nothing leaves
// the machine in tests.
//
// The switch sees RTP packets, not tracks: WriteRTP takes a packet from
// whatever the leg is bridged to (another phone's stream, a tone, a
// prompt) and rewrites it into one continuous stream towards the browser
// (our SSRC, sequence numbers and timestamps carried across changes of
// source); packets from the browser, audio and telephone-events alike,
// arrive raw (after SRTP) at Options.OnRTP.
package webrtc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/ice/v4"
	pion "github.com/pion/webrtc/v4"
)

// Payload types we offer (the same numbers the SIP switch uses).
const (
	PayloadPCMU  = 0
	PayloadEvent = 101
)

// Config is shared by every endpoint of an API.
type Config struct {
	// IPs are the local addresses offered as ICE host candidates (IPv4);
	// empty means 127.0.0.1 only. They must be addresses of this machine.
	IPs []string
	// PortMin..PortMax bounds the UDP ports ICE listens on; zero means any.
	PortMin, PortMax uint16
	// ICEServers are STUN/TURN URLs ("stun:host:port"); none by default.
	ICEServers []string
	// PublicIPs, when set, replace the host candidates' addresses in the
	// SDP (a server behind 1:1 NAT).
	PublicIPs []string
}

// API builds endpoints; one per process is enough.
type API struct {
	api     *pion.API
	servers []pion.ICEServer
}

// NewAPI checks cfg and prepares the media engine (PCMU + telephone-event,
// no header extensions, no interceptors: plain G.711 needs no NACK or
// congestion control).
func NewAPI(cfg Config) (*API, error) {
	ips := map[string]bool{}
	if len(cfg.IPs) == 0 {
		cfg.IPs = []string{"127.0.0.1"}
	}
	for _, s := range cfg.IPs {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil || ip.To4() == nil || ip.IsUnspecified() {
			return nil, fmt.Errorf("webrtc: ICE address %q is not a concrete IPv4 address", s)
		}
		ips[ip.String()] = true
	}
	if (cfg.PortMin == 0) != (cfg.PortMax == 0) || cfg.PortMax < cfg.PortMin {
		return nil, fmt.Errorf("webrtc: bad ICE port range %d-%d", cfg.PortMin, cfg.PortMax)
	}
	me := &pion.MediaEngine{}
	if err := registerCodecs(me); err != nil {
		return nil, err
	}
	var se pion.SettingEngine
	se.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ips[ip.String()] })
	if cfg.PortMin != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("webrtc: ICE port range: %w", err)
		}
	}
	if len(cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(cfg.PublicIPs, pion.ICECandidateTypeHost)
	}
	a := &API{api: pion.NewAPI(pion.WithMediaEngine(me), pion.WithSettingEngine(se))}
	if len(cfg.ICEServers) > 0 {
		a.servers = []pion.ICEServer{{URLs: cfg.ICEServers}}
	}
	return a, nil
}

func registerCodecs(me *pion.MediaEngine) error {
	for _, c := range []pion.RTPCodecParameters{
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: PayloadPCMU},
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, Channels: 1, SDPFmtpLine: "0-16"}, PayloadType: PayloadEvent},
	} {
		if err := me.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			return fmt.Errorf("webrtc: codec %s: %w", c.MimeType, err)
		}
	}
	return nil
}

// State is an endpoint's connection state as the switch needs it.
type State int

const (
	StateNew State = iota
	StateConnecting
	StateConnected
	StateFailed // ICE or DTLS failed, or the browser went away
	StateClosed
)

func (s State) String() string {
	return [...]string{"new", "connecting", "connected", "failed", "closed"}[s]
}

// Options are an endpoint's callbacks. Both run on pion's goroutines and
// must not block for long.
type Options struct {
	// OnRTP gets each RTP packet from the browser (audio and
	// telephone-events, as they came). pkt is reused after the call.
	OnRTP func(pkt []byte)
	// OnState reports each change; StateFailed and StateClosed are final.
	OnState func(State)
}

// Endpoint is one call's PeerConnection.
type Endpoint struct {
	pc    *pion.PeerConnection
	track *passthroughTrack
	opt   Options

	mu      sync.Mutex
	state   State
	closing bool // Close was called: no new track readers

	received, sent atomic.Uint64
	readers        sync.WaitGroup
}

// NewEndpoint creates a PeerConnection with one sendrecv audio track.
func (a *API) NewEndpoint(opt Options) (*Endpoint, error) {
	pc, err := a.api.NewPeerConnection(pion.Configuration{ICEServers: a.servers})
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	e := &Endpoint{pc: pc, opt: opt, track: newPassthroughTrack()}
	sender, err := pc.AddTrack(e.track)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("webrtc: add track: %w", err)
	}
	e.readers.Add(1)
	go func() { // drain RTCP so pion's buffers never fill
		defer e.readers.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		if tr.Kind() != pion.RTPCodecTypeAudio {
			return
		}
		// Under e.mu, so that no reader is added once Close waits for them
		// (pion calls OnTrack on a goroutine of its own).
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closing {
			return
		}
		e.readers.Add(1)
		go e.readLoop(tr)
	})
	pc.OnConnectionStateChange(func(s pion.PeerConnectionState) {
		switch s {
		case pion.PeerConnectionStateConnecting:
			e.setState(StateConnecting)
		case pion.PeerConnectionStateConnected:
			e.setState(StateConnected)
		case pion.PeerConnectionStateFailed:
			e.setState(StateFailed)
		case pion.PeerConnectionStateClosed:
			e.setState(StateClosed)
		}
	})
	return e, nil
}

// setState moves forward only: a final state stays.
func (e *Endpoint) setState(s State) {
	e.mu.Lock()
	if e.state == s || e.state == StateFailed || e.state == StateClosed {
		e.mu.Unlock()
		return
	}
	e.state = s
	e.mu.Unlock()
	if e.opt.OnState != nil {
		e.opt.OnState(s)
	}
}

// State is the current connection state.
func (e *Endpoint) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

func (e *Endpoint) readLoop(tr *pion.TrackRemote) {
	defer e.readers.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if n > 0 && !errors.Is(err, io.EOF) {
				continue // a payload type we did not negotiate: skip it
			}
			return
		}
		if n < 12 {
			continue
		}
		e.received.Add(1)
		if e.opt.OnRTP != nil {
			e.opt.OnRTP(buf[:n])
		}
	}
}

// Offer creates our SDP offer and returns it once ICE gathering is done
// (host candidates only: no trickling needed).
func (e *Endpoint) Offer(ctx context.Context) (string, error) {
	offer, err := e.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtc: create offer: %w", err)
	}
	done := pion.GatheringCompletePromise(e.pc)
	if err := e.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("webrtc: set offer: %w", err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return "", fmt.Errorf("webrtc: gathering ICE candidates: %w", ctx.Err())
	}
	return e.pc.LocalDescription().SDP, nil
}

// Answer takes a remote offer and returns our answer once ICE gathering is
// done: the browser's role, for a Go program (tests) standing in for the
// softphone page.
func (e *Endpoint) Answer(ctx context.Context, offer string) (string, error) {
	if len(offer) == 0 || len(offer) > MaxSDP {
		return "", fmt.Errorf("webrtc: offer SDP must be 1 to %d bytes, got %d", MaxSDP, len(offer))
	}
	if err := e.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("webrtc: offer not accepted: %w", err)
	}
	answer, err := e.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtc: create answer: %w", err)
	}
	done := pion.GatheringCompletePromise(e.pc)
	if err := e.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("webrtc: set answer: %w", err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return "", fmt.Errorf("webrtc: gathering ICE candidates: %w", ctx.Err())
	}
	return e.pc.LocalDescription().SDP, nil
}

// MaxSDP bounds an answer's size (a browser's is a few kilobytes).
const MaxSDP = 64 << 10

// Accept applies the browser's SDP answer. It must accept PCMU.
func (e *Endpoint) Accept(sdp string) error {
	if len(sdp) == 0 || len(sdp) > MaxSDP {
		return fmt.Errorf("webrtc: answer SDP must be 1 to %d bytes, got %d", MaxSDP, len(sdp))
	}
	if !strings.Contains(sdp, "PCMU/8000") {
		return errors.New("webrtc: the answer does not accept PCMU/8000 audio")
	}
	if err := e.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("webrtc: answer not accepted: %w", err)
	}
	return nil
}

// WriteRTP sends one RTP packet to the browser. PCMU (payload type 0) and
// telephone-event (101) packets pass, anything else is dropped; the
// packet's SSRC, sequence number and timestamp are rewritten so that the
// browser sees one continuous stream whatever the source. pkt is not kept.
// Before the browser is connected packets are dropped.
func (e *Endpoint) WriteRTP(pkt []byte) error {
	ok, err := e.track.write(pkt)
	if ok && err == nil {
		e.sent.Add(1)
	}
	return err
}

// Stats counts RTP packets received from and sent to the browser.
func (e *Endpoint) Stats() (received, sent uint64) {
	return e.received.Load(), e.sent.Load()
}

// Close ends the PeerConnection and waits for its readers.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	err := e.pc.Close()
	e.readers.Wait()
	e.setState(StateClosed)
	return err
}

// passthroughTrack is a TrackLocal that writes whole RTP packets keeping
// their payload type (pion's TrackLocalStaticRTP would turn
// telephone-events into PCMU), with a continuous sequence and timeline.
type passthroughTrack struct {
	mu     sync.Mutex
	ssrc   uint32
	w      pion.TrackLocalWriter
	buf    []byte
	events bool // the browser accepted telephone-event

	started         bool
	src             uint32 // source SSRC now being forwarded
	seqOff          uint16
	tsOff           uint32
	lastSeq, lastTS uint32 // last values sent (out)
}

func newPassthroughTrack() *passthroughTrack { return &passthroughTrack{buf: make([]byte, 1500)} }

func (t *passthroughTrack) Bind(ctx pion.TrackLocalContext) (pion.RTPCodecParameters, error) {
	var pcmu *pion.RTPCodecParameters
	events := false
	for _, c := range ctx.CodecParameters() {
		switch {
		case strings.EqualFold(c.MimeType, pion.MimeTypePCMU) && c.PayloadType == PayloadPCMU:
			c := c
			pcmu = &c
		case strings.EqualFold(c.MimeType, "audio/telephone-event") && c.PayloadType == PayloadEvent:
			events = true
		}
	}
	if pcmu == nil {
		return pion.RTPCodecParameters{}, errors.New("webrtc: the browser did not accept PCMU")
	}
	t.mu.Lock()
	t.ssrc, t.w, t.events = uint32(ctx.SSRC()), ctx.WriteStream(), events
	t.mu.Unlock()
	return *pcmu, nil
}

func (t *passthroughTrack) Unbind(pion.TrackLocalContext) error {
	t.mu.Lock()
	t.w = nil
	t.mu.Unlock()
	return nil
}

func (t *passthroughTrack) ID() string              { return "audio" }
func (t *passthroughTrack) RID() string             { return "" }
func (t *passthroughTrack) StreamID() string        { return "centralita" }
func (t *passthroughTrack) Kind() pion.RTPCodecType { return pion.RTPCodecTypeAudio }

// write forwards pkt; ok is false when it was dropped.
func (t *passthroughTrack) write(pkt []byte) (ok bool, err error) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 || len(pkt) > len(t.buf) {
		return false, nil
	}
	pt := pkt[1] & 0x7f
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil || !(pt == PayloadPCMU || pt == PayloadEvent && t.events) {
		return false, nil
	}
	seq := uint32(binary.BigEndian.Uint16(pkt[2:]))
	ts := binary.BigEndian.Uint32(pkt[4:])
	src := binary.BigEndian.Uint32(pkt[8:])
	marker := false
	if !t.started || src != t.src {
		// A new source: continue our stream one packet and 20 ms later.
		nextSeq, nextTS := uint32(0), uint32(0)
		if t.started {
			nextSeq, nextTS = t.lastSeq+1, t.lastTS+160
		}
		t.seqOff = uint16(nextSeq - seq)
		t.tsOff = nextTS - ts
		t.src, t.started, marker = src, true, true
	}
	n := copy(t.buf, pkt)
	out := t.buf[:n]
	outSeq := uint16(seq) + t.seqOff
	outTS := ts + t.tsOff
	binary.BigEndian.PutUint16(out[2:], outSeq)
	binary.BigEndian.PutUint32(out[4:], outTS)
	binary.BigEndian.PutUint32(out[8:], t.ssrc)
	if marker {
		out[1] |= 0x80
	}
	t.lastSeq, t.lastTS = uint32(outSeq), outTS
	n, err = t.w.Write(out) // (0, nil) until DTLS is up: dropped
	return n > 0 && err == nil, err
}
