package zendesk_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/crm/crmtest"
	"github.com/centralita/centralita/internal/crm/zendesk"
	"github.com/centralita/centralita/internal/crm/zendesk/zdemu"
)

func setup(t *testing.T) (*zdemu.Emulator, *zendesk.Connector) {
	t.Helper()
	emu := zdemu.New()
	t.Cleanup(emu.Close)
	c, err := zendesk.New(zendesk.Config{BaseURL: emu.URL(), Email: zdemu.Email, APIToken: zdemu.Token})
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}

// disposition reads back the disposition of a ticket's last comment.
func disposition(t zdemu.Ticket) string {
	if len(t.Comments) == 0 {
		return ""
	}
	first, _, _ := strings.Cut(t.Comments[len(t.Comments)-1].Body, "\n")
	d, ok := strings.CutPrefix(first, "Disposition: ")
	if !ok {
		return ""
	}
	return d
}

func TestContract(t *testing.T) {
	emu, c := setup(t)
	crmtest.Run(t, crmtest.Harness{
		Connector: c,
		Seed: func(t *testing.T, rec crm.Record) crm.Record {
			u := map[string]any{"name": rec.Name}
			if len(rec.Phones) > 0 {
				u["phone"] = rec.Phones[0]
			}
			if len(rec.Phones) > 1 {
				var more []any
				for _, p := range rec.Phones[1:] {
					more = append(more, p)
				}
				u["phones"] = more
			}
			for k, v := range rec.Fields {
				u[k] = v
			}
			rec.ID = strconv.FormatInt(emu.SeedUser(u), 10)
			return rec
		},
		SetDown: emu.SetDown,
		Activities: func(t *testing.T) []crm.Activity {
			var out []crm.Activity
			for _, tk := range emu.Tickets() {
				out = append(out, crm.Activity{CallID: tk.ExternalID, Subject: tk.Subject, Disposition: disposition(tk), RecordID: strconv.FormatInt(tk.RequesterID, 10)})
			}
			return out
		},
		VoiceCallRecords: func(t *testing.T) []crm.VoiceCall {
			var out []crm.VoiceCall
			for _, tk := range emu.Tickets() {
				out = append(out, crm.VoiceCall{CallID: tk.ExternalID, Disposition: disposition(tk)})
			}
			return out
		},
		SeedUser: func(t *testing.T, u crm.User) crm.User {
			u.ID = strconv.FormatInt(emu.SeedUser(map[string]any{"name": u.Name, "email": u.Email, "role": "agent"}), 10)
			return u
		},
		Types:               []string{crm.TypeContact},
		NameFields:          func(name string) map[string]string { return map[string]string{"name": name} },
		PhoneField:          "phone",
		UpdateField:         "notes",
		KeyField:            "email",
		ExternalIDField:     "external_id",
		UnknownID:           func(string) string { return "99999999" },
		VoiceCalls:          true,
		MultipleExternalIDs: true,
	})
}

func TestThrottledAuthAndRejected(t *testing.T) {
	emu, c := setup(t)
	ctx := context.Background()
	emu.Throttle(1)
	_, err := c.Search(ctx, crm.Query{Phone: "+34911000003"})
	if !errors.Is(err, crm.ErrUnavailable) || !strings.Contains(err.Error(), "Retry-After 7") || !strings.Contains(err.Error(), "APIRateLimitExceeded") {
		t.Errorf("429: err = %v, want ErrUnavailable with Retry-After", err)
	}
	if _, err := c.Search(ctx, crm.Query{Phone: "+34911000003"}); err != nil {
		t.Errorf("after the 429: %v", err)
	}
	_, err = c.Create(ctx, crm.TypeContact, map[string]string{"email": "x@example.com"})
	if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "Name: cannot be blank") {
		t.Errorf("422: err = %v, want ErrRejected with the reason", err)
	}
	if _, err := c.Create(ctx, crm.TypeLead, map[string]string{"name": "x"}); !errors.Is(err, crm.ErrRejected) {
		t.Errorf("Lead: err = %v, want ErrRejected", err)
	}
	emu.ExpireTokens()
	if _, err := c.Users(ctx); !errors.Is(err, crm.ErrAuth) {
		t.Errorf("revoked token: err = %v, want ErrAuth", err)
	}
}

func TestUpsertAliasesAndOrganizations(t *testing.T) {
	emu, c := setup(t)
	ctx := context.Background()
	org := emu.SeedOrganization(map[string]any{"name": "Acme", "external_id": "acme-1"})
	got, err := c.Search(ctx, crm.Query{Field: "external_id", Value: "acme-1", Types: []string{crm.TypeAccount}})
	if err != nil || len(got) != 1 || got[0].ID != strconv.FormatInt(org, 10) || got[0].Type != crm.TypeAccount || got[0].Name != "Acme" {
		t.Fatalf("Search(org) = %+v, %v", got, err)
	}
	oid, created, err := c.Upsert(ctx, crm.TypeCompany, "neoSyncId", "acme-1", map[string]string{"details": "big"})
	if err != nil || created || oid != got[0].ID {
		t.Fatalf("Upsert(org) = %s %v %v", oid, created, err)
	}
	id, created, err := c.Upsert(ctx, crm.TypeContact, "neoSyncId", "s-1", map[string]string{"FirstName": "Ana", "LastName": "Ruiz", "Phone": "+34911000006", "organization_id": oid})
	if err != nil || !created {
		t.Fatalf("Upsert = %s %v %v", id, created, err)
	}
	r, err := c.Get(ctx, crm.TypeContact, id)
	if err != nil || r.Name != "Ana Ruiz" || r.Fields["external_id"] != "s-1" || r.Fields["organization_id"] != oid || r.Fields["role"] != "end-user" ||
		len(r.Phones) != 1 || !strings.HasSuffix(r.URL, "/agent/users/"+id) {
		t.Errorf("Get = %+v, %v", r, err)
	}
	// Digits-only numbers are found by the E.164 form.
	emu.SeedUser(map[string]any{"name": "Digits", "phone": "34911000007"})
	found, err := c.Search(ctx, crm.Query{Phone: "+34911000007"})
	if err != nil || len(found) != 1 || found[0].Name != "Digits" {
		t.Errorf("Search(digits) = %+v, %v", found, err)
	}
}

func TestTicketPerCall(t *testing.T) {
	emu, c := setup(t)
	ctx := context.Background()
	who := strconv.FormatInt(emu.SeedUser(map[string]any{"name": "Caller", "phone": "+34911000008"}), 10)
	agent := strconv.FormatInt(emu.SeedUser(map[string]any{"name": "Agent", "role": "agent", "email": "a@example.com"}), 10)
	a := crm.Activity{CallID: "conv-9", RecordType: crm.TypeContact, RecordID: who, OwnerID: agent, Subject: "Inbound call",
		Direction: "inbound", DurationSeconds: 42, Phone: "+34911000008"}
	id1, err := c.LogActivity(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	// The same payload again (a retry after a timeout) adds nothing.
	if id, err := c.LogActivity(ctx, a); err != nil || id != id1 {
		t.Fatalf("retry = %s, %v", id, err)
	}
	a.Disposition, a.Description = "Venta / Alta", "wants fibre"
	if id, err := c.LogActivity(ctx, a); err != nil || id != id1 {
		t.Fatalf("rewrite = %s, %v", id, err)
	}
	tks := emu.Tickets()
	if len(tks) != 1 {
		t.Fatalf("tickets = %d, want 1", len(tks))
	}
	tk := tks[0]
	if tk.ExternalID != "conv-9" || fmt.Sprint(tk.RequesterID) != who || fmt.Sprint(tk.AssigneeID) != agent || len(tk.Comments) != 2 ||
		tk.Comments[0].Public || !strings.Contains(tk.Comments[1].Body, "Disposition: Venta / Alta") || !strings.Contains(tk.Comments[1].Body, "wants fibre") ||
		!strings.Contains(strings.Join(tk.Tags, ","), "call_inbound") {
		t.Errorf("ticket = %+v", tk)
	}
	n := emu.Counts()
	if n.TicketsCreated != 1 || n.Comments != 2 {
		t.Errorf("counts = %+v", n)
	}
	us, err := c.Users(ctx)
	if err != nil || len(us) != 2 { // the API admin and the agent
		t.Errorf("Users = %+v, %v", us, err)
	}
}

func TestPaging(t *testing.T) {
	emu, c := setup(t)
	emu.SetPageSize(2)
	for i := 0; i < 5; i++ {
		emu.SeedUser(map[string]any{"name": fmt.Sprintf("P%d", i), "phone": "+34911000010"})
		emu.SeedUser(map[string]any{"name": fmt.Sprintf("A%d", i), "role": "agent"})
	}
	got, err := c.Search(context.Background(), crm.Query{Phone: "+34911000010"})
	if err != nil || len(got) != 5 {
		t.Errorf("Search = %d, %v; want 5 over 3 pages", len(got), err)
	}
	us, err := c.Users(context.Background())
	if err != nil || len(us) != 6 {
		t.Errorf("Users = %d, %v; want 6", len(us), err)
	}
}
