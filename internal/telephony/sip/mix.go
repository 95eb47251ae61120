package sip

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// Conferences and supervisor monitoring. A room mixes its members' audio:
// each member's leg decodes what its party says into the member's jitter
// queue; one goroutine per room ticks every 20 ms (wall clock: media is
// real time), pops a frame per member, mixes them with audio.Mix over the
// hears/speaks matrix of the members' modes (audio.Roles: Full heard by
// all, Listen by none, Whisper by its coach only; everyone hears every
// member whose speech reaches it, never itself) and sends each member its
// mix on the leg's own RTP stream. The ticker runs only while the room has
// members.

// mediaState is the switch's media bookkeeping beyond legs, under s.mu.
type mediaState struct {
	rooms    map[string]*room
	nextRoom int
	echoes   map[string]*echoCall // by Call-ID (echo.go)
	// prompts is the operators' set given to SetPrompts (prompts_live.go),
	// swapped whole, never modified once stored.
	prompts atomic.Pointer[map[string][]int16]
}

// roomDepth bounds a member's jitter queue: 8 frames, 160 ms; a queue
// that stays above roomSkim frames (a burst, or a sender whose clock runs
// fast) loses one extra frame per tick until it is back, so the delay a
// member adds stays near roomSkim frames.
const roomDepth, roomSkim = 8, 4

// room is one conference.
type room struct {
	id      string
	members []*member // join order; under s.mu

	mu      sync.Mutex // guards what the ticker reads
	snap    []*member
	roles   []audio.Member
	version int
	stop    chan struct{} // closed to stop the ticker; nil when not running
}

// member is a leg's place in a room.
type member struct {
	room  *room
	leg   *leg // under s.mu
	id    string
	med   *rtpLeg
	mode  telephony.MixMode
	coach string
	in    *framer // what the member's party says, for the mixer
}

// push queues what the member's party said, in 20 ms frames.
func (m *member) push(pcm []int16) { m.in.push(pcm) }

// publish hands the members to the ticker, starting or stopping it.
// Needs s.mu.
func (r *room) publish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snap = append([]*member(nil), r.members...)
	r.roles = make([]audio.Member, len(r.members))
	for i, m := range r.members {
		r.roles[i] = audio.Member{ID: m.id, Mode: m.mode, Coach: m.coach}
	}
	r.version++
	switch {
	case len(r.members) > 0 && r.stop == nil:
		r.stop = make(chan struct{})
		go r.run(r.stop)
	case len(r.members) == 0 && r.stop != nil:
		close(r.stop)
		r.stop = nil
	}
}

// halt stops the ticker.
func (r *room) halt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		close(r.stop)
		r.stop = nil
	}
}

func (r *room) run(stop chan struct{}) {
	tick := time.NewTicker(frameTime)
	defer tick.Stop()
	var (
		in, out = map[string][]int16{}, map[string][]int16{}
		skim    = make([]int16, audio.FrameSamples)
		members []*member
		matrix  audio.Matrix
		version = -1
	)
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		if r.version != version {
			version, members, matrix = r.version, r.snap, audio.Roles(r.roles)
			clear(in)
			clear(out)
		}
		r.mu.Unlock()
		for _, m := range members {
			f := in[m.id]
			if f == nil {
				f = make([]int16, audio.FrameSamples)
				in[m.id] = f
			}
			m.in.q.Pop(f)
			if m.in.q.Len() > roomSkim {
				m.in.q.Pop(skim)
			}
		}
		audio.Mix(matrix, in, out)
		for _, m := range members {
			if !m.med.busy.Load() { // held, or a prompt or DTMF plays
				m.med.sendFrame(out[m.id])
			}
		}
	}
}

// NewConference creates an empty room ("sip-conf-N"); it lasts until
// EndConference or Close.
func (s *Switch) NewConference(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	if s.rooms == nil {
		s.rooms = map[string]*room{}
	}
	s.nextRoom++
	r := &room{id: "sip-conf-" + strconv.Itoa(s.nextRoom)}
	s.rooms[r.id] = r
	return r.id, nil
}

// Join puts an answered leg into a conference with mode ("" means Full).
// A Whisper participant needs a coach that is another member. Joining the
// room the leg is in with another mode or coach changes them (one Joined,
// no Left); with the same ones it is ErrState. A leg in a bridge or another
// room leaves it first (Unbridged / Left); its prompts are interrupted.
func (s *Switch) Join(ctx context.Context, conf, id string, mode telephony.MixMode, coach string) error {
	switch mode {
	case "":
		mode = telephony.Full
	case telephony.Full, telephony.Listen, telephony.Whisper:
	default:
		return fmt.Errorf("sip: unknown mix mode %q (want full, listen or whisper)", mode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.get(id)
	if err != nil {
		return err
	}
	r := s.rooms[conf]
	if r == nil {
		return fmt.Errorf("%w: %q", telephony.ErrNoConference, conf)
	}
	if l.state != stAnswered {
		return telephony.ErrState
	}
	if mode == telephony.Whisper {
		if coach == "" {
			return fmt.Errorf("%w: whisper needs a coach", telephony.ErrState)
		}
		cl, err := s.get(coach)
		if err != nil {
			return err
		}
		if cl == l || cl.room == nil || cl.room.room != r {
			return fmt.Errorf("%w: coach %s is not another member of %s", telephony.ErrState, coach, conf)
		}
	} else {
		coach = ""
	}
	if m := l.room; m != nil && m.room == r {
		if m.mode == mode && m.coach == coach {
			return fmt.Errorf("%w: %s is already in %s as %s", telephony.ErrState, id, conf, mode)
		}
		m.mode, m.coach = mode, coach
		r.publish()
		s.emit(telephony.Event{Type: telephony.Joined, Leg: l.id, Conference: r.id, Mode: mode})
		return nil
	}
	s.cancelTransfer(l)
	s.detach(l)
	s.stopPlays(l)
	m := &member{room: r, leg: l, id: l.id, med: l.med, mode: mode, coach: coach, in: newFramer(roomDepth)}
	r.members = append(r.members, m)
	l.room = m
	s.reroute(l)
	r.publish()
	s.emit(telephony.Event{Type: telephony.Joined, Leg: l.id, Conference: r.id, Mode: mode})
	return nil
}

// Leave takes a leg out of a conference; it stays up.
func (s *Switch) Leave(ctx context.Context, conf, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.get(id)
	if err != nil {
		return err
	}
	r := s.rooms[conf]
	if r == nil {
		return fmt.Errorf("%w: %q", telephony.ErrNoConference, conf)
	}
	if l.room == nil || l.room.room != r {
		return fmt.Errorf("%w: %s is not in %s", telephony.ErrState, id, conf)
	}
	s.leaveRoom(l)
	return nil
}

// leaveRoom takes l out of its room (Left). Needs s.mu.
func (s *Switch) leaveRoom(l *leg) {
	m := l.room
	r := m.room
	for i, x := range r.members {
		if x == m {
			r.members = append(r.members[:i:i], r.members[i+1:]...)
			break
		}
	}
	l.room = nil
	s.reroute(l)
	r.publish()
	s.emit(telephony.Event{Type: telephony.Left, Leg: l.id, Conference: r.id, Mode: m.mode})
}

// EndConference takes every member out (Left, in join order; they stay up)
// and deletes the room.
func (s *Switch) EndConference(ctx context.Context, conf string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[conf]
	if r == nil {
		return fmt.Errorf("%w: %q", telephony.ErrNoConference, conf)
	}
	for len(r.members) > 0 {
		s.leaveRoom(r.members[0].leg)
	}
	r.halt()
	delete(s.rooms, conf)
	return nil
}

// closeMedia ends rooms and echo calls when the switch closes (every leg
// is already gone). Needs s.mu.
func (s *Switch) closeMedia() {
	for id, r := range s.rooms {
		r.halt()
		delete(s.rooms, id)
	}
	s.closeEchoes()
}
