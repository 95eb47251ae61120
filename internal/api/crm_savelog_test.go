package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/crm"
)

// TestCRMSaveLogFromBrowser: a call center set to log from the browser
// (activityLogFrom=browser) gets no server-side activity log; the
// softphone reads the call's Task fields (savelog) once the call ended, the
// same fields the connector would write: subject, call type, duration,
// WhoId of the linked record, the call id field.
func TestCRMSaveLogFromBrowser(t *testing.T) {
	ce := startCalls(t)
	ctx := context.Background()
	cc := demoCallCenter(t, ce)
	cc.Settings[crm.SettingActivityLogFrom] = "browser"
	if _, err := ce.app.CRM.UpdateCallCenter(ctx, cc.ID, cc); err != nil {
		t.Fatal(err)
	}
	a1 := ce.loggedIn(t, "agent1", "1001")
	t1 := ce.token(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)
	const number = "+34911000778"
	r := ce.must(t, 200, "POST", "/api/v2/crm/clicktodial", t1,
		map[string]any{"phone": number, "recordType": "Contact", "recordId": "003REC0002"}).obj(t)
	cid, _ := r["conversationId"].(string)
	ws.conv(cid, ".conversations", func(c conv) bool { return c.state("user", a1) == "connected" })
	path := "/api/v2/crm/conversations/" + cid + "/savelog"
	errorBody(t, ce.send(t, "GET", path, t1, nil), 409, "call.not.ended")

	ce.endCall(t, ws, "agent1", cid)
	f := ce.must(t, 200, "GET", path, t1, nil).obj(t)
	for k, want := range map[string]any{"entityApiName": "Task", "TaskSubtype": "Call", "neoCallId__c": cid, "CallObject": cid,
		"CallType": "Outbound", "WhoId": "003REC0002", "Status": "Completed"} {
		if f[k] != want {
			t.Errorf("savelog %s = %v, want %v (all: %v)", k, f[k], want, f)
		}
	}
	if _, ok := f["CallDurationInSeconds"].(float64); !ok || f["Subject"] == "" {
		t.Errorf("savelog duration/subject: %v", f)
	}
	ce.must(t, 403, "GET", path, ce.token(t, "agent2"), nil)

	// The server writes nothing: no activity log after the grace period.
	ce.advance(t, crm.LogGrace+time.Second)
	ce.must(t, 404, "GET", "/api/v2/crm/conversations/"+cid+"/activitylog", ce.token(t, "supervisor"), nil)
}
