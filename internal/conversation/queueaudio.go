package conversation

import (
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/telephony"
)

// Queue waiting audio. A caller alone in a call waiting in a queue hears
// the queue's waiting prompt once (directory.Queue.Prompts: "queue-wait"
// by default), then its music ("moh") played again each time it ends,
// until an agent is connected, the caller hangs up or the call leaves the
// queue.
//
// The switch reports every Play with exactly one PlaybackDone, also when
// a Bridge (the agent connected) or the hangup interrupts it, and those
// events arrive after the state they follow was applied. So the music is
// not stopped by a request but by not playing it again: on each
// PlaybackDone the call must still be waiting, and pending counts the Plays
// not yet reported, so that a stale PlaybackDone (the one the Bridge
// caused, or one still due when the call re-enters a queue) never starts
// music of its own. A call that leaves the queue without a Bridge (its
// waiting ends for another reason) hears the rest of the current prompt.
// Parties on hold (a transfer to a queue) hear the switch's hold music
// instead.

// waitAudio is the waiting audio of one leg.
type waitAudio struct {
	conv    string // the conversation waiting
	queue   string // the queue whose music plays
	music   string // what plays after the waiting prompt
	pending int    // Plays not yet reported done
}

// startQueueAudio starts the waiting audio of q for the party waiting
// alone in c. Called with s.mu held, after the queue's acd participant was
// added.
func (s *Service) startQueueAudio(c *Conversation, q *directory.Queue) {
	leg := waitingLeg(c)
	if leg == "" {
		return
	}
	if s.waiting == nil {
		s.waiting = map[string]*waitAudio{}
	}
	wait, music := q.Prompts()
	wa := s.waiting[leg]
	if wa == nil {
		wa = &waitAudio{}
		s.waiting[leg] = wa
	}
	wa.conv, wa.queue, wa.music = c.ID, q.ID, music
	if !s.playWaiting(leg, wa, wait) && !s.playWaiting(leg, wa, music) && wa.pending == 0 {
		delete(s.waiting, leg)
	}
}

// waitingLeg is the leg of the only party of c that hears the queue's
// audio: connected, not on hold and not parked for a transfer. With
// anyone else on the call (or no one), nobody does.
func waitingLeg(c *Conversation) string {
	leg := ""
	for _, p := range liveParties(c) {
		if p.Parked || p.Held {
			continue
		}
		if leg != "" {
			return ""
		}
		leg = p.Leg
	}
	return leg
}

// playWaiting plays prompt on leg, reporting whether the switch took it.
func (s *Service) playWaiting(leg string, wa *waitAudio, prompt string) bool {
	if err := s.sw.Play(s.ctx, leg, prompt); err != nil {
		s.log.Warn("conversation: queue audio not played", "leg", leg, "prompt", prompt, "err", err)
		return false
	}
	wa.pending++
	return true
}

// queueAudioDone: a PlaybackDone. When the leg's last Play ended and its
// call still waits alone in a queue, the music plays again. Called with
// s.mu held.
func (s *Service) queueAudioDone(ev telephony.Event) {
	wa := s.waiting[ev.Leg]
	if wa == nil {
		return
	}
	if wa.pending--; wa.pending > 0 {
		return
	}
	c := s.convs[wa.conv]
	var a *Participant
	if c != nil {
		a = c.waitingACD()
	}
	if a != nil && waitingLeg(c) == ev.Leg {
		if a.QueueID != wa.queue { // overflowed: the new queue's music
			if q, err := s.dir.GetQueue(s.ctx, a.QueueID); err == nil {
				_, wa.music = q.Prompts()
			}
			wa.queue = a.QueueID
		}
		if s.playWaiting(ev.Leg, wa, wa.music) {
			return
		}
	}
	delete(s.waiting, ev.Leg)
}

// queueAudioGone forgets the audio of a leg that hung up.
func (s *Service) queueAudioGone(leg string) {
	delete(s.waiting, leg)
}
