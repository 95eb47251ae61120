package campaign_test

import (
	"slices"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

func TestAgentLogin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		a, err := f.svc.Create(ctx, outbound("A", 1))
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.svc.Create(ctx, outbound("B", 2))
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

		// Nobody yet.
		if id, err := f.svc.AgentCampaign(ctx, userAna); err != nil || id != "" {
			t.Fatalf("AgentCampaign before login: %q %v", id, err)
		}
		l, err := f.svc.Login(ctx, a.ID, userAna)
		if err != nil {
			t.Fatal(err)
		}
		if l.UserID != userAna || l.CampaignID != a.ID || !l.LoggedIn.Equal(t0) {
			t.Errorf("login %+v", l)
		}
		wantEvents(t, f.events(t),
			event{"v2.outbound.campaigns." + a.ID + ".agents", map[string]any{"userId": userAna, "loggedIn": true}},
			event{"v2.users." + userAna + ".outboundcampaign", map[string]any{"campaignId": a.ID}})

		// Again: nothing changes.
		f.clk.Advance(time.Minute)
		if l2, err := f.svc.Login(ctx, a.ID, userAna); err != nil || !l2.LoggedIn.Equal(t0) {
			t.Errorf("login again: %+v %v", l2, err)
		}
		wantEvents(t, f.events(t))

		if _, err := f.svc.Login(ctx, a.ID, userBea); err != nil {
			t.Fatal(err)
		}
		f.events(t)
		if ids, err := f.svc.Agents(ctx, a.ID); err != nil || !slices.Equal(ids, []string{userAna, userBea}) {
			t.Errorf("agents of A: %v %v", ids, err)
		}

		// Moving to B logs out of A, events for both.
		if _, err := f.svc.Login(ctx, b.ID, userAna); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, f.events(t),
			event{"v2.outbound.campaigns." + a.ID + ".agents", map[string]any{"userId": userAna, "loggedIn": false}},
			event{"v2.outbound.campaigns." + b.ID + ".agents", map[string]any{"userId": userAna, "loggedIn": true}},
			event{"v2.users." + userAna + ".outboundcampaign", map[string]any{"campaignId": b.ID}})
		if id, _ := f.svc.AgentCampaign(ctx, userAna); id != b.ID {
			t.Errorf("AgentCampaign after move: %s", id)
		}
		if ids, _ := f.svc.Agents(ctx, a.ID); !slices.Equal(ids, []string{userBea}) {
			t.Errorf("agents of A after move: %v", ids)
		}
		logins, err := f.svc.AgentLogins(ctx, b.ID)
		if err != nil || len(logins) != 1 || logins[0].UserID != userAna || !logins[0].LoggedIn.Equal(t0.Add(time.Minute)) {
			t.Errorf("AgentLogins(B) %+v %v", logins, err)
		}

		// Refusals.
		if _, err := f.svc.Login(ctx, in.ID, userAna); kindOf(err) != problem.Invalid || codeOf(err) != "campaign.not.outbound" {
			t.Errorf("login inbound: %v", err)
		}
		if _, err := f.svc.Login(ctx, unknownID, userAna); kindOf(err) != problem.NotFound {
			t.Errorf("login unknown campaign: %v", err)
		}
		if _, err := f.svc.Login(ctx, a.ID, unknownID); kindOf(err) != problem.NotFound {
			t.Errorf("login unknown user: %v", err)
		}
		if _, err := f.svc.AgentLogins(ctx, unknownID); kindOf(err) != problem.NotFound {
			t.Errorf("AgentLogins unknown: %v", err)
		}
		if id, _ := f.svc.AgentCampaign(ctx, userAna); id != b.ID {
			t.Errorf("a refused login moved the agent: %s", id)
		}
		wantEvents(t, f.events(t))

		// Logout of a campaign one is not in changes nothing.
		if err := f.svc.Logout(ctx, a.ID, userAna); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, f.events(t))
		if err := f.svc.Logout(ctx, unknownID, userAna); kindOf(err) != problem.NotFound {
			t.Errorf("logout unknown campaign: %v", err)
		}
		if err := f.svc.Logout(ctx, b.ID, userAna); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, f.events(t),
			event{"v2.outbound.campaigns." + b.ID + ".agents", map[string]any{"userId": userAna, "loggedIn": false}},
			event{"v2.users." + userAna + ".outboundcampaign", map[string]any{"campaignId": ""}})
		if id, _ := f.svc.AgentCampaign(ctx, userAna); id != "" {
			t.Errorf("after logout: %s", id)
		}

		// Deleting a campaign logs its agents out.
		if _, err := f.svc.Login(ctx, a.ID, userAna); err != nil {
			t.Fatal(err)
		}
		f.events(t)
		if err := f.svc.Delete(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		ev := f.events(t)
		if len(ev) != 5 {
			t.Fatalf("delete events %+v", ev)
		}
		wantEvents(t, ev[:4],
			event{"v2.outbound.campaigns." + a.ID + ".agents", map[string]any{"userId": userAna, "loggedIn": false}},
			event{"v2.users." + userAna + ".outboundcampaign", map[string]any{"campaignId": ""}},
			event{"v2.outbound.campaigns." + a.ID + ".agents", map[string]any{"userId": userBea, "loggedIn": false}},
			event{"v2.users." + userBea + ".outboundcampaign", map[string]any{"campaignId": ""}})
		if ev[4].Topic != "v2.outbound.campaigns."+a.ID || ev[4].Body["deleted"] != true {
			t.Errorf("last delete event %+v", ev[4])
		}
		for _, u := range []string{userAna, userBea} {
			if id, _ := f.svc.AgentCampaign(ctx, u); id != "" {
				t.Errorf("%s still in %s after the campaign was deleted", u, id)
			}
		}

		// Turning a campaign inbound logs its agents out too.
		if _, err := f.svc.Login(ctx, b.ID, userBea); err != nil {
			t.Fatal(err)
		}
		f.events(t)
		if _, err := f.svc.Update(ctx, b.ID, withIdentity(ib, b)); err != nil {
			t.Fatal(err)
		}
		ev = f.events(t)
		if len(ev) != 3 || ev[0].Topic != "v2.outbound.campaigns."+b.ID || ev[1].Body["loggedIn"] != false {
			t.Errorf("events of turning inbound: %+v", ev)
		}
		if ids, _ := f.svc.Agents(ctx, b.ID); len(ids) != 0 {
			t.Errorf("agents of an inbound campaign: %v", ids)
		}
	})
}

func wantEvents(t *testing.T, got []event, want ...event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Topic != want[i].Topic {
			t.Errorf("event %d topic %s, want %s", i, got[i].Topic, want[i].Topic)
		}
		for k, v := range want[i].Body {
			if got[i].Body[k] != v {
				t.Errorf("event %d (%s) %s = %v, want %v", i, got[i].Topic, k, got[i].Body[k], v)
			}
		}
		if len(got[i].Body) != len(want[i].Body) {
			t.Errorf("event %d body %v, want %v", i, got[i].Body, want[i].Body)
		}
	}
}
