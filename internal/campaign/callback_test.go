package campaign_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

var (
	agentAna = campaign.Actor{UserID: userAna}
	agentBea = campaign.Actor{UserID: userBea}
	super    = campaign.Actor{UserID: userSuper, Supervisor: true}
)

func TestCallbackValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c, err := f.svc.Create(ctx, outbound("A", 1))
		if err != nil {
			t.Fatal(err)
		}
		ib := campaign.Defaults()
		ib.Name, ib.Number, ib.Direction, ib.QueueID, ib.InboundListID = "In", 3, campaign.Inbound, queue1, listB1
		in, err := f.svc.Create(ctx, ib)
		if err != nil {
			t.Fatal(err)
		}
		f.events(t)
		good := campaign.Callback{CampaignID: c.ID, ContactID: contact1, At: t0.Add(time.Hour)}
		cases := []struct {
			name  string
			edit  func(cb *campaign.Callback)
			field string
		}{
			{"in the past", func(cb *campaign.Callback) { cb.At = t0.Add(-time.Second) }, "at"},
			{"now", func(cb *campaign.Callback) { cb.At = t0 }, "at"},
			{"no time", func(cb *campaign.Callback) { cb.At = time.Time{} }, "at"},
			{"over a year", func(cb *campaign.Callback) { cb.At = t0.Add(367 * 24 * time.Hour) }, "at"},
			{"no campaign", func(cb *campaign.Callback) { cb.CampaignID = "" }, "campaignId"},
			{"unknown campaign", func(cb *campaign.Callback) { cb.CampaignID = unknownID }, "campaignId"},
			{"inbound campaign", func(cb *campaign.Callback) { cb.CampaignID = in.ID }, "campaignId"},
			{"no contact", func(cb *campaign.Callback) { cb.ContactID = "" }, "contactId"},
			{"unknown contact", func(cb *campaign.Callback) { cb.ContactID = unknownID }, "contactId"},
			{"contact of another list", func(cb *campaign.Callback) { cb.ContactID = contactB }, "contactId"},
			{"contact without phone", func(cb *campaign.Callback) { cb.ContactID = contact2 }, "phone"},
			{"bad phone", func(cb *campaign.Callback) { cb.Phone = "call me" }, "phone"},
			{"unknown user", func(cb *campaign.Callback) { cb.UserID = unknownID }, "userId"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				cb := good
				tc.edit(&cb)
				_, err := f.svc.ScheduleCallback(ctx, super, cb)
				if kindOf(err) != problem.Invalid || !slices.Contains(fields(err), tc.field) {
					t.Errorf("got %v (fields %v), want a 400 on %s", err, fields(err), tc.field)
				}
				if n := f.count(t, "callbacks"); n != 0 {
					t.Errorf("%d callbacks written", n)
				}
				wantEvents(t, f.events(t))
				if st := f.world.statusOf(cb.ContactID); st != "" {
					t.Errorf("contact status %q", st)
				}
			})
		}
		// An agent schedules for themselves or the campaign, not for others.
		cb := good
		cb.UserID = userBea
		if _, err := f.svc.ScheduleCallback(ctx, agentAna, cb); kindOf(err) != problem.Forbidden {
			t.Errorf("agent scheduling for another: %v", err)
		}
		// A contact without a phone may be called back on a given number.
		cb = good
		cb.ContactID, cb.Phone = contact2, "+34600999888"
		if got, err := f.svc.ScheduleCallback(ctx, agentAna, cb); err != nil || got.Phone != "+34600999888" {
			t.Errorf("with a phone: %+v %v", got, err)
		}
	})
}

func TestCallbackLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c, err := f.svc.Create(ctx, outbound("A", 1))
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.Create(ctx, outbound("B", 2))
		if err != nil {
			t.Fatal(err)
		}
		f.events(t)

		// Schedule: campaign-owned, by Ana; the contact's status follows.
		at := t0.Add(2*time.Hour + 123*time.Millisecond + 456)
		cb, err := f.svc.ScheduleCallback(ctx, agentAna, campaign.Callback{CampaignID: c.ID, ContactID: contact1, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if cb.ID == "" || cb.Phone != "+34911234567" || cb.State != "scheduled" || cb.UserID != "" || cb.CreatedBy != userAna ||
			!cb.At.Equal(t0.Add(2*time.Hour+123*time.Millisecond)) || !cb.Created.Equal(t0) {
			t.Fatalf("scheduled %+v", cb)
		}
		if st := f.world.statusOf(contact1); st != "callback" {
			t.Errorf("contact status %q, want callback", st)
		}
		ev := f.events(t)
		if len(ev) != 1 || ev[0].Topic != "v2.outbound.callbacks."+cb.ID || ev[0].Body["state"] != "scheduled" || ev[0].Body["contactId"] != contact1 {
			t.Fatalf("schedule events %+v", ev)
		}
		got, err := f.svc.GetCallback(ctx, super, cb.ID)
		if err != nil || got != cb {
			t.Errorf("GetCallback %+v %v, want %+v", got, err, cb)
		}
		// A personal one for Bea, scheduled by a supervisor, on another contact.
		bea, err := f.svc.ScheduleCallback(ctx, super, campaign.Callback{CampaignID: c.ID, ContactID: contact2, Phone: "+34600000002",
			At: t0.Add(time.Hour), UserID: userBea})
		if err != nil {
			t.Fatal(err)
		}
		// One in the other campaign, campaign-owned, by an application.
		otherCB, err := f.svc.ScheduleCallback(ctx, campaign.Actor{}, campaign.Callback{CampaignID: other.ID, ContactID: contact1, At: t0.Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		f.events(t)

		// Who sees what.
		list := func(a campaign.Actor, fl campaign.CallbackFilter) []string {
			t.Helper()
			cbs, total, err := f.svc.ListCallbacks(ctx, a, fl, campaign.Page{Limit: 25})
			if err != nil || total != len(cbs) {
				t.Fatalf("list: %d %v", total, err)
			}
			var ids []string
			for _, x := range cbs {
				ids = append(ids, x.ID)
			}
			return ids
		}
		if ids := list(super, campaign.CallbackFilter{}); !slices.Equal(ids, []string{bea.ID, cb.ID, otherCB.ID}) {
			t.Errorf("supervisor sees %v", ids)
		}
		if ids := list(agentAna, campaign.CallbackFilter{}); !slices.Equal(ids, []string{cb.ID}) { // created it
			t.Errorf("Ana (not logged in) sees %v", ids)
		}
		if ids := list(agentBea, campaign.CallbackFilter{}); !slices.Equal(ids, []string{bea.ID}) {
			t.Errorf("Bea (not logged in) sees %v", ids)
		}
		if _, err := f.svc.Login(ctx, c.ID, userBea); err != nil {
			t.Fatal(err)
		}
		if ids := list(agentBea, campaign.CallbackFilter{}); !slices.Equal(ids, []string{bea.ID, cb.ID}) {
			t.Errorf("Bea (logged into A) sees %v", ids)
		}
		if ids := list(super, campaign.CallbackFilter{CampaignID: other.ID}); !slices.Equal(ids, []string{otherCB.ID}) {
			t.Errorf("filter campaign: %v", ids)
		}
		if ids := list(super, campaign.CallbackFilter{UserID: userBea}); !slices.Equal(ids, []string{bea.ID}) {
			t.Errorf("filter user: %v", ids)
		}
		if ids := list(super, campaign.CallbackFilter{From: t0.Add(90 * time.Minute), To: t0.Add(3 * time.Hour)}); !slices.Equal(ids, []string{cb.ID}) {
			t.Errorf("filter from/to: %v", ids)
		}
		if _, _, err := f.svc.ListCallbacks(ctx, super, campaign.CallbackFilter{State: "lost"}, campaign.Page{}); !slices.Contains(fields(err), "state") {
			t.Errorf("bad state filter: %v", err)
		}
		if _, err := f.svc.GetCallback(ctx, agentAna, bea.ID); kindOf(err) != problem.Forbidden {
			t.Errorf("Ana reads Bea's callback: %v", err)
		}
		if _, err := f.svc.GetCallback(ctx, super, unknownID); kindOf(err) != problem.NotFound {
			t.Errorf("unknown callback: %v", err)
		}

		f.events(t)

		// Move: Ana may not move Bea's; Bea may move hers, not give it to Ana.
		later := t0.Add(4 * time.Hour)
		if _, err := f.svc.MoveCallback(ctx, agentAna, bea.ID, campaign.CallbackChange{At: &later}); kindOf(err) != problem.Forbidden {
			t.Errorf("Ana moves Bea's: %v", err)
		}
		ana := userAna
		if _, err := f.svc.MoveCallback(ctx, agentBea, bea.ID, campaign.CallbackChange{UserID: &ana}); kindOf(err) != problem.Forbidden {
			t.Errorf("Bea gives hers to Ana: %v", err)
		}
		past := t0.Add(-time.Minute)
		if _, err := f.svc.MoveCallback(ctx, agentBea, bea.ID, campaign.CallbackChange{At: &past}); !slices.Contains(fields(err), "at") {
			t.Errorf("move to the past: %v", err)
		}
		nobody := unknownID
		if _, err := f.svc.MoveCallback(ctx, super, bea.ID, campaign.CallbackChange{UserID: &nobody}); !slices.Contains(fields(err), "userId") {
			t.Errorf("give to an unknown user: %v", err)
		}
		wantEvents(t, f.events(t))
		moved, err := f.svc.MoveCallback(ctx, agentBea, bea.ID, campaign.CallbackChange{At: &later})
		if err != nil || !moved.At.Equal(later) || moved.UserID != userBea || moved.State != "scheduled" {
			t.Errorf("moved %+v %v", moved, err)
		}
		empty := ""
		moved, err = f.svc.MoveCallback(ctx, super, bea.ID, campaign.CallbackChange{UserID: &empty})
		if err != nil || moved.UserID != "" || !moved.At.Equal(later) {
			t.Errorf("given to the campaign %+v %v", moved, err)
		}
		if ev := f.events(t); len(ev) != 2 || ev[1].Body["userId"] != "" || ev[0].Body["at"] != later.Format(time.RFC3339) {
			t.Errorf("move events %+v", ev)
		}

		// Due, take twice, finish.
		if due, err := f.svc.DueCallbacks(ctx, t0.Add(2*time.Hour), 10); err != nil || len(due) != 0 {
			t.Errorf("due at +2h (cb is at +2h0.123s): %v %v", due, err)
		}
		next, err := f.svc.NextCallback(ctx)
		if err != nil || !next.Equal(cb.At) {
			t.Errorf("next callback %v %v", next, err)
		}
		due, err := f.svc.DueCallbacks(ctx, t0.Add(5*time.Hour), 10)
		if err != nil || len(due) != 3 || due[0].ID != cb.ID || due[1].ID != otherCB.ID || due[2].ID != bea.ID {
			t.Errorf("due at +5h: %+v %v", due, err)
		}
		if due, _ := f.svc.DueCallbacks(ctx, t0.Add(5*time.Hour), 1); len(due) != 1 {
			t.Errorf("limit: %d", len(due))
		}
		ok, err := f.svc.TakeCallback(ctx, cb.ID)
		if err != nil || !ok {
			t.Fatalf("take: %v %v", ok, err)
		}
		if ok, err := f.svc.TakeCallback(ctx, cb.ID); err != nil || ok {
			t.Errorf("take twice: %v %v", ok, err)
		}
		if ok, err := f.svc.TakeCallback(ctx, unknownID); err != nil || ok {
			t.Errorf("take unknown: %v %v", ok, err)
		}
		if ev := f.events(t); len(ev) != 1 || ev[0].Body["state"] != "placing" {
			t.Errorf("take events %+v", ev)
		}
		if due, _ := f.svc.DueCallbacks(ctx, t0.Add(5*time.Hour), 10); len(due) != 2 {
			t.Errorf("due after take: %d", len(due))
		}
		if _, err := f.svc.MoveCallback(ctx, super, cb.ID, campaign.CallbackChange{At: &later}); kindOf(err) != problem.Conflict {
			t.Errorf("move a placing callback: %v", err)
		}
		if _, err := f.svc.CancelCallback(ctx, super, cb.ID); kindOf(err) != problem.Conflict {
			t.Errorf("cancel a placing callback: %v", err)
		}
		if err := f.svc.FinishCallback(ctx, cb.ID, "lost", ""); !slices.Contains(fields(err), "state") {
			t.Errorf("finish with a bad state: %v", err)
		}
		if err := f.svc.FinishCallback(ctx, cb.ID, "done", "c0ffee00-0000-4000-8000-000000000001"); err != nil {
			t.Fatal(err)
		}
		fin, _ := f.svc.GetCallback(ctx, super, cb.ID)
		if fin.State != "done" || fin.ConversationID != "c0ffee00-0000-4000-8000-000000000001" {
			t.Errorf("finished %+v", fin)
		}
		if err := f.svc.FinishCallback(ctx, cb.ID, "missed", ""); kindOf(err) != problem.Conflict {
			t.Errorf("finish twice: %v", err)
		}
		if err := f.svc.FinishCallback(ctx, unknownID, "done", ""); kindOf(err) != problem.NotFound {
			t.Errorf("finish unknown: %v", err)
		}
		if ev := f.events(t); len(ev) != 1 || ev[0].Body["state"] != "done" || ev[0].Body["conversationId"] == "" {
			t.Errorf("finish events %+v", ev)
		}
		// Placing → scheduled (given back), scheduled → missed, missed → moved again.
		if ok, _ := f.svc.TakeCallback(ctx, otherCB.ID); !ok {
			t.Fatal("take other")
		}
		if err := f.svc.FinishCallback(ctx, otherCB.ID, "scheduled", ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.FinishCallback(ctx, otherCB.ID, "scheduled", ""); kindOf(err) != problem.Conflict {
			t.Errorf("scheduled → scheduled: %v", err)
		}
		if err := f.svc.FinishCallback(ctx, otherCB.ID, "missed", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MoveCallback(ctx, super, otherCB.ID, campaign.CallbackChange{}); !slices.Contains(fields(err), "at") {
			t.Errorf("move a missed callback without a time: %v", err)
		}
		_ = f.db.Tx(ctx, func(tx *store.Tx) error { return f.world.SetStatus(ctx, tx, contact1, "retry") })
		again, err := f.svc.MoveCallback(ctx, super, otherCB.ID, campaign.CallbackChange{At: &later})
		if err != nil || again.State != "scheduled" {
			t.Errorf("missed moved: %+v %v", again, err)
		}
		if st := f.world.statusOf(contact1); st != "callback" {
			t.Errorf("contact status after rescheduling a missed callback: %q", st)
		}
		f.events(t)

		// Cancel: Ana may cancel the campaign-owned one of her campaign, and
		// the contact goes back to retry.
		if _, err := f.svc.Login(ctx, other.ID, userAna); err != nil {
			t.Fatal(err)
		}
		f.events(t)
		cancelled, err := f.svc.CancelCallback(ctx, agentAna, otherCB.ID)
		if err != nil || cancelled.State != "cancelled" {
			t.Fatalf("cancel %+v %v", cancelled, err)
		}
		if st := f.world.statusOf(contact1); st != "retry" {
			t.Errorf("contact status after cancel %q, want retry", st)
		}
		if again, err := f.svc.CancelCallback(ctx, agentAna, otherCB.ID); err != nil || again.State != "cancelled" {
			t.Errorf("cancel twice: %+v %v", again, err)
		}
		ev = f.events(t)
		wantTopics(t, ev, "v2.outbound.callbacks."+otherCB.ID)
		if ev[0].Body["state"] != "cancelled" {
			t.Errorf("cancel event %+v", ev[0])
		}
		if _, err := f.svc.CancelCallback(ctx, agentAna, bea.ID); kindOf(err) != problem.Forbidden {
			t.Errorf("Ana cancels a callback of a campaign she is not in: %v", err)
		}
		if _, err := f.svc.CancelCallback(ctx, super, unknownID); kindOf(err) != problem.NotFound {
			t.Errorf("cancel unknown: %v", err)
		}

		// A contact with two scheduled callbacks stays "callback" until the last goes.
		x1, err := f.svc.ScheduleCallback(ctx, super, campaign.Callback{CampaignID: c.ID, ContactID: contact1, At: later})
		if err != nil {
			t.Fatal(err)
		}
		x2, err := f.svc.ScheduleCallback(ctx, super, campaign.Callback{CampaignID: c.ID, ContactID: contact1, At: later.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CancelCallback(ctx, super, x1.ID); err != nil {
			t.Fatal(err)
		}
		if st := f.world.statusOf(contact1); st != "callback" {
			t.Errorf("status with one callback left %q", st)
		}
		// Deleting the campaign cancels the rest (events) and drops the rows.
		f.events(t)
		if err := f.svc.Delete(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if st := f.world.statusOf(contact1); st != "retry" {
			t.Errorf("status after the campaign went %q", st)
		}
		ev = f.events(t)
		var cancelledIDs []string
		for _, e := range ev {
			if e.Body["state"] == "cancelled" {
				cancelledIDs = append(cancelledIDs, e.Body["id"].(string))
			}
		}
		if !slices.Equal(cancelledIDs, []string{bea.ID, x2.ID}) {
			t.Errorf("cancelled on delete %v, want Bea's and x2: %+v", cancelledIDs, ev)
		}
		if _, err := f.svc.GetCallback(ctx, super, x2.ID); kindOf(err) != problem.NotFound {
			t.Errorf("callback of a deleted campaign: %v", err)
		}
	})
}

func wantTopics(t *testing.T, ev []event, topics ...string) {
	t.Helper()
	var got []string
	for _, e := range ev {
		got = append(got, e.Topic)
	}
	if !slices.Equal(got, topics) {
		t.Fatalf("topics %v, want %v", got, topics)
	}
}

// Many takers, one winner: the conditional update holds on both engines.
func TestTakeCallbackConcurrently(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c, err := f.svc.Create(ctx, outbound("A", 1))
		if err != nil {
			t.Fatal(err)
		}
		cb, err := f.svc.ScheduleCallback(ctx, super, campaign.Callback{CampaignID: c.ID, ContactID: contact1, At: t0.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		// A second service on another handle is another node.
		nodes := []*campaign.Service{f.svc, f.service(storetest.Reopen(t, db))}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := nodes[i%2].TakeCallback(ctx, cb.ID)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d takers won, want 1", wins)
		}
		f.events(t)
	})
}

// Campaigns, logins and callbacks are rows: a restarted program finds them.
func TestSurvivesRestart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c, err := f.svc.Create(ctx, outbound("A", 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Login(ctx, c.ID, userAna); err != nil {
			t.Fatal(err)
		}
		cb, err := f.svc.ScheduleCallback(ctx, agentAna, campaign.Callback{CampaignID: c.ID, ContactID: contact1, At: t0.Add(time.Hour), UserID: userAna})
		if err != nil {
			t.Fatal(err)
		}
		again := storetest.Reopen(t, db)
		db.Close()
		s := f.service(again)
		got, err := s.Get(ctx, c.ID)
		if err != nil || got.Name != "A" || !slices.Equal(got.ContactListIDs, c.ContactListIDs) {
			t.Errorf("campaign after restart %+v %v", got, err)
		}
		if id, err := s.AgentCampaign(ctx, userAna); err != nil || id != c.ID {
			t.Errorf("login after restart %q %v", id, err)
		}
		due, err := s.DueCallbacks(ctx, t0.Add(time.Hour), 10)
		if err != nil || len(due) != 1 || due[0] != cb {
			t.Errorf("callbacks after restart %+v %v, want %+v", due, err, cb)
		}
		if ok, err := s.TakeCallback(ctx, cb.ID); !ok || err != nil {
			t.Errorf("take after restart %v %v", ok, err)
		}
	})
}
