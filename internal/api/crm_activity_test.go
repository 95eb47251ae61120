package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/store"
)

// The activity log's status: the agent who took the call and supervisors
// read it; other agents may not; a call without a log is 404.
func TestCRMActivityLogStatus(t *testing.T) {
	ce := startCalls(t)
	a1 := ce.userID(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)
	cid, _ := ce.answered(t, ws, "agent1", "1001", "+34600000077")
	path := "/api/v2/crm/conversations/" + cid + "/activitylog"
	sup, t1, t2 := ce.token(t, pSupervisor), ce.token(t, "agent1"), ce.token(t, "agent2")

	ce.must(t, 404, "GET", path, sup, nil)
	ce.must(t, 404, "GET", path, t1, nil)
	ce.must(t, 403, "GET", path, t2, nil)
	ce.must(t, 400, "GET", "/api/v2/crm/conversations/not-an-id/activitylog", sup, nil)

	now := ce.clock.Now()
	ctx := context.Background()
	a := crm.Activity{CallID: cid, Subject: "Inbound call from +34600000077", Direction: "inbound", Phone: "+34600000077",
		Start: now, End: now.Add(time.Minute), DurationSeconds: 60}
	due := now.Add(time.Hour)
	if err := ce.app.DB.Tx(ctx, func(tx *store.Tx) error { return ce.app.CRM.EnqueueLog(ctx, tx, a, "cc-test", due) }); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{sup, t1} {
		got := ce.must(t, 200, "GET", path, tok, nil).obj(t)
		if got["conversationId"] != cid || got["callCenterId"] != "cc-test" || got["state"] != "pending" || got["attempts"] != 0.0 ||
			got["mode"] != "task" || got["nextAttempt"] != due.UTC().Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("activity log %v", got)
		}
		if _, ok := got["dateWritten"]; ok {
			t.Fatalf("dateWritten on a log never written: %v", got)
		}
	}
	ce.must(t, 403, "GET", path, t2, nil)
}
