package api_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// The dialer end to end on the demo's outbound data (schema "Clientes
// Salesforce", list "Base Demo", campaigns 97 predictive and 98 preview),
// with a fake clock and customers whose behaviour each test sets.

// callDataNames are the SPEC 2.7 attribute names, spelled as in the seed.
var callDataNames = []string{"callCampaing", "callDialer", "callId", "callQueue", "callReason", "phoneNumber", "contactBaseId",
	"campaignCrmId", "campaignBaseId", "userOutCampaign", "crmId", "contactId", "crmKey", "SearchBy", "SearchData"}

type dialEnv struct {
	*callEnv
	ctx                 context.Context
	predictive, preview campaign.Campaign
	schema              contact.Schema
	list                contact.List
}

func startDialer(t *testing.T, customers func(string) sim.Party) *dialEnv {
	t.Helper()
	return startDialerOn(t, startEnv(t, apptest.Options{Clock: newFakeClock(), RateLimit: 100000, Numbers: customers}))
}

// agent logs a demo agent into a station, On Queue, and into a campaign.
func (d *dialEnv) agent(t *testing.T, username, station, campaignID string) string {
	t.Helper()
	id := d.onQueue(t, username, station)
	if _, err := d.app.Campaigns.Login(d.ctx, campaignID, id); err != nil {
		t.Fatal(err)
	}
	d.quiet(t)
	return id
}

func (d *dialEnv) desk(t *testing.T, username string) map[string]any {
	t.Helper()
	return d.must(t, 200, "GET", "/api/v2/outbound/me", d.token(t, username), nil).obj(t)
}

func (d *dialEnv) subcategory(t *testing.T, category, sub string) (string, string) {
	t.Helper()
	for _, c := range d.schema.Dispositions {
		for _, s := range c.Subcategories {
			if c.Name == category && s.Name == sub {
				return c.ID, s.ID
			}
		}
	}
	t.Fatalf("no disposition %s / %s", category, sub)
	return "", ""
}

func (d *dialEnv) attempts(t *testing.T, contactID string) []contact.Attempt {
	t.Helper()
	as, _, err := d.app.Contacts.Attempts(d.ctx, contactID, contact.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func (d *dialEnv) contactStatus(t *testing.T, contactID string) string {
	t.Helper()
	c, err := d.app.Contacts.GetContact(d.ctx, contactID)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func everyoneAnswers(after, talk time.Duration) func(string) sim.Party {
	return func(string) sim.Party { return sim.Party{Outcome: sim.Answer, After: after, TalkTime: talk} }
}

// TestDialerPredictiveCallToRelease: two agents in the predictive demo
// campaign; customers answer after 6 s and talk 40 s. Each agent gets a
// live customer with the SPEC 2.7 call data, is held after the call until
// the contact is released with a category, and gets the next call only
// after "ready".
func TestDialerPredictiveCallToRelease(t *testing.T) {
	d := startDialer(t, everyoneAnswers(6*time.Second, 40*time.Second))
	a1 := d.agent(t, "agent1", "1001", d.predictive.ID)
	a2 := d.agent(t, "agent2", "1002", d.predictive.ID)
	st := d.must(t, 200, "GET", "/api/v2/outbound/campaigns/"+d.predictive.ID+"/stats", d.token(t, "supervisor"), nil).obj(t)
	if st["agentsLoggedIn"] != float64(2) || st["callsInFlight"].(float64) < 2 || st["hitRateSteps"] != float64(0) {
		t.Fatalf("stats after two agents logged in: %v", st)
	}
	// The day has no live answers yet, so no room for an abandonment: the
	// pacer places calls of negligible risk only, and says so.
	if st["pacingState"] != "soft" || st["riskThreshold"] != 0.002 {
		t.Fatalf("pacing at the start of the day: %v", st)
	}
	d.advance(t, 6*time.Second)
	d.advance(t, time.Second)

	convs := map[string]conv{}
	for _, u := range []string{a1, a2} {
		ds := d.desk(t, map[string]string{a1: "agent1", a2: "agent2"}[u])
		id, _ := ds["conversationId"].(string)
		if id == "" {
			t.Fatalf("agent %s has no dialer call: %v", u, ds)
		}
		c := d.conv(t, id)
		if got := c.state("agent", u); got != "connected" {
			t.Fatalf("agent %s is %q on the call, want connected:\n%s", u, got, c)
		}
		if got := c.state("customer", ""); got != "connected" {
			t.Fatalf("customer is %q, want connected:\n%s", got, c)
		}
		attrs, _ := c.part("customer", "")["attributes"].(map[string]any)
		for _, n := range callDataNames {
			if _, ok := attrs[n]; !ok {
				t.Fatalf("call data %q missing: %v", n, attrs)
			}
		}
		if attrs["callId"] != id || attrs["callCampaing"] != d.predictive.ID || attrs["callDialer"] != "predictive" ||
			attrs["contactBaseId"] != d.list.ID || attrs["crmId"] != d.schema.ID || attrs["userOutCampaign"] != d.predictive.ID ||
			attrs["SearchBy"] != "sfId" || attrs["callReason"] != "No Procesado" || !strings.HasPrefix(attrs["phoneNumber"].(string), "+34") {
			t.Fatalf("call data: %v", attrs)
		}
		if attrs["crmKey"] == "" || attrs["crmKey"] != attrs["SearchData"] {
			t.Fatalf("crmKey/SearchData: %v", attrs)
		}
		convs[u] = c
	}

	d.advance(t, 40*time.Second) // customers hang up
	ds := d.desk(t, "agent1")
	pend, _ := ds["pendingRelease"].(map[string]any)
	if pend == nil || pend["conversationId"] != convs[a1]["id"] || ds["ready"] != false {
		t.Fatalf("agent1's desk after the call: %v", ds)
	}
	if got := d.routingStatus(t, a1); got != "INTERACTING" {
		t.Fatalf("agent1 during release wait is %s, want INTERACTING (after-call work)", got)
	}
	// Bad input changes nothing.
	r := d.send(t, "POST", "/api/v2/outbound/conversations/"+convs[a1]["id"].(string)+"/release", d.token(t, "agent1"), map[string]any{"subcategoryId": "00000000-0000-0000-0000-000000000000"})
	errorBody(t, r, 400, "category.unknown")
	r = d.send(t, "POST", "/api/v2/outbound/conversations/"+convs[a1]["id"].(string)+"/release", d.token(t, "agent2"), map[string]any{})
	if r.status != 409 {
		t.Fatalf("agent2 releasing agent1's contact: %d %s", r.status, r)
	}
	catID, subID := d.subcategory(t, "Venta", "Cerrada")
	d.must(t, 204, "POST", "/api/v2/outbound/conversations/"+convs[a1]["id"].(string)+"/release", d.token(t, "agent1"),
		map[string]any{"categoryId": catID, "subcategoryId": subID, "notes": "vendido"})
	d.quiet(t)
	contactID := convs[a1].part("customer", "")["attributes"].(map[string]any)["contactId"].(string)
	atts := d.attempts(t, contactID)
	if len(atts) != 1 || atts[0].Outcome != "connected" || atts[0].Category != "Venta" || atts[0].Subcategory != "Cerrada" ||
		atts[0].AgentID != a1 || atts[0].ConversationID != convs[a1]["id"].(string) || atts[0].Notes != "vendido" {
		t.Fatalf("attempt history: %+v", atts)
	}
	if st := d.contactStatus(t, contactID); st != "done" {
		t.Fatalf("contact after a closed sale: %s", st)
	}
	if got := d.routingStatus(t, a1); got != "IDLE" {
		t.Fatalf("agent1 after release is %s, want IDLE", got)
	}
	// Released but not ready: no new call for agent1 until "play".
	d.advance(t, 10*time.Second)
	if ds := d.desk(t, "agent1"); ds["conversationId"] != nil && ds["conversationId"] != "" {
		t.Fatalf("agent1 got a call before signalling ready: %v", ds)
	}
	d.must(t, 204, "POST", "/api/v2/outbound/me/ready", d.token(t, "agent1"), nil)
	d.advance(t, 7*time.Second)
	if ds := d.desk(t, "agent1"); ds["conversationId"] == nil || ds["conversationId"] == "" || ds["conversationId"] == convs[a1]["id"].(string) {
		t.Fatalf("agent1 ready, no next call: %v", ds)
	}
}

func (d *dialEnv) routingStatus(t *testing.T, userID string) string {
	t.Helper()
	r := d.must(t, 200, "GET", "/api/v2/users/"+userID+"/routingstatus", d.token(t, "admin"), nil).obj(t)
	s, _ := r["status"].(string)
	return s
}

// TestDialerAbandonsWithinTwoSeconds: a power campaign dials three lines
// for its one agent; all three customers answer at once. One reaches the
// agent, the other two hear the abandon message 2 s after answering and
// are hung up; both are counted as abandoned and retried per the rules.
func TestDialerAbandonsWithinTwoSeconds(t *testing.T) {
	d := startDialer(t, everyoneAnswers(5*time.Second, time.Minute))
	pc := campaign.Defaults()
	pc.Name, pc.Number, pc.DialingMode, pc.PowerRatio, pc.State = "Power test", 55, "power", 3, campaign.On
	pc.ContactListIDs, pc.QueueID = []string{d.list.ID}, d.ventas
	pc.RetryRules = []campaign.RetryRule{{Outcome: "abandoned", Retry: true, DelaySeconds: 3600}}
	pc, err := d.app.Campaigns.Create(d.ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	id := pc.ID
	d.agent(t, "agent1", "1001", id)
	st := d.must(t, 200, "GET", "/api/v2/outbound/campaigns/"+id+"/stats", d.token(t, "supervisor"), nil).obj(t)
	if st["callsInFlight"] != float64(3) {
		t.Fatalf("power 3 with one free agent: %v", st)
	}
	d.advance(t, 5*time.Second) // all answer
	d.advance(t, 1900*time.Millisecond)
	st = d.must(t, 200, "GET", "/api/v2/outbound/campaigns/"+id+"/stats", d.token(t, "supervisor"), nil).obj(t)
	if st["abandonedToday"] != float64(0) || st["liveAnswersToday"] != float64(3) {
		t.Fatalf("before 2 s: %v", st)
	}
	d.advance(t, 100*time.Millisecond)
	st = d.must(t, 200, "GET", "/api/v2/outbound/campaigns/"+id+"/stats", d.token(t, "supervisor"), nil).obj(t)
	if st["abandonedToday"] != float64(2) {
		t.Fatalf("at 2 s, two customers without an agent should be abandoned: %v", st)
	}
	metrics := string(d.must(t, 200, "GET", "/metrics", "", nil).body)
	for _, want := range []string{`centralita_dialer_abandoned_total{campaign="` + id + `"} 2`, `centralita_dialer_live_answers_total{campaign="` + id + `"} 3`,
		`centralita_dialer_calls_placed_total{campaign="` + id + `"} 3`, `centralita_dialer_connected_total{campaign="` + id + `"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
	d.advance(t, 6*time.Second) // the message plays (the built-in abandon prompt: about 5 s), then hang-up
	customers := 0
	for _, l := range d.sw.Legs() {
		if strings.HasPrefix(l.Tags["campaignId"], id) {
			customers++
		}
	}
	if customers != 1 {
		t.Fatalf("after the abandon messages %d customers are on the line, want only the agent's", customers)
	}
	// The abandoned contacts come back per the retry rule (one hour).
	cs, _, err := d.app.Contacts.ListContacts(d.ctx, d.list.ID, "", "retry", contact.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("abandoned contacts due again: %+v", cs)
	}
	for _, c := range cs {
		if c.LastOutcome != "abandoned" || c.NextAttempt.Before(d.clock.Now().Add(55*time.Minute)) {
			t.Fatalf("abandoned contact: %+v", c)
		}
	}

	// The abandonment record: while the campaign dials, the pacer's own
	// count (the call still talking included); once it is off, the attempt
	// history, which has the two abandoned calls (the third is not released).
	record := func(wantLive bool, live, abandoned int) {
		t.Helper()
		rec := d.must(t, 200, "GET", "/api/v2/outbound/campaigns/"+id+"/abandonment", d.token(t, "supervisor"), nil).obj(t)
		days, _ := rec["days"].([]any)
		today := d.clock.Now().UTC().Format("2006-01-02")
		if rec["live"] != wantLive || rec["capPercent"] != float64(3) || rec["timeZone"] == "" || len(days) != 1 ||
			rec["liveAnswers"] != float64(live) || rec["abandoned"] != float64(abandoned) || rec["overCap"] != true {
			t.Fatalf("abandonment record (live %v, want %d/%d): %v", wantLive, abandoned, live, rec)
		}
		day := days[0].(map[string]any)
		pct := 100 * float64(abandoned) / float64(live)
		if day["liveAnswers"] != float64(live) || day["abandoned"] != float64(abandoned) || day["overCap"] != true ||
			math.Abs(day["abandonPercent"].(float64)-pct) > 1e-9 || (rec["timeZone"] == "UTC" && day["date"] != today) {
			t.Fatalf("abandonment day: %v", day)
		}
	}
	record(true, 3, 2)
	d.must(t, 403, "GET", "/api/v2/outbound/campaigns/"+id+"/abandonment", d.token(t, "agent1"), nil)
	pc.State = campaign.Off
	if _, err := d.app.Campaigns.Update(d.ctx, id, pc); err != nil {
		t.Fatal(err)
	}
	d.quiet(t)
	record(false, 2, 2)
}

// TestDialerPreviewSkipDialAndCallback: the preview campaign offers a
// record; skip brings another; dial rings the agent first, then the
// customer; a callback scheduled during the call needs no "ready" and is
// offered again at its time, marked "Agenda".
func TestDialerPreviewSkipDialAndCallback(t *testing.T) {
	d := startDialer(t, everyoneAnswers(4*time.Second, 20*time.Second))
	a1 := d.agent(t, "agent1", "1001", d.preview.ID)
	ds := d.desk(t, "agent1")
	p1, _ := ds["preview"].(map[string]any)
	if p1 == nil || p1["contactId"] == "" || p1["reason"] != "No Procesado" {
		t.Fatalf("no preview offered: %v", ds)
	}
	if len(d.sw.Legs()) != 0 {
		t.Fatalf("preview dialed before the agent chose: %v", d.sw.Legs())
	}
	d.must(t, 204, "POST", "/api/v2/outbound/me/preview/skip", d.token(t, "agent1"), nil)
	d.quiet(t)
	p2, _ := d.desk(t, "agent1")["preview"].(map[string]any)
	if p2 == nil || p2["contactId"] == p1["contactId"] {
		t.Fatalf("after skip: %v (first was %v)", p2, p1)
	}
	if atts := d.attempts(t, p1["contactId"].(string)); len(atts) != 1 || atts[0].Outcome != "skipped" {
		t.Fatalf("skip history: %+v", atts)
	}
	res := d.must(t, 200, "POST", "/api/v2/outbound/me/preview/dial", d.token(t, "agent1"), nil).obj(t)
	convID := res["conversationId"].(string)
	d.advance(t, 5*time.Second)
	c := d.conv(t, convID)
	if c.state("external", "") != "connected" {
		t.Fatalf("preview call not connected:\n%s", c)
	}
	if _, err := d.app.Campaigns.ScheduleCallback(d.ctx, campaign.Actor{UserID: a1}, campaign.Callback{CampaignID: d.preview.ID,
		ContactID: p2["contactId"].(string), At: d.clock.Now().Add(30 * time.Minute), UserID: a1}); err != nil {
		t.Fatal(err)
	}
	d.advance(t, 20*time.Second) // the customer hangs up
	catID, subID := d.subcategory(t, "Venta", "Volver a llamar")
	d.must(t, 204, "POST", "/api/v2/outbound/conversations/"+convID+"/release", d.token(t, "agent1"),
		map[string]any{"categoryId": catID, "subcategoryId": subID})
	d.quiet(t)
	ds = d.desk(t, "agent1")
	if ds["ready"] != true {
		t.Fatalf("a scheduled contact needs no ready: %v", ds)
	}
	if st := d.contactStatus(t, p2["contactId"].(string)); st != "callback" {
		t.Fatalf("contact after scheduling: %s", st)
	}
	d.must(t, 204, "POST", "/api/v2/outbound/me/preview/skip", d.token(t, "agent1"), nil) // the next new record
	for i := 0; i < 30; i++ {
		d.advance(t, time.Minute)
		if p, _ := d.desk(t, "agent1")["preview"].(map[string]any); p != nil && p["reason"] == "Agenda" {
			if p["contactId"] != p2["contactId"] || p["callbackId"] == "" {
				t.Fatalf("callback preview: %v", p)
			}
			return
		}
		d.must(t, 204, "POST", "/api/v2/outbound/me/preview/skip", d.token(t, "agent1"), nil)
	}
	t.Fatalf("the callback was not offered at its time")
}

// TestInboundCampaignFindOrCreate: an inbound campaign on Soporte matches
// callers to contacts of its list (SPEC 2.6): a new caller gets a contact
// inserted, a known one is found, a hidden number still gets one; the call
// carries CLAVESF and the call data.
func TestInboundCampaignFindOrCreate(t *testing.T) {
	d := startDialer(t, nil)
	soporte := d.findID(t, "/api/v2/routing/queues", "Soporte")
	ph, err := d.app.Contacts.CreateSchema(d.ctx, contact.SchemaInput{Name: "Por teléfono", MatchBy: "phone",
		Fields: []contact.Field{{Name: "key", Type: contact.TypeKey}, {Name: "phone", Type: contact.TypePhone}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := d.app.Contacts.CreateList(d.ctx, contact.ListInput{Name: "Entrantes", SchemaID: ph.ID, DefaultCountry: "ES"})
	if err != nil {
		t.Fatal(err)
	}
	ic := campaign.Defaults()
	ic.Name, ic.Number, ic.Direction, ic.QueueID, ic.InboundListID, ic.State = "Entrante", 10, campaign.Inbound, soporte, l.ID, campaign.On
	if _, err := d.app.Campaigns.Create(d.ctx, ic); err != nil {
		t.Fatal(err)
	}
	call := func(from string) map[string]any {
		id := d.inject(t, "Soporte", from)
		d.quiet(t)
		attrs, _ := d.conv(t, id).part("customer", "")["attributes"].(map[string]any)
		return attrs
	}
	first := call("+34911234567")
	second := call("+34911234567")
	hidden1, hidden2 := call(""), call("")
	for _, a := range []map[string]any{first, second, hidden1, hidden2} {
		for _, n := range callDataNames {
			if _, ok := a[n]; !ok {
				t.Fatalf("call data %q missing: %v", n, a)
			}
		}
	}
	if first["contactId"] == "" || first["contactId"] != second["contactId"] {
		t.Fatalf("the same caller twice should find one contact: %v / %v", first["contactId"], second["contactId"])
	}
	if first["CLAVESF"] != fmt.Sprintf("%s-%s", first["contactId"], "+34911234567") || first["callDialer"] != "inbound" || first["SearchData"] != "+34911234567" {
		t.Fatalf("known caller: %v", first)
	}
	if hidden1["contactId"] == hidden2["contactId"] || hidden1["CLAVESF"] != hidden1["contactId"].(string)+"-" || hidden1["SearchData"] != "" {
		t.Fatalf("hidden numbers get a fresh contact each, CLAVESF <id>-: %v / %v", hidden1, hidden2)
	}
	n, _, err := d.app.Contacts.ListContacts(d.ctx, l.ID, "", "", contact.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, c := range n {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	if len(ids) != 3 {
		t.Fatalf("contacts in the inbound list: %v, want 3 (one caller, two hidden)", ids)
	}
}

// TestDialerSurvivesRestart: a contact waiting for release and a callback
// scheduled for later are both still there after a restart: the agent
// releases the contact, and the dialer places the callback on time.
func TestDialerSurvivesRestart(t *testing.T) {
	data := t.TempDir()
	clk := newFakeClock()
	customers := everyoneAnswers(6*time.Second, 30*time.Second)
	e1 := startEnv(t, apptest.Options{Clock: clk, RateLimit: 100000, Numbers: customers, Data: data})
	d := startDialerOn(t, e1)
	a1 := d.agent(t, "agent1", "1001", d.predictive.ID)
	d.advance(t, 7*time.Second)
	convID, _ := d.desk(t, "agent1")["conversationId"].(string)
	if convID == "" {
		t.Fatal("no call for agent1")
	}
	d.advance(t, 30*time.Second) // the customer hangs up: release pending
	if p, _ := d.desk(t, "agent1")["pendingRelease"].(map[string]any); p == nil {
		t.Fatal("no pending release before the restart")
	}
	cs, _, err := d.app.Contacts.ListContacts(d.ctx, d.list.ID, "", "new", contact.Page{Limit: 1})
	if err != nil || len(cs) == 0 {
		t.Fatalf("a new contact to schedule: %v %v", cs, err)
	}
	due := clk.Now().Add(10 * time.Minute)
	if _, err := d.app.Campaigns.ScheduleCallback(d.ctx, campaign.Actor{UserID: a1}, campaign.Callback{CampaignID: d.predictive.ID,
		ContactID: cs[0].ID, At: due, UserID: a1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e1.app.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Minute)
	e2 := startEnv(t, apptest.Options{Clock: clk, RateLimit: 100000, Numbers: customers, Data: data})
	d = startDialerOn(t, e2)
	d.quiet(t)
	p, _ := d.desk(t, "agent1")["pendingRelease"].(map[string]any)
	if p == nil || p["conversationId"] != convID {
		t.Fatalf("pending release after the restart: %v", d.desk(t, "agent1"))
	}
	d.must(t, 204, "POST", "/api/v2/outbound/conversations/"+convID+"/release", d.token(t, "agent1"), map[string]any{})
	d.must(t, 204, "POST", "/api/v2/outbound/me/ready", d.token(t, "agent1"), nil)
	// Until the callback is due agent1 takes predictive calls; at its time
	// the callback waits for agent1 to be free and is placed to them.
	for i := 0; i < 40 && clk.Now().Before(due.Add(5*time.Minute)); i++ {
		d.advance(t, 20*time.Second)
		ds := d.desk(t, "agent1")
		if p, _ := ds["pendingRelease"].(map[string]any); p != nil {
			d.must(t, 204, "POST", "/api/v2/outbound/conversations/"+p["conversationId"].(string)+"/release", d.token(t, "agent1"), map[string]any{})
			d.must(t, 204, "POST", "/api/v2/outbound/me/ready", d.token(t, "agent1"), nil)
			continue
		}
		if id, _ := ds["conversationId"].(string); id != "" {
			attrs, err := d.app.Conversations.CallData(d.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if attrs["callReason"] == "Agenda" {
				if attrs["contactId"] != cs[0].ID || clk.Now().Before(due) {
					t.Fatalf("callback call %v at %v (due %v)", attrs, clk.Now(), due)
				}
				return
			}
		}
	}
	t.Fatalf("the callback scheduled before the restart was not placed")
}

func startDialerOn(t *testing.T, e *testEnv) *dialEnv {
	t.Helper()
	ce := &callEnv{testEnv: e, sw: e.app.Switch()}
	ce.ventas = e.findID(t, "/api/v2/routing/queues", "Ventas")
	d := &dialEnv{callEnv: ce, ctx: context.Background()}
	cs, _, err := e.app.Campaigns.List(d.ctx, campaign.Filter{}, campaign.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		switch c.Number {
		case 97:
			d.predictive = c
		case 98:
			d.preview = c
		}
	}
	if d.list, err = e.app.Contacts.GetList(d.ctx, d.predictive.ContactListIDs[0]); err != nil {
		t.Fatal(err)
	}
	if d.schema, err = e.app.Contacts.GetSchema(d.ctx, d.list.SchemaID); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDialerCallingHoursInContactZone: a progressive campaign whose window
// is 12:00–12:30 with the campaign in New York calls the demo's Spanish
// contacts by their own zone (Europe/Madrid, from the number): it dials
// from 12:00 Madrid, stops at 12:30, and the contacts it did not reach
// come due at 12:00 Madrid the next day.
func TestDialerCallingHoursInContactZone(t *testing.T) {
	d := startDialer(t, func(string) sim.Party { return sim.Party{Outcome: sim.Busy, After: 10 * time.Second} })
	pc := campaign.Defaults()
	pc.Name, pc.Number, pc.DialingMode, pc.State = "Horario", 56, "progressive", campaign.On
	pc.ContactListIDs, pc.QueueID = []string{d.list.ID}, d.ventas
	pc.CallingHours = campaign.CallingHours{TimeZone: "America/New_York",
		Windows: []campaign.Window{{Days: campaign.Days, Start: "12:00", End: "12:30"}}}
	pc, err := d.app.Campaigns.Create(d.ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	madrid, _ := time.LoadLocation("Europe/Madrid")
	if now := d.clock.Now().In(madrid); now.Hour() != 12 || now.Minute() != 0 {
		t.Fatalf("the test expects 12:00 in Madrid, it is %v", now)
	}
	d.agent(t, "agent1", "1001", pc.ID)
	count := func(status string) int {
		_, n, err := d.app.Contacts.ListContacts(d.ctx, d.list.ID, "", status, contact.Page{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; i < 180; i++ { // 30 minutes
		d.advance(t, 10*time.Second)
	}
	reached := count("done")
	if reached < 100 {
		t.Fatalf("only %d contacts were called between 12:00 and 12:30 Madrid", reached)
	}
	for i := 0; i < 60; i++ { // 10 more minutes: outside the window
		d.advance(t, 10*time.Second)
	}
	if got := count("done"); got > reached+1 {
		t.Fatalf("calls went on after 12:30 Madrid: %d contacts reached, %d at 12:30", got, reached)
	}
	cs, _, err := d.app.Contacts.ListContacts(d.ctx, d.list.ID, "", "retry", contact.Page{Limit: 5})
	if err != nil || len(cs) == 0 {
		t.Fatalf("no contact was put off to the next window: %v", err)
	}
	want := time.Date(2026, 5, 2, 12, 0, 0, 0, madrid)
	for _, c := range cs {
		if c.TimeZone != "Europe/Madrid" || !c.NextAttempt.Equal(want) || c.Attempts != 0 {
			t.Fatalf("deferred contact: zone %s next %v attempts %d, want Europe/Madrid %v 0", c.TimeZone, c.NextAttempt, c.Attempts, want)
		}
	}
}

// TestDialerAbandonRecordSurvivesRestart: the day's live answers and
// abandons (what the 3 % cap is computed from) are read back from the
// attempt record after a restart.
func TestDialerAbandonRecordSurvivesRestart(t *testing.T) {
	data, clk := t.TempDir(), newFakeClock()
	customers := everyoneAnswers(5*time.Second, 20*time.Second)
	e1 := startEnv(t, apptest.Options{Clock: clk, RateLimit: 100000, Numbers: customers, Data: data})
	d := startDialerOn(t, e1)
	pc := campaign.Defaults()
	pc.Name, pc.Number, pc.DialingMode, pc.PowerRatio, pc.State = "Power restart", 57, "power", 3, campaign.On
	pc.ContactListIDs, pc.QueueID = []string{d.list.ID}, d.ventas
	pc, err := d.app.Campaigns.Create(d.ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	d.agent(t, "agent1", "1001", pc.ID)
	d.advance(t, 5*time.Second)
	d.advance(t, 2*time.Second)
	d.advance(t, 20*time.Second)
	conv, _ := d.desk(t, "agent1")["pendingRelease"].(map[string]any)
	if conv == nil {
		t.Fatal("no contact to release")
	}
	d.must(t, 204, "POST", "/api/v2/outbound/conversations/"+conv["conversationId"].(string)+"/release", d.token(t, "agent1"), map[string]any{})
	stats := func() map[string]any {
		return d.must(t, 200, "GET", "/api/v2/outbound/campaigns/"+pc.ID+"/stats", d.token(t, "supervisor"), nil).obj(t)
	}
	before := stats()
	if before["abandonedToday"] != float64(2) || before["liveAnswersToday"] != float64(3) {
		t.Fatalf("before the restart: %v", before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e1.app.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	d = startDialerOn(t, startEnv(t, apptest.Options{Clock: clk, RateLimit: 100000, Numbers: customers, Data: data}))
	d.quiet(t)
	after := stats()
	if after["abandonedToday"] != float64(2) || after["liveAnswersToday"] != float64(3) || after["abandoned30d"] != float64(2) {
		t.Fatalf("after the restart: %v", after)
	}
	// What the pacer learnt came back too (saved at shutdown).
	if before["hitRate"] == nil || after["hitRate"] != before["hitRate"] || after["answerDelayMs"] != before["answerDelayMs"] {
		t.Fatalf("estimates before %v / after %v the restart", before, after)
	}
}
