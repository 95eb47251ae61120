package conversation

import (
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// RecordingDone is a participant's recording the switch finished writing.
type RecordingDone struct {
	ConversationID, ParticipantID string
	UserID                        string // the participant's user, if any
	File                          string // telephony.Event.Recording: the file's name in the switch's recording directory
	End                           time.Time
}

// OnRecording sets the hook told of every finished recording that left a
// file (the recordings index). It runs on the service's goroutine with its
// lock held: it must not block nor call the service.
func (s *Service) OnRecording(f func(RecordingDone)) {
	s.mu.Lock()
	s.recorded = f
	s.mu.Unlock()
}

// onRecordingStopped: the switch stopped recording a leg (asked to, or the
// leg went). Called with s.mu held.
func (s *Service) onRecordingStopped(ev telephony.Event) {
	c, p := s.byLeg(ev.Leg)
	if p == nil {
		return
	}
	if p.Recording {
		p.Recording = false
		s.commit(c)
	}
	if ev.Recording != "" && s.recorded != nil {
		s.recorded(RecordingDone{ConversationID: c.ID, ParticipantID: p.ID, UserID: p.UserID, File: ev.Recording, End: ev.Time})
	}
}
