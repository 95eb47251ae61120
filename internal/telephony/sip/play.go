package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// player generates what a leg's party hears from us: queued prompts, music
// on hold while held, and DTMF digits. It runs one goroutine, only while it
// has something to play, ticking every 20 ms on the wall clock; while it
// runs it owns the leg's output (rtpLeg.busy), so relayed packets and the
// conference mix are not sent. Priority: DTMF, then prompts, then music.
type player struct {
	l *rtpLeg

	mu      sync.Mutex
	prompts []*playItem // the first one is playing
	moh     []int16     // looped while not nil
	mohPos  int
	digits  []byte // DTMF digits still to send
	running bool
}

// playItem is one prompt; done is called once its last frame went out.
type playItem struct {
	pcm  []int16
	pos  int
	done func()
}

// DTMF timing of SendDTMF: each digit lasts dtmfDuration, then
// dtmfGap passes before the next one.
const (
	dtmfDuration = 100 * time.Millisecond
	dtmfGap      = 40 * time.Millisecond
	frameTime    = 20 * time.Millisecond
)

// samples is d in samples at 8 kHz.
func samples(d time.Duration) int { return int(d * audio.SampleRate / time.Second) }

// enqueue adds a prompt.
func (p *player) enqueue(it *playItem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prompts = append(p.prompts, it)
	p.kick()
}

// dropPrompts forgets every queued prompt (their done is not called).
func (p *player) dropPrompts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prompts = nil
}

// setMusic starts (pcm not nil) or stops looping music.
func (p *player) setMusic(pcm []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.moh, p.mohPos = pcm, 0
	p.kick()
}

// sendDigits queues DTMF digits.
func (p *player) sendDigits(d []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.digits = append(p.digits, d...)
	p.kick()
}

// idle reports whether nothing is left to play (tests wait on it).
func (p *player) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.running
}

// kick starts the goroutine if there is work. Needs p.mu.
func (p *player) kick() {
	if p.running || (len(p.prompts) == 0 && p.moh == nil && len(p.digits) == 0) {
		return
	}
	select {
	case <-p.l.done:
		return // the leg is closed
	default:
	}
	p.running = true
	p.l.busy.Store(true)
	go p.run()
}

// dtmfOut is the digit being sent: its RTP packets, the next one to send
// and the timestamp they all share.
type dtmfOut struct {
	pkts []audio.Event
	next int
	ts   uint32
	gap  int // silent ticks left after the digit
}

func (p *player) run() {
	tick := time.NewTicker(frameTime)
	defer tick.Stop()
	var (
		cur   dtmfOut
		frame = make([]int16, audio.FrameSamples)
	)
	for {
		var (
			finished *playItem
			send     []int16
			event    []byte
			marker   bool
		)
		p.mu.Lock()
		switch {
		case cur.next < len(cur.pkts):
			e := cur.pkts[cur.next]
			marker = cur.next == 0
			cur.next++
			event = e.Marshal()
		case cur.gap > 0:
			cur.gap--
		case len(p.digits) > 0:
			d := string(p.digits[:1])
			p.digits = p.digits[1:]
			cur = dtmfOut{pkts: audio.Packets(d, samples(dtmfDuration)), gap: int(dtmfGap / frameTime)}
			marker, event = true, cur.pkts[0].Marshal()
			cur.next = 1
		case len(p.prompts) > 0:
			it := p.prompts[0]
			n := copy(frame, it.pcm[it.pos:])
			clear(frame[n:])
			it.pos += n
			if it.pos >= len(it.pcm) {
				finished = it
				p.prompts = p.prompts[1:]
			}
			send = frame
		case p.moh != nil:
			n := copy(frame, p.moh[p.mohPos:])
			p.mohPos += n
			if p.mohPos >= len(p.moh) {
				p.mohPos = copy(frame[n:], p.moh)
			}
			send = frame
		default:
			p.running = false
			p.l.busy.Store(false)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()

		switch {
		case event != nil:
			p.l.own.mu.Lock()
			if marker {
				cur.ts, _ = p.l.own.stamp(time.Now(), samples(dtmfDuration))
			}
			p.l.write(byte(p.l.eventPT.Load()), marker, cur.ts, event)
			p.l.own.mu.Unlock()
		case send != nil:
			p.l.sendFrame(send)
		}
		if finished != nil && finished.done != nil {
			finished.done()
		}
		select {
		case <-tick.C:
		case <-p.l.done:
			p.mu.Lock()
			p.running = false
			p.prompts, p.moh, p.digits = nil, nil, nil
			p.mu.Unlock()
			return
		}
	}
}

// ------------------------------------------------------------- prompts --

// promptPCM finds a prompt's audio: "tone:FREQ" (Options.ToneDuration of a
// sine), an operator's prompt (SetPrompts, Options.Prompts), or one of
// audio's built-in prompts.
func (s *Switch) promptPCM(name string) ([]int16, error) {
	if name == "" {
		return nil, errors.New("sip: empty prompt name")
	}
	if f, ok := strings.CutPrefix(name, "tone:"); ok {
		freq, err := strconv.ParseFloat(f, 64)
		if err != nil || freq <= 0 || freq >= audio.SampleRate/2 {
			return nil, fmt.Errorf("sip: bad tone %q: want tone:FREQ with 0 < FREQ < 4000 Hz", name)
		}
		return audio.Tone(freq, 8000, samples(s.opt.ToneDuration), nil), nil
	}
	if pcm, ok := s.operatorPrompt(name); ok { // SetPrompts, Options.Prompts (prompts_live.go)
		return pcm, nil
	}
	pcm, err := audio.Prompt(name)
	if err != nil {
		return nil, fmt.Errorf("sip: prompt %q: %w", name, err)
	}
	return pcm, nil
}

// Play plays a prompt to an answered leg, or to an offered one as early
// media (183 Session Progress with our SDP first), after any prompt already
// playing. PlaybackDone follows when it ends, or earlier when a Bridge, a
// Join or the hangup interrupts it.
func (s *Switch) Play(ctx context.Context, id, prompt string) error {
	if prompt == "" {
		return errors.New("sip: empty prompt")
	}
	pcm, err := s.promptPCM(prompt)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, lerr := s.get(id)
	if lerr != nil {
		return lerr
	}
	if err != nil {
		return err
	}
	switch l.state {
	case stAnswered:
	case stOffered:
		s.earlyMedia(l)
	default:
		return telephony.ErrState
	}
	it := &playItem{pcm: pcm}
	p := &play{item: it}
	l.plays = append(l.plays, p)
	it.done = func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range l.plays {
			if x == p { // not already reported by Bridge, Join or hangup
				l.plays = append(l.plays[:i:i], l.plays[i+1:]...)
				s.emit(telephony.Event{Type: telephony.PlaybackDone, Leg: l.id})
				break
			}
		}
	}
	l.med.pl.enqueue(it)
	return nil
}

// earlyMedia sends 183 Session Progress with our SDP to an offered leg
// (once), so that the caller hears prompts before the answer. Needs s.mu.
// The 183 goes out before this returns (a provisional response is one
// datagram): the dialog must not send it while Answer or Hangup send the
// final response.
func (s *Switch) earlyMedia(l *leg) {
	if l.early != nil || l.srv == nil {
		return
	}
	sdp := s.answerSDP(l)
	l.early = sdp
	ct := sip.NewHeader("Content-Type", "application/sdp")
	if err := l.srv.Respond(183, "Session Progress", sdp, ct); err != nil {
		s.log.Warn("sip early media failed", "leg", l.id, "err", err)
	}
}

// answerSDP is our SDP for an inbound leg: the one sent with early media
// if there was some (the 200 must repeat it), else a new one. Needs s.mu.
func (s *Switch) answerSDP(l *leg) []byte {
	if l.early != nil {
		return l.early
	}
	return l.med.localSDP(s.ip, uint64(time.Now().UnixNano()))
}

// stopPlays ends every prompt of l: PlaybackDone each. Needs s.mu.
func (s *Switch) stopPlays(l *leg) {
	for range l.plays {
		s.emit(telephony.Event{Type: telephony.PlaybackDone, Leg: l.id})
	}
	l.plays = nil
	if l.med != nil {
		l.med.pl.dropPrompts()
	}
}
