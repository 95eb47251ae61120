package dynamics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/crm/crmtest"
	"github.com/centralita/centralita/internal/crm/dynamics"
	"github.com/centralita/centralita/internal/crm/dynamics/dynemu"
)

func setup(t *testing.T) (*dynemu.Emulator, *dynamics.Connector) {
	t.Helper()
	emu := dynemu.New()
	t.Cleanup(emu.Close)
	c, err := dynamics.New(dynamics.Config{
		OrgURL: emu.URL(), AuthorityURL: emu.URL(), TenantID: dynemu.Tenant,
		ClientID: dynemu.ClientID, ClientSecret: dynemu.ClientSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}

var setOf = map[string]string{crm.TypeContact: "contacts", crm.TypeAccount: "accounts", crm.TypeLead: "leads", crm.TypeOpportunity: "opportunities"}

func seedRow(typ string, rec crm.Record) map[string]any {
	row := map[string]any{}
	switch typ {
	case crm.TypeContact, crm.TypeLead:
		row["lastname"] = rec.Name
	default:
		row["name"] = rec.Name
	}
	if len(rec.Phones) > 0 {
		row["telephone1"] = rec.Phones[0]
	}
	if len(rec.Phones) > 1 {
		if typ == crm.TypeAccount {
			row["telephone2"] = rec.Phones[1]
		} else {
			row["mobilephone"] = rec.Phones[1]
		}
	}
	for k, v := range rec.Fields {
		row[k] = v
	}
	return row
}

// disposition reads back what LogActivity wrote in the description.
func disposition(desc string) string {
	first, _, _ := strings.Cut(desc, "\n")
	d, _ := strings.CutPrefix(first, "Disposition: ")
	if d == first {
		return ""
	}
	return d
}

func TestContract(t *testing.T) {
	emu, c := setup(t)
	str := func(v any) string { s, _ := v.(string); return s }
	crmtest.Run(t, crmtest.Harness{
		Connector: c,
		Seed: func(t *testing.T, rec crm.Record) crm.Record {
			rec.ID = emu.Seed(setOf[rec.Type], seedRow(rec.Type, rec))
			return rec
		},
		SetDown: emu.SetDown,
		Activities: func(t *testing.T) []crm.Activity {
			var out []crm.Activity
			for _, r := range emu.Rows("phonecalls") {
				out = append(out, crm.Activity{CallID: str(r["neo_callid"]), Subject: str(r["subject"]),
					Description: str(r["description"]), Disposition: disposition(str(r["description"])), RecordID: str(r["_regardingobjectid_value"])})
			}
			return out
		},
		VoiceCallRecords: func(t *testing.T) []crm.VoiceCall {
			var out []crm.VoiceCall
			for _, r := range emu.Rows("phonecalls") {
				out = append(out, crm.VoiceCall{CallID: str(r["neo_callid"]), Disposition: disposition(str(r["description"]))})
			}
			return out
		},
		SeedUser: func(t *testing.T, u crm.User) crm.User {
			u.ID = emu.Seed("systemusers", map[string]any{"fullname": u.Name, "internalemailaddress": u.Email, "isdisabled": false})
			return u
		},
		Types:                []string{crm.TypeContact, crm.TypeAccount, crm.TypeLead},
		NameFields:           func(name string) map[string]string { return map[string]string{"lastname": name} },
		PhoneField:           "telephone1",
		UpdateField:          "jobtitle",
		KeyField:             "emailaddress1",
		ExternalIDField:      dynemu.SyncKey,
		UnknownID:            func(string) string { return uuid.NewString() },
		VoiceCalls:           true,
		MultipleExternalIDs:  true,
		RejectsUnknownFields: true,
	})
}

func TestTokenRenewedOnceOn401(t *testing.T) {
	emu, c := setup(t)
	ctx := context.Background()
	id := emu.Seed("contacts", map[string]any{"firstname": "Ana", "lastname": "García", "telephone1": "+34911000001"})
	if _, err := c.Get(ctx, crm.TypeContact, id); err != nil {
		t.Fatal(err)
	}
	emu.ExpireTokens()
	r, err := c.Get(ctx, crm.TypeContact, id)
	if err != nil {
		t.Fatalf("Get after expiry: %v", err)
	}
	if r.Name != "Ana García" || r.Phones[0] != "+34911000001" {
		t.Errorf("record = %+v", r)
	}
	n := emu.Counts()
	if n.Tokens != 2 || n.Unauthorized != 1 {
		t.Errorf("tokens %d, 401s %d; want 2 and 1", n.Tokens, n.Unauthorized)
	}
}

func TestAuthRefused(t *testing.T) {
	emu := dynemu.New()
	t.Cleanup(emu.Close)
	c, _ := dynamics.New(dynamics.Config{OrgURL: emu.URL(), AuthorityURL: emu.URL(), TenantID: dynemu.Tenant,
		ClientID: dynemu.ClientID, ClientSecret: "wrong"})
	_, err := c.Users(context.Background())
	if !errors.Is(err, crm.ErrAuth) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("err = %v, want ErrAuth naming invalid_client", err)
	}
}

func TestPaging(t *testing.T) {
	emu, c := setup(t)
	emu.SetPageSize(3)
	for i := 0; i < 8; i++ {
		emu.Seed("contacts", map[string]any{"lastname": fmt.Sprintf("P%d", i), "telephone1": "+34911000002"})
	}
	got, err := c.Search(context.Background(), crm.Query{Phone: "+34911000002", Types: []string{crm.TypeContact}})
	if err != nil || len(got) != 8 {
		t.Fatalf("Search = %d records, %v; want 8 across 3 pages", len(got), err)
	}
	got, err = c.Search(context.Background(), crm.Query{Phone: "+34911000002", Limit: 4})
	if err != nil || len(got) != 4 {
		t.Fatalf("Search(limit 4) = %d records, %v", len(got), err)
	}
	for i := 0; i < 7; i++ {
		emu.Seed("systemusers", map[string]any{"fullname": fmt.Sprintf("U%d", i), "isdisabled": i != 3})
	}
	us, err := c.Users(context.Background())
	if err != nil || len(us) != 1 || us[0].Name != "U3" {
		t.Errorf("Users = %+v, %v; want the one enabled user", us, err)
	}
}

func TestThrottledAndRejected(t *testing.T) {
	emu, c := setup(t)
	ctx := context.Background()
	emu.Throttle(1)
	_, err := c.Search(ctx, crm.Query{Phone: "+34911000003"})
	if !errors.Is(err, crm.ErrUnavailable) || !strings.Contains(err.Error(), "Retry-After 2") {
		t.Errorf("429: err = %v, want ErrUnavailable with Retry-After", err)
	}
	if _, err := c.Search(ctx, crm.Query{Phone: "+34911000003"}); err != nil {
		t.Errorf("after the 429: %v", err)
	}
	_, err = c.Create(ctx, crm.TypeContact, map[string]string{"lastname": "X", "bogus": "1"})
	if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("400: err = %v, want ErrRejected naming the property", err)
	}
}

func TestUpsertAndAliases(t *testing.T) {
	emu, c := setup(t)
	ctx := context.Background()
	id, created, err := c.Upsert(ctx, crm.TypeContact, "neoSyncId", "123", map[string]string{"FirstName": "Luis", "LastName": "Pérez", "Phone": "+34911000004", "Email": "l@example.com"})
	if err != nil || !created {
		t.Fatalf("Upsert = %s %v %v", id, created, err)
	}
	id2, created, err := c.Upsert(ctx, crm.TypeContact, "neoSyncId", "123", map[string]string{"Title": "CEO"})
	if err != nil || created || id2 != id {
		t.Fatalf("second Upsert = %s %v %v; want %s updated", id2, created, err, id)
	}
	rows := emu.Rows("contacts")
	if len(rows) != 1 || rows[0]["neosyncid"] != "123" || rows[0]["jobtitle"] != "CEO" || rows[0]["emailaddress1"] != "l@example.com" || rows[0]["fullname"] != "Luis Pérez" {
		t.Errorf("rows = %+v", rows)
	}
	got, err := c.Search(ctx, crm.Query{Field: "Email", Value: "l@example.com"})
	if err != nil || len(got) != 1 || got[0].ID != id || !strings.Contains(got[0].URL, "etn=contact&id="+id) {
		t.Errorf("Search(Email) = %+v, %v", got, err)
	}
}

func TestActivityIdempotent(t *testing.T) {
	emu, c := setup(t)
	ctx := context.Background()
	who := emu.Seed("contacts", map[string]any{"lastname": "Caller"})
	owner := emu.Seed("systemusers", map[string]any{"fullname": "Agent", "isdisabled": false})
	a := crm.Activity{CallID: "conv-1", RecordType: crm.TypeContact, RecordID: who, OwnerID: owner, Subject: "Inbound call",
		Direction: "inbound", DurationSeconds: 61, Phone: "+34911000005"}
	id1, err := c.LogActivity(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	a.Disposition, a.Description = "Venta / Alta", "notes"
	id2, err := c.LogActivity(ctx, a)
	if err != nil || id2 != id1 {
		t.Fatalf("second log = %s, %v; want %s", id2, err, id1)
	}
	n := emu.Counts()
	if n.PhoneCallsNew != 1 || n.PhoneCallWrites != 2 {
		t.Errorf("counts = %+v; want 1 created, 2 writes", n)
	}
	row := emu.Rows("phonecalls")[0]
	if row["_regardingobjectid_value"] != who || row["regardingobjecttypecode"] != "contact" || row["_ownerid_value"] != owner ||
		row["actualdurationminutes"] != float64(2) || row["directioncode"] != false || row["description"] != "Disposition: Venta / Alta\n\nnotes" {
		t.Errorf("phonecall = %+v", row)
	}
}
