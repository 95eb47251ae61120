package api_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/demo"
)

// demoList returns the demo's contact list ("Base Demo") and its first
// contact.
func demoList(t *testing.T, ce *callEnv) (contact.List, contact.Contact) {
	t.Helper()
	ctx := context.Background()
	lists, _, err := ce.app.Contacts.ListLists(ctx, "Base Demo", "", contact.Page{Limit: 1})
	if err != nil || len(lists) != 1 {
		t.Fatalf("demo list: %v %v", lists, err)
	}
	cs, _, err := ce.app.Contacts.ListContacts(ctx, lists[0].ID, "", "", contact.Page{Limit: 1})
	if err != nil || len(cs) != 1 {
		t.Fatalf("a demo contact: %v %v", cs, err)
	}
	return lists[0], cs[0]
}

// demoCallCenter returns the demo's call center (the one calls use).
func demoCallCenter(t *testing.T, ce *callEnv) crm.CallCenter {
	t.Helper()
	cc, err := ce.app.CRM.CallCenterByName(context.Background(), demo.CRMCallCenterName)
	if err != nil {
		t.Fatalf("the demo call center: %v", err)
	}
	return cc
}

// endCall ends a conversation as username and waits until it is over.
func (ce *callEnv) endCall(t *testing.T, ws *sock, username, cid string) {
	t.Helper()
	ce.must(t, 200, "PATCH", "/api/v2/conversations/calls/"+cid, ce.token(t, username), map[string]any{"state": "disconnected"})
	ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
	ce.quiet(t)
}

// TestCRMClickToDial: agent1, logged into a station, dials a number from a
// CRM record; the conversation starts at agent1's phone and carries the
// record and the reason as call data. With the demo schema and a demo
// contact's key the call works that platform contact; a schema without a
// key is refused naming the field, and a call center that does not allow
// click-to-dial search refuses the search.
func TestCRMClickToDial(t *testing.T) {
	ce := startCalls(t)
	ctx := context.Background()
	a1 := ce.loggedIn(t, "agent1", "1001")
	t1 := ce.token(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)

	// A record only.
	const number = "+34911000777"
	r := ce.must(t, 200, "POST", "/api/v2/crm/clicktodial", t1,
		map[string]any{"phone": number, "recordType": "Contact", "recordId": "003REC0001"}).obj(t)
	cid, _ := r["conversationId"].(string)
	if !uuidRE.MatchString(cid) {
		t.Fatalf("click-to-dial answer %v", r)
	}
	c := ws.conv(cid, ".conversations", func(c conv) bool { return c.state("user", a1) == "connected" })
	if c["direction"] != "outbound" || c["address"] != "tel:"+number {
		t.Errorf("click-to-dial conversation: direction %v address %v (%v)", c["direction"], c["address"], c)
	}
	if ext := c.part("external", ""); ext == nil || !strings.HasSuffix(ext["address"].(string), number) {
		t.Errorf("no external participant for %s: %v", number, c)
	}
	attrs, _ := ce.conv(t, cid).part("user", a1)["attributes"].(map[string]any)
	for k, want := range map[string]string{"crmRecordType": "Contact", "crmRecordId": "003REC0001", "callReason": "ClickToDial", "phoneNumber": number} {
		if attrs[k] != want {
			t.Errorf("call data %s = %v, want %q (all: %v)", k, attrs[k], want, attrs)
		}
	}
	if _, ok := attrs["contactId"]; ok {
		t.Errorf("without schemaId/key the call works no platform contact: %v", attrs)
	}
	ce.endCall(t, ws, "agent1", cid)

	// With the demo schema and a demo contact's key: that contact.
	list, dc := demoList(t, ce)
	phone := dc.FirstPhone()
	r = ce.must(t, 200, "POST", "/api/v2/crm/clicktodial", t1, map[string]any{
		"phone": phone, "recordType": "Contact", "recordId": dc.ID, "schemaId": list.SchemaID, "key": dc.Key}).obj(t)
	cid, _ = r["conversationId"].(string)
	ws.conv(cid, ".conversations", func(c conv) bool { return c.state("user", a1) == "connected" })
	attrs, _ = ce.conv(t, cid).part("user", a1)["attributes"].(map[string]any)
	for k, want := range map[string]string{"contactId": dc.ID, "contactBaseId": list.ID, "crmId": list.SchemaID, "crmKey": dc.Key,
		"crmRecordId": dc.ID, "callReason": "ClickToDial"} {
		if attrs[k] != want {
			t.Errorf("click-to-dial search: call data %s = %v, want %q (all: %v)", k, attrs[k], want, attrs)
		}
	}
	ce.endCall(t, ws, "agent1", cid)

	// A schema without a key (and a key without a schema): 400 naming the field.
	for _, b := range []map[string]any{
		{"phone": phone, "schemaId": list.SchemaID},
		{"phone": phone, "key": dc.Key},
	} {
		m := errorBody(t, ce.send(t, "POST", "/api/v2/crm/clicktodial", t1, b), 400, "")
		if !slices.Contains(detailFields(m), "key") {
			t.Errorf("%v: error names %v, want key", b, detailFields(m))
		}
	}

	// The call center does not allow click-to-dial search: 403, no call.
	cc := demoCallCenter(t, ce)
	cc.AllowClickToDialSearch = false
	if _, err := ce.app.CRM.UpdateCallCenter(ctx, cc.ID, cc); err != nil {
		t.Fatal(err)
	}
	errorBody(t, ce.send(t, "POST", "/api/v2/crm/clicktodial", t1, map[string]any{
		"phone": phone, "recordType": "Contact", "recordId": dc.ID, "schemaId": list.SchemaID, "key": dc.Key}), 403, "")
	if n := len(ce.must(t, 200, "GET", "/api/v2/conversations/calls", t1, nil).entities(t)); n != 0 {
		t.Errorf("a refused click-to-dial placed a call: %d active conversations", n)
	}
	// Without the search it still dials.
	r = ce.must(t, 200, "POST", "/api/v2/crm/clicktodial", t1, map[string]any{"phone": phone, "recordType": "Contact", "recordId": dc.ID}).obj(t)
	cid, _ = r["conversationId"].(string)
	ws.conv(cid, ".conversations", func(c conv) bool { return c.state("user", a1) == "connected" })
	ce.endCall(t, ws, "agent1", cid)
}

var syncIDRE = regexp.MustCompile(`^\d{18}$`)

// TestCRMScreenPopSync: a call from a number the CRM does not know gets a
// "new" screen pop with a neoSyncId in the form's defaults; once a record
// with that key exists, the sync ties the call to it (call data
// crmRecordId). An unknown syncId is refused, and the screen pop and sync
// of a conversation are the participants' only.
func TestCRMScreenPopSync(t *testing.T) {
	ce := startCalls(t)
	ctx := context.Background()
	cc := demoCallCenter(t, ce)
	if cc.Layout.NoMatch != "new" {
		cc.Layout.NoMatch, cc.Layout.NewRecordType = "new", crm.TypeContact
		if _, err := ce.app.CRM.UpdateCallCenter(ctx, cc.ID, cc); err != nil {
			t.Fatal(err)
		}
	}
	a1 := ce.userID(t, "agent1")
	t1 := ce.token(t, "agent1")
	ws := ce.socket(t, "agent1", append(userTopics(a1), "v2.users."+a1+".crm.screenpop")...)
	const caller = "+34955123456" // no demo contact has it
	cid, _ := ce.answered(t, ws, "agent1", "1001", caller)
	ev := ws.until("crm.screenpop", func(ev sockEvent) bool {
		return strings.HasSuffix(ev.topic, ".crm.screenpop") && ev.body["conversationId"] == cid
	})
	dec, _ := ev.body["decision"].(map[string]any)
	action, _ := dec["action"].(map[string]any)
	defaults, _ := action["defaults"].(map[string]any)
	syncID, _ := ev.body["syncId"].(string)
	if action["kind"] != "new" || action["type"] != crm.TypeContact || ev.body["record"] != nil {
		t.Fatalf("screen pop for an unknown caller: %v", ev.body)
	}
	if !syncIDRE.MatchString(syncID) || defaults[crm.DefaultSyncField] != syncID {
		t.Fatalf("syncId %q, form defaults %v", syncID, defaults)
	}
	if defaults["Phone"] != caller {
		t.Errorf("the new-record form's Phone default is %v, want %s", defaults["Phone"], caller)
	}
	pop := ce.must(t, 200, "GET", "/api/v2/crm/conversations/"+cid+"/screenpop", t1, nil).obj(t)
	if pop["syncId"] != syncID {
		t.Fatalf("REST screen pop: %v", pop)
	}

	// Before the form is saved there is nothing to sync with.
	m := errorBody(t, ce.send(t, "POST", "/api/v2/crm/conversations/"+cid+"/sync", t1, map[string]any{}), 400, "")
	if !slices.Contains(detailFields(m), "syncId") {
		t.Errorf("sync before the record exists names %v, want syncId", detailFields(m))
	}

	// The agent's form saved the record: the built-in CRM keys it by neoSyncId.
	list, _ := demoList(t, ce)
	created, err := ce.app.Contacts.CreateContact(ctx, list.ID, contact.ContactInput{
		Key: syncID, Data: map[string]string{"firstName": "Nueva", "lastName": "Clienta"}, Phones: map[string]string{"phone": caller}})
	if err != nil {
		t.Fatal(err)
	}
	rec := ce.must(t, 200, "POST", "/api/v2/crm/conversations/"+cid+"/sync", t1, map[string]any{}).obj(t)
	if rec["id"] != created.ID || rec["type"] != crm.TypeContact {
		t.Fatalf("sync answered %v, want contact %s", rec, created.ID)
	}
	attrs, _ := ce.conv(t, cid).part("customer", "")["attributes"].(map[string]any)
	if attrs["crmRecordId"] != created.ID || attrs["crmRecordType"] != crm.TypeContact {
		t.Fatalf("call data after the sync: %v", attrs)
	}
	pop = ce.must(t, 200, "GET", "/api/v2/crm/conversations/"+cid+"/screenpop", t1, nil).obj(t)
	if r, _ := pop["record"].(map[string]any); r == nil || r["id"] != created.ID {
		t.Errorf("the screen pop after the sync: %v", pop)
	}
	// The same sync by its syncId, given explicitly.
	if rec := ce.must(t, 200, "POST", "/api/v2/crm/conversations/"+cid+"/sync", t1, map[string]any{"syncId": syncID}).obj(t); rec["id"] != created.ID {
		t.Errorf("sync with the explicit syncId: %v", rec)
	}

	// A syncId no record carries.
	m = errorBody(t, ce.send(t, "POST", "/api/v2/crm/conversations/"+cid+"/sync", t1, map[string]any{"syncId": "999"}), 400, "")
	if !slices.Contains(detailFields(m), "syncId") {
		t.Errorf("unknown syncId: error names %v, want syncId", detailFields(m))
	}

	// A record id without its type, and a type the built-in CRM does not have: 400s naming the field.
	for body, field := range map[string]map[string]any{"recordType": {"recordId": "nope"}, "recordId": {"recordType": "Account", "recordId": "x"}} {
		m = errorBody(t, ce.send(t, "POST", "/api/v2/crm/conversations/"+cid+"/sync", t1, field), 400, "")
		if !slices.Contains(detailFields(m), body) {
			t.Errorf("sync %v: error names %v, want %s", field, detailFields(m), body)
		}
	}

	// Somebody else's conversation.
	t2 := ce.token(t, "agent2")
	errorBody(t, ce.send(t, "GET", "/api/v2/crm/conversations/"+cid+"/screenpop", t2, nil), 403, "")
	errorBody(t, ce.send(t, "POST", "/api/v2/crm/conversations/"+cid+"/sync", t2, map[string]any{}), 403, "")
	// An unknown conversation.
	errorBody(t, ce.send(t, "GET", "/api/v2/crm/conversations/00000000-0000-4000-8000-000000000000/screenpop", t1, nil), 404, "")
	// A supervisor may read it.
	if pop := ce.must(t, 200, "GET", "/api/v2/crm/conversations/"+cid+"/screenpop", ce.token(t, pSupervisor), nil).obj(t); pop["conversationId"] != cid {
		t.Errorf("supervisor's view of the screen pop: %v", pop)
	}
}
