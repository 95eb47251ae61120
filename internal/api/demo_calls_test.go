package api_test

import (
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
)

// The demo's simulated callers reach the demo agents, who answer, talk and
// hang up by themselves; when the
// traffic stops, everything ends and every agent is free.
func TestDemoTrafficAndAgents(t *testing.T) {
	e := startEnv(t, apptest.Options{Clock: newFakeClock(), RateLimit: 100000, DemoTraffic: 6, DemoAgents: 2})
	ce := &callEnv{testEnv: e, sw: e.app.Switch()}
	a3, a5 := ce.userID(t, "agent3"), ce.userID(t, "agent5")
	sup := ce.token(t, pSupervisor)
	for _, u := range []string{a3, a5} {
		if rs := ce.must(t, 200, "GET", "/api/v2/users/"+u+"/routingstatus", sup, nil).obj(t); rs["status"] != "IDLE" {
			t.Fatalf("demo agent %s: %v", u, rs)
		}
	}
	for i := 0; i < 15*60; i++ {
		ce.advance(t, time.Second)
	}
	tr := e.app.DemoTraffic()
	if tr == nil || tr.Arrivals() < 40 {
		t.Fatalf("6 calls a minute for 15 minutes gave %v arrivals", tr.Arrivals())
	}
	tr.Stop()
	for i := 0; i < 10*60; i++ { // patience, talk and wrap-up all end within minutes
		ce.advance(t, time.Second)
	}
	var answered, total int
	if err := e.app.DB.QueryRow(`SELECT COUNT(*) FROM conversations`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if err := e.app.DB.QueryRow(`SELECT COUNT(DISTINCT conversation_id) FROM conversation_users WHERE user_id IN ($1, $2)`, a3, a5).Scan(&answered); err != nil {
		t.Fatal(err)
	}
	if total != tr.Arrivals() || answered < total/3 {
		t.Errorf("%d arrivals, %d conversations, %d reached a demo agent", tr.Arrivals(), total, answered)
	}
	var active int
	e.app.DB.QueryRow(`SELECT COUNT(*) FROM conversations WHERE state = 'active'`).Scan(&active)
	if active != 0 || len(ce.sw.Legs()) != 0 {
		t.Errorf("after the traffic stopped: %d conversations active, %d legs up", active, len(ce.sw.Legs()))
	}
	for _, u := range []string{a3, a5} {
		if rs := ce.must(t, 200, "GET", "/api/v2/users/"+u+"/routingstatus", sup, nil).obj(t); rs["status"] != "IDLE" {
			t.Errorf("demo agent %s at the end: %v", u, rs)
		}
	}
}
