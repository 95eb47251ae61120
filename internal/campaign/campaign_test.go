package campaign_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

func TestCampaignValidation(t *testing.T) {
	t.Parallel()
	inbound := func(c *campaign.Campaign) {
		*c = campaign.Defaults()
		c.Name, c.Number, c.Direction, c.QueueID, c.InboundListID = "Entrantes", 5, campaign.Inbound, queue1, listB1
	}
	cases := []struct {
		name  string
		edit  func(c *campaign.Campaign)
		field string
		kind  problem.Kind
	}{
		{"no name", func(c *campaign.Campaign) { c.Name = "  " }, "name", problem.Invalid},
		{"long name", func(c *campaign.Campaign) { c.Name = strings.Repeat("x", 201) }, "name", problem.Invalid},
		{"number 0", func(c *campaign.Campaign) { c.Number = 0 }, "number", problem.Invalid},
		{"number 10000", func(c *campaign.Campaign) { c.Number = 10000 }, "number", problem.Invalid},
		{"duplicate name", func(c *campaign.Campaign) { c.Name = "EXISTING" }, "name", problem.Duplicate},
		{"duplicate number", func(c *campaign.Campaign) { c.Number = 1 }, "number", problem.Duplicate},
		{"unknown direction", func(c *campaign.Campaign) { c.Direction = "sideways" }, "direction", problem.Invalid},
		{"unknown state", func(c *campaign.Campaign) { c.State = "paused" }, "state", problem.Invalid},
		{"unknown dialing mode", func(c *campaign.Campaign) { c.DialingMode = "agentless" }, "dialingMode", problem.Invalid},
		{"no dialing mode", func(c *campaign.Campaign) { c.DialingMode = "" }, "dialingMode", problem.Invalid},
		{"power ratio for predictive", func(c *campaign.Campaign) { c.PowerRatio = 2 }, "powerRatio", problem.Invalid},
		{"power ratio 0.5", func(c *campaign.Campaign) { c.DialingMode, c.PowerRatio = "power", 0.5 }, "powerRatio", problem.Invalid},
		{"power ratio 11", func(c *campaign.Campaign) { c.DialingMode, c.PowerRatio = "power", 11 }, "powerRatio", problem.Invalid},
		{"power ratio missing", func(c *campaign.Campaign) { c.DialingMode, c.PowerRatio = "power", 0 }, "powerRatio", problem.Invalid},
		{"power ratio NaN", func(c *campaign.Campaign) { c.DialingMode, c.PowerRatio = "power", math.NaN() }, "powerRatio", problem.Invalid},
		{"ring timeout 14", func(c *campaign.Campaign) { c.RingTimeoutSeconds = 14 }, "ringTimeoutSeconds", problem.Invalid},
		{"ring timeout 121", func(c *campaign.Campaign) { c.RingTimeoutSeconds = 121 }, "ringTimeoutSeconds", problem.Invalid},
		{"abandon cap 3.1", func(c *campaign.Campaign) { c.AbandonCapPercent = 3.1 }, "abandonCapPercent", problem.Invalid},
		{"abandon cap -1", func(c *campaign.Campaign) { c.AbandonCapPercent = -1 }, "abandonCapPercent", problem.Invalid},
		{"max attempts 0", func(c *campaign.Campaign) { c.MaxAttempts = 0 }, "maxAttempts", problem.Invalid},
		{"max attempts 101", func(c *campaign.Campaign) { c.MaxAttempts = 101 }, "maxAttempts", problem.Invalid},
		{"auto release -2", func(c *campaign.Campaign) { c.AutoReleaseSeconds = -2 }, "autoReleaseSeconds", problem.Invalid},
		{"auto release 3601", func(c *campaign.Campaign) { c.AutoReleaseSeconds = 3601 }, "autoReleaseSeconds", problem.Invalid},
		{"bad start", func(c *campaign.Campaign) { c.CallingHours.Windows[0].Start = "9:00" }, "callingHours.windows[0].start", problem.Invalid},
		{"bad end", func(c *campaign.Campaign) { c.CallingHours.Windows[0].End = "24:00" }, "callingHours.windows[0].end", problem.Invalid},
		{"start after end", func(c *campaign.Campaign) { c.CallingHours.Windows[0].Start = "22:00" }, "callingHours.windows[0].end", problem.Invalid},
		{"start = end", func(c *campaign.Campaign) { c.CallingHours.Windows[0].End = "09:00" }, "callingHours.windows[0].end", problem.Invalid},
		{"crossing midnight", func(c *campaign.Campaign) {
			c.CallingHours.Windows[0].Start, c.CallingHours.Windows[0].End = "22:00", "02:00"
		}, "callingHours.windows[0].end", problem.Invalid},
		{"unknown day", func(c *campaign.Campaign) { c.CallingHours.Windows[0].Days = []string{"mon", "funday"} }, "callingHours.windows[0].days[1]", problem.Invalid},
		{"no day", func(c *campaign.Campaign) { c.CallingHours.Windows[0].Days = nil }, "callingHours.windows[0].days", problem.Invalid},
		{"unknown zone", func(c *campaign.Campaign) { c.CallingHours.TimeZone = "Europe/Atlantis" }, "callingHours.timeZone", problem.Invalid},
		{"retry unknown outcome", func(c *campaign.Campaign) { c.RetryRules[1].Outcome = "connected" }, "retryRules[1].outcome", problem.Invalid},
		{"retry duplicate outcome", func(c *campaign.Campaign) { c.RetryRules[1].Outcome = "busy" }, "retryRules[1].outcome", problem.Invalid},
		{"retry negative delay", func(c *campaign.Campaign) { c.RetryRules[0].DelaySeconds = -1 }, "retryRules[0].delaySeconds", problem.Invalid},
		{"retry delay over 30 days", func(c *campaign.Campaign) { c.RetryRules[0].DelaySeconds = 30*86400 + 1 }, "retryRules[0].delaySeconds", problem.Invalid},
		{"a campaign with no list", func(c *campaign.Campaign) { c.ContactListIDs = nil }, "contactListIds", problem.Invalid},
		{"lists of different schemas", func(c *campaign.Campaign) { c.ContactListIDs = []string{listA1, listB1} }, "contactListIds[1]", problem.Invalid},
		{"unknown list", func(c *campaign.Campaign) { c.ContactListIDs = []string{listA1, unknownID} }, "contactListIds[1]", problem.Invalid},
		{"unknown queue", func(c *campaign.Campaign) { c.QueueID = unknownID }, "queueId", problem.Invalid},
		{"unknown dnc list", func(c *campaign.Campaign) { c.DNCListIDs = []string{unknownID} }, "dncListIds[0]", problem.Invalid},
		{"caller id letters", func(c *campaign.Campaign) { c.CallerID = "CENTRALITA" }, "callerId", problem.Invalid},
		{"caller id short", func(c *campaign.Campaign) { c.CallerID = "+12" }, "callerId", problem.Invalid},
		{"caller id long", func(c *campaign.Campaign) { c.CallerID = "+" + strings.Repeat("1", 21) }, "callerId", problem.Invalid},
		{"caller id spaces", func(c *campaign.Campaign) { c.CallerID = "+34 910 000 000" }, "callerId", problem.Invalid},
		{"transfer number bad", func(c *campaign.Campaign) { c.TransferNumbers[0].Number = "sup" }, "transferNumbers[0].number", problem.Invalid},
		{"transfer number no name", func(c *campaign.Campaign) { c.TransferNumbers[0].Name = "" }, "transferNumbers[0].name", problem.Invalid},
		{"inbound without queue", func(c *campaign.Campaign) { inbound(c); c.QueueID = "" }, "queueId", problem.Invalid},
		{"inbound without list", func(c *campaign.Campaign) { inbound(c); c.InboundListID = "" }, "inboundListId", problem.Invalid},
		{"inbound unknown list", func(c *campaign.Campaign) { inbound(c); c.InboundListID = unknownID }, "inboundListId", problem.Invalid},
		{"inbound unknown queue", func(c *campaign.Campaign) { inbound(c); c.QueueID = unknownID }, "queueId", problem.Invalid},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		existing, err := f.svc.Create(ctx, outbound("Existing", 1))
		if err != nil {
			t.Fatal(err)
		}
		f.events(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := outbound("Nueva", 2)
				tc.edit(&c)
				_, err := f.svc.Create(ctx, c)
				if err == nil {
					t.Fatal("created")
				}
				if !slices.Contains(fields(err), tc.field) {
					t.Errorf("problems name %v, want %s: %v", fields(err), tc.field, err)
				}
				if k := kindOf(err); k != tc.kind {
					t.Errorf("kind %v, want %v: %v", k, tc.kind, err)
				}
				// The same input on update is refused too (the duplicate
				// cases clash with the other campaign there).
				c2 := c
				if tc.kind == problem.Duplicate {
					// Updating the existing campaign with its own name or number is fine.
					if _, err := f.svc.Update(ctx, existing.ID, withIdentity(c2, existing)); err != nil {
						t.Errorf("update with its own name and number: %v", err)
					}
				} else if _, err := f.svc.Update(ctx, existing.ID, c2); err == nil || !slices.Contains(fields(err), tc.field) {
					t.Errorf("update: %v, want a problem on %s", err, tc.field)
				}
				if n := f.count(t, "campaigns"); n != 1 {
					t.Errorf("%d campaigns, want 1: nothing written", n)
				}
				if tc.kind != problem.Duplicate {
					if ev := f.events(t); len(ev) != 0 {
						t.Errorf("events written: %v", ev)
					}
				}
				f.events(t)
			})
		}
		got, err := f.svc.Get(ctx, existing.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Existing" || got.Number != 1 {
			t.Errorf("existing campaign changed: %+v", got)
		}
	})
}

func withIdentity(c, of campaign.Campaign) campaign.Campaign {
	c.Name, c.Number = of.Name, of.Number
	return c
}

func TestCampaignCRUD(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		in := outbound("Cobranzas", 97)
		in.ContactListIDs = []string{listA1, listA2, listA1} // repeats count once
		in.CallingHours.Windows[0].Days = []string{"MON", "tue", "tue", "wed", "thu", "fri"}
		c, err := f.svc.Create(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == "" || c.SchemaID != schemaA || !slices.Equal(c.ContactListIDs, []string{listA1, listA2}) || c.State != "off" ||
			!c.Created.Equal(t0) || !c.Modified.Equal(t0) {
			t.Fatalf("created %+v", c)
		}
		if !slices.Equal(c.CallingHours.Windows[0].Days, []string{"mon", "tue", "wed", "thu", "fri"}) {
			t.Errorf("days %v", c.CallingHours.Windows[0].Days)
		}
		got, err := f.svc.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("Get:\n%+v\nwant\n%+v", got, c)
		}
		ev := f.events(t)
		if len(ev) != 1 || ev[0].Topic != "v2.outbound.campaigns."+c.ID || ev[0].Body["name"] != "Cobranzas" ||
			ev[0].Body["schemaId"] != schemaA || ev[0].Body["deleted"] != nil {
			t.Fatalf("create events %+v", ev)
		}

		// Inbound: dialing settings are dropped, the schema is the inbound list's.
		ib := campaign.Defaults()
		ib.Name, ib.Number, ib.Direction, ib.QueueID, ib.InboundListID = "Entrantes", 50, campaign.Inbound, queue1, listB1
		ib.DialingMode, ib.ContactListIDs, ib.RingTimeoutSeconds = "power", []string{unknownID}, 3
		inb, err := f.svc.Create(ctx, ib)
		if err != nil {
			t.Fatal(err)
		}
		if inb.DialingMode != "" || len(inb.ContactListIDs) != 0 || inb.SchemaID != schemaB || inb.RingTimeoutSeconds != 25 {
			t.Errorf("inbound %+v", inb)
		}
		f.events(t)

		// Update: a new power campaign, on.
		up := outbound("Cobranzas Power", 97)
		up.DialingMode, up.PowerRatio, up.State = "power", 2.5, "on"
		f.clk.Advance(time.Second)
		u, err := f.svc.Update(ctx, c.ID, up)
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "Cobranzas Power" || u.PowerRatio != 2.5 || u.State != "on" || !u.Created.Equal(t0) || !u.Modified.After(t0) {
			t.Errorf("updated %+v", u)
		}
		// An update without a state keeps it.
		up.State = ""
		if u, err = f.svc.Update(ctx, c.ID, up); err != nil || u.State != "on" {
			t.Errorf("update without state: %v %v", u.State, err)
		}
		if ev := f.events(t); len(ev) != 2 || ev[1].Body["state"] != "on" {
			t.Errorf("update events %+v", ev)
		}
		if _, err := f.svc.Update(ctx, unknownID, up); kindOf(err) != problem.NotFound {
			t.Errorf("update unknown: %v", err)
		}

		// List and filters.
		other, err := f.svc.Create(ctx, outbound("Alta", 3))
		if err != nil {
			t.Fatal(err)
		}
		all, total, err := f.svc.List(ctx, campaign.Filter{}, campaign.Page{Limit: 2})
		if err != nil || total != 3 || len(all) != 2 || all[0].Name != "Alta" || all[1].Name != "Cobranzas Power" {
			t.Errorf("list: %d %v %v", total, names(all), err)
		}
		page2, _, _ := f.svc.List(ctx, campaign.Filter{}, campaign.Page{Limit: 2, Offset: 2})
		if len(page2) != 1 || page2[0].Name != "Entrantes" {
			t.Errorf("page 2: %v", names(page2))
		}
		for _, tc := range []struct {
			f    campaign.Filter
			want []string
		}{
			{campaign.Filter{Name: "Cobranzas*"}, []string{"Cobranzas Power"}},
			{campaign.Filter{Name: "*a*"}, []string{"Alta", "Cobranzas Power", "Entrantes"}},
			{campaign.Filter{Name: "alta"}, nil}, // exact and case-sensitive, as other listings
			{campaign.Filter{Direction: "inbound"}, []string{"Entrantes"}},
			{campaign.Filter{State: "on"}, []string{"Cobranzas Power"}},
			{campaign.Filter{Direction: "outbound", State: "off"}, []string{"Alta"}},
		} {
			got, n, err := f.svc.List(ctx, tc.f, campaign.Page{Limit: 25})
			if err != nil || n != len(tc.want) || !slices.Equal(names(got), tc.want) {
				t.Errorf("list %+v: %d %v %v, want %v", tc.f, n, names(got), err, tc.want)
			}
		}
		running, err := f.svc.Running(ctx)
		if err != nil || !slices.Equal(names(running), []string{"Cobranzas Power"}) {
			t.Errorf("running %v %v", names(running), err)
		}

		// Lists in use.
		for _, l := range []string{listA1, listA2, listB1} {
			err := f.svc.ListInUse(ctx, l)
			if kindOf(err) != problem.Conflict || codeOf(err) != "list.in.use" {
				t.Errorf("ListInUse(%s) = %v", l, err)
			}
		}
		if err := f.svc.ListInUse(ctx, unknownID); err != nil {
			t.Errorf("ListInUse(unused) = %v", err)
		}
		if err := f.svc.DNCListInUse(ctx, dnc1); codeOf(err) != "dnclist.in.use" {
			t.Errorf("DNCListInUse = %v", err)
		}

		// Delete.
		f.events(t)
		if err := f.svc.Delete(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Get(ctx, other.ID); kindOf(err) != problem.NotFound {
			t.Errorf("get deleted: %v", err)
		}
		if ev := f.events(t); len(ev) != 1 || ev[0].Topic != "v2.outbound.campaigns."+other.ID || ev[0].Body["deleted"] != true || ev[0].Body["name"] != "Alta" {
			t.Errorf("delete events %+v", ev)
		}
		if err := f.svc.Delete(ctx, other.ID); kindOf(err) != problem.NotFound {
			t.Errorf("delete twice: %v", err)
		}
		if _, err := f.svc.Update(ctx, c.ID, withLists(up, listA2)); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ListInUse(ctx, listA1); err != nil {
			t.Errorf("list A1 no longer used: %v", err)
		}
	})
}

func withLists(c campaign.Campaign, ids ...string) campaign.Campaign {
	c.ContactListIDs = ids
	return c
}

func names(cs []campaign.Campaign) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// Without SetDeps nothing that needs other packages' facts is possible,
// and it says so.
func TestCampaignWithoutDeps(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	f := setup(t, db)
	s := campaign.New(db, nil, f.clk)
	if _, err := s.Create(ctx, outbound("X", 1)); err == nil || !strings.Contains(err.Error(), "SetDeps") {
		t.Errorf("create without deps: %v", err)
	}
	if _, err := s.Login(ctx, unknownID, userAna); !errors.Is(err, err) || err == nil {
		t.Errorf("login without deps: %v", err)
	}
}
