package switchtest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/centralita/centralita/internal/telephony"
)

// needsAnswer are the events a leg can only get once answered.
var needsAnswer = map[telephony.EventType]bool{
	telephony.Bridged: true, telephony.Unbridged: true,
	telephony.Held: true, telephony.Resumed: true,
	telephony.Muted: true, telephony.Unmuted: true,
	telephony.Joined: true, telephony.Left: true,
	telephony.RecordingStarted: true, telephony.RecordingStopped: true,
}

// CheckLog checks the rules every switch's event stream follows, over a
// complete log (one that ends after Close, so every leg must have hung up).
// It returns one line per problem found, none for a good log:
//
//   - a leg's first event is Incoming, Ringing or (a call that failed at
//     once) Hangup; Incoming and Ringing never come later;
//   - Answered comes at most once, and before Bridged, Unbridged, Held,
//     Resumed, Muted, Unmuted, Joined, Left and the recording events;
//   - Held/Resumed, Muted/Unmuted and RecordingStarted/RecordingStopped
//     alternate, starting with the first of each pair;
//   - Bridged (with Other set to another leg) and Unbridged alternate; a
//     leg is never bridged and in a conference at once; Bridged events
//     come in symmetric pairs;
//   - Joined carries a conference and a valid mode; a leg joins another
//     conference only after Left of the first (Joined again in the same
//     conference is a mode change); Left names the conference the leg is in;
//   - DTMF carries one digit of 0-9 * # A-D;
//   - times of a leg's events never go backwards;
//   - every leg gets exactly one Hangup, with a cause, and nothing after it.
func CheckLog(events []telephony.Event) []string {
	type legState struct {
		started, answered, gone bool
		held, muted, rec        bool
		bridged, conf           string
		last                    telephony.Event
	}
	legs := map[string]*legState{}
	var order []string
	pairs := map[[2]string]int{}
	var problems []string
	bad := func(ev telephony.Event, format string, args ...any) {
		problems = append(problems, fmtEvent(ev)+": "+fmt.Sprintf(format, args...))
	}
	toggle := func(ev telephony.Event, flag *bool, on bool) {
		if *flag == on {
			bad(ev, "repeats the current state")
		}
		*flag = on
	}
	for _, ev := range events {
		if ev.Leg == "" {
			bad(ev, "no leg")
			continue
		}
		st := legs[ev.Leg]
		if st == nil {
			st = &legState{}
			legs[ev.Leg] = st
			order = append(order, ev.Leg)
		}
		if st.gone {
			bad(ev, "after Hangup")
			continue
		}
		if st.started && ev.Time.Before(st.last.Time) {
			bad(ev, "time %s before the previous event's %s", ev.Time, st.last.Time)
		}
		first := !st.started
		st.started = true
		st.last = ev
		if needsAnswer[ev.Type] && !st.answered {
			bad(ev, "before the leg was answered")
		}
		switch ev.Type {
		case telephony.Incoming, telephony.Ringing:
			if !first {
				bad(ev, "not the leg's first event")
			}
		case telephony.Answered:
			if st.answered {
				bad(ev, "answered twice")
			}
			st.answered = true
		case telephony.Held:
			toggle(ev, &st.held, true)
		case telephony.Resumed:
			toggle(ev, &st.held, false)
		case telephony.Muted:
			toggle(ev, &st.muted, true)
		case telephony.Unmuted:
			toggle(ev, &st.muted, false)
		case telephony.RecordingStarted:
			toggle(ev, &st.rec, true)
		case telephony.RecordingStopped:
			toggle(ev, &st.rec, false)
		case telephony.Bridged:
			if ev.Other == "" || ev.Other == ev.Leg {
				bad(ev, "Other must name another leg")
			}
			if st.bridged != "" {
				bad(ev, "already bridged to %s", st.bridged)
			}
			if st.conf != "" {
				bad(ev, "bridged while in conference %s", st.conf)
			}
			st.bridged = ev.Other
			pairs[[2]string{ev.Leg, ev.Other}]++
		case telephony.Unbridged:
			if st.bridged == "" {
				bad(ev, "not bridged")
			}
			st.bridged = ""
		case telephony.Joined:
			if ev.Conference == "" {
				bad(ev, "no conference")
			}
			switch ev.Mode {
			case telephony.Full, telephony.Listen, telephony.Whisper:
			default:
				bad(ev, "mode %q", ev.Mode)
			}
			if st.conf != "" && st.conf != ev.Conference {
				bad(ev, "still in conference %s", st.conf)
			}
			if st.bridged != "" {
				bad(ev, "joined while bridged to %s", st.bridged)
			}
			st.conf = ev.Conference
		case telephony.Left:
			if st.conf == "" || st.conf != ev.Conference {
				bad(ev, "leaves %q but is in %q", ev.Conference, st.conf)
			}
			st.conf = ""
		case telephony.DTMF:
			if len(ev.Digit) != 1 || !strings.Contains("0123456789*#ABCD", ev.Digit) {
				bad(ev, "digit %q", ev.Digit)
			}
		case telephony.PlaybackDone:
		case telephony.Hangup:
			if ev.Cause == "" {
				bad(ev, "no cause")
			}
			st.gone = true
		default:
			bad(ev, "unknown event type")
		}
		if first && ev.Type != telephony.Incoming && ev.Type != telephony.Ringing && ev.Type != telephony.Hangup {
			bad(ev, "a leg's first event must be Incoming, Ringing or Hangup")
		}
	}
	for _, leg := range order {
		if !legs[leg].gone {
			problems = append(problems, leg+": no Hangup")
		}
	}
	var asym []string
	for p, n := range pairs {
		if m := pairs[[2]string{p[1], p[0]}]; m != n {
			asym = append(asym, fmt.Sprintf("%s bridged to %s %d times but %s to %s %d times", p[0], p[1], n, p[1], p[0], m))
		}
	}
	sort.Strings(asym)
	problems = append(problems, asym...)
	return problems
}
