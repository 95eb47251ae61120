package builtin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/crm/builtin"
	"github.com/centralita/centralita/internal/crm/crmtest"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

var ctx = context.Background()

type fixture struct {
	db     *store.DB
	svc    *contact.Service
	schema contact.Schema
	list   contact.List
	conn   *builtin.Connector
}

func setup(t *testing.T, db *store.DB, name string) *fixture {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC))
	svc := contact.New(db, outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil))), clk)
	f := &fixture{db: db, svc: svc}
	f.schema, f.list = f.schemaAndList(t, name)
	f.conn = builtin.New(db, svc, builtin.Config{ListID: f.list.ID, SchemaID: f.schema.ID})
	return f
}

func (f *fixture) schemaAndList(t *testing.T, name string) (contact.Schema, contact.List) {
	t.Helper()
	sc, err := f.svc.CreateSchema(ctx, contact.SchemaInput{Name: name, Fields: []contact.Field{
		{Name: "crmKey", Type: contact.TypeKey},
		{Name: "name", Type: contact.TypeText},
		{Name: "phone", Type: contact.TypePhone},
		{Name: "mobile", Type: contact.TypePhone},
		{Name: "email", Type: contact.TypeEmail},
		{Name: "notes", Type: contact.TypeText},
	}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := f.svc.CreateList(ctx, contact.ListInput{Name: "Base " + name, SchemaID: sc.ID})
	if err != nil {
		t.Fatal(err)
	}
	return sc, l
}

func (f *fixture) seed(t *testing.T, listID string, rec crm.Record) crm.Record {
	t.Helper()
	in := contact.ContactInput{Data: map[string]string{"name": rec.Name}}
	if len(rec.Phones) > 0 {
		in.Data["phone"] = rec.Phones[0]
	}
	if len(rec.Phones) > 1 {
		in.Data["mobile"] = rec.Phones[1]
	}
	for k, v := range rec.Fields {
		in.Data[k] = v
	}
	if in.Data["crmKey"] == "" {
		in.Key = uuid.NewString()
	}
	ct, err := f.svc.CreateContact(ctx, listID, in)
	if err != nil {
		t.Fatalf("seed %+v: %v", rec, err)
	}
	rec.ID = ct.ID
	return rec
}

func TestContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "Clientes")
		crmtest.Run(t, crmtest.Harness{
			Connector: f.conn,
			Seed:      func(t *testing.T, rec crm.Record) crm.Record { return f.seed(t, f.list.ID, rec) },
			Activities: func(t *testing.T) []crm.Activity {
				as, err := f.conn.Activities(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				return as
			},
			VoiceCallRecords: func(t *testing.T) []crm.VoiceCall {
				as, err := f.conn.VoiceCalls(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				var out []crm.VoiceCall
				for _, a := range as {
					out = append(out, crm.VoiceCall{CallID: a.CallID, Disposition: a.Disposition, RelatedRecordID: a.RecordID})
				}
				return out
			},
			Types:                []string{crm.TypeContact},
			NameFields:           func(name string) map[string]string { return map[string]string{"name": name} },
			PhoneField:           "phone",
			UpdateField:          "notes",
			KeyField:             "crmKey",
			ExternalIDField:      "crmKey",
			UnknownID:            func(string) string { return uuid.NewString() },
			VoiceCalls:           true,
			RejectsUnknownFields: true,
			FormattedPhones:      true,
		})
	})
}

func TestScopeUpsertAndRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "Clientes")
		_, other := f.schemaAndList(t, "Otros")
		outside := f.seed(t, other.ID, crm.Record{Name: "Outside", Phones: []string{"+34911000020"}})
		inside := f.seed(t, f.list.ID, crm.Record{Name: "Inside", Phones: []string{"+34911000020"}})
		got, err := f.conn.Search(ctx, crm.Query{Phone: "911 00 00 20"}) // national form
		if err != nil || len(got) != 1 || got[0].ID != inside.ID || got[0].Fields["listId"] != f.list.ID {
			t.Errorf("Search = %+v, %v; want only the contact of the schema's list", got, err)
		}
		if _, err := f.conn.Get(ctx, crm.TypeContact, outside.ID); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("Get(other schema) err = %v, want ErrNotFound", err)
		}
		all := builtin.New(db, f.svc, builtin.Config{ListID: f.list.ID})
		if got, err := all.Search(ctx, crm.Query{Phone: "+34911000020"}); err != nil || len(got) != 2 {
			t.Errorf("Search without schema = %d, %v; want 2", len(got), err)
		}
		if got, err := f.conn.Search(ctx, crm.Query{Phone: "+34911000020", Types: []string{crm.TypeAccount}}); err != nil || len(got) != 0 {
			t.Errorf("Search(Account) = %+v, %v", got, err)
		}

		// neoSyncId is the key.
		id, created, err := f.conn.Upsert(ctx, crm.TypeContact, "neoSyncId", "SF-001", map[string]string{"name": "Synced", "email": "s@example.com"})
		if err != nil || !created {
			t.Fatalf("Upsert = %s %v %v", id, created, err)
		}
		id2, created, err := f.conn.Upsert(ctx, crm.TypeContact, "neoSyncId", "SF-001", map[string]string{"notes": "vip"})
		if err != nil || created || id2 != id {
			t.Fatalf("Upsert again = %s %v %v", id2, created, err)
		}
		r, err := f.conn.Get(ctx, crm.TypeContact, id)
		if err != nil || r.Fields["crmKey"] != "SF-001" || r.Fields["email"] != "s@example.com" || r.Fields["notes"] != "vip" || r.Name != "Synced" {
			t.Errorf("Get = %+v, %v", r, err)
		}
		// By another field: email.
		got, err = f.conn.Search(ctx, crm.Query{Field: "email", Value: "s@example.com"})
		if err != nil || len(got) != 1 || got[0].ID != id {
			t.Errorf("Search(email) = %+v, %v", got, err)
		}
		if _, err := f.conn.Create(ctx, crm.TypeLead, map[string]string{"name": "x"}); !errors.Is(err, crm.ErrRejected) {
			t.Errorf("Create(Lead) err = %v", err)
		}

		// Activities survive a restart.
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		a := crm.Activity{CallID: "conv-1", RecordType: crm.TypeContact, RecordID: id, Subject: "Inbound", Direction: "inbound",
			DurationSeconds: 30, Start: start, End: start.Add(30 * time.Second), Disposition: "Venta / Cerrada", Description: "ok"}
		if got, err := f.conn.LogActivity(ctx, a); err != nil || got != "conv-1" {
			t.Fatalf("LogActivity = %s, %v", got, err)
		}
		again := storetest.Reopen(t, db)
		restarted := builtin.New(again, contact.New(again, outbox.New(again, nil, clock.Real{}, slog.New(slog.NewTextHandler(io.Discard, nil))), clock.Real{}), builtin.Config{ListID: f.list.ID})
		as, err := restarted.Activities(ctx, id)
		if err != nil || len(as) != 1 || as[0].Disposition != "Venta / Cerrada" || !as[0].Start.Equal(start) || as[0].RecordType != crm.TypeContact {
			t.Errorf("after restart: %+v, %v", as, err)
		}
		us, err := f.conn.Users(ctx)
		if err != nil || len(us) != 0 {
			t.Errorf("Users = %+v, %v", us, err)
		}

		// A database that cannot be reached is ErrUnavailable.
		again.Close()
		if _, err := restarted.Search(ctx, crm.Query{Phone: "+34911000020"}); !errors.Is(err, crm.ErrUnavailable) {
			t.Errorf("closed db: Search err = %v, want ErrUnavailable", err)
		}
		if _, err := restarted.LogActivity(ctx, a); !errors.Is(err, crm.ErrUnavailable) {
			t.Errorf("closed db: LogActivity err = %v, want ErrUnavailable", err)
		}
	})
}
