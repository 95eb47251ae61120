package web_test

import (
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// TestBrowserSoftphoneFlows drives the softphone's call-center flows
// through tests/browser/softphone-flows.js: a supervisor's listen, whisper
// and end monitoring; direct transfers to a number, a queue and a user,
// each wrapped up; every break state (a custom one included); the
// predictive campaign's call, a callback scheduled with the date/time
// picker, categorize and release. External numbers answer after 1 s and
// talk 6 s, so the predictive call ends by itself.
func TestBrowserSoftphoneFlows(t *testing.T) {
	quick := func(string) sim.Party {
		return sim.Party{Outcome: sim.Answer, After: time.Second, TalkTime: 6 * time.Second}
	}
	runBrowserScriptWith(t, apptest.Options{Numbers: quick}, "softphone-flows.js")
}
