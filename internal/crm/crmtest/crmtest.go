// Package crmtest is the contract suite every crm.Connector passes, run
// against the connector's emulator (or, for the built-in connector, its
// store). A connector's test builds a Harness — the connector plus hooks
// into the backing store — and calls Run:
//
//	func TestContract(t *testing.T) {
//		emu := sfemu.New()
//		t.Cleanup(emu.Close)
//		crmtest.Run(t, crmtest.Harness{
//			Connector: salesforce.New(cfg, emu.Client()),
//			Seed:      func(t *testing.T, r crm.Record) crm.Record { ... },
//			SetDown:   emu.SetDown,
//			Activities: func(t *testing.T) []crm.Activity { ... },
//			Types:     []string{crm.TypeContact, crm.TypeAccount, crm.TypeLead},
//			...
//		})
//	}
//
// The cases share one backend: each case uses its own phone numbers, names
// and call ids, so the order of the cases does not matter and records left
// by one case never match another's searches. The "down" case runs last and
// brings the backend back up.
package crmtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/crm"
)

// Harness is a connector under test and the hooks into its backend.
type Harness struct {
	// Connector is the connector under test, talking to the backend.
	Connector crm.Connector

	// Seed puts rec into the backend directly (not through the
	// connector) and returns it with its ID (and Name as the connector will
	// report it, when the backend derives it). rec.Type is one of Types;
	// rec.Name is the display name; rec.Phones the phone numbers as stored
	// (the first goes to the main phone field, the second, if any, to the
	// mobile/second one); rec.Fields extra fields by the backend's own names
	// (KeyField, ExternalIDField, UpdateField).
	Seed func(t *testing.T, rec crm.Record) crm.Record

	// SetDown makes the backend unavailable (true) or available again.
	SetDown func(down bool)

	// Activities returns the activities the backend holds (every one,
	// including those of other cases), mapped back onto crm.Activity: at
	// least CallID and Disposition must be filled. Used to prove that
	// logging the same CallID twice leaves exactly one activity.
	Activities func(t *testing.T) []crm.Activity

	// VoiceCallRecords returns the voice-call records the backend holds
	// (at least CallID and Disposition filled). Optional: nil skips the
	// exactly-once check of CreateVoiceCall (the same-id check still runs).
	VoiceCallRecords func(t *testing.T) []crm.VoiceCall

	// SeedUser adds a CRM user directly to the backend and returns it with
	// its ID. Optional: nil only checks that Users answers.
	SeedUser func(t *testing.T, u crm.User) crm.User

	// Types are the record types the backend supports and that Search
	// covers by default (crm.TypeContact, ...). At least one; the first is
	// the type Create/Update/Upsert cases use unless CreateType is set.
	Types []string

	// CreateType is the record type the Create/Update/Upsert cases use
	// ("" = Types[0]).
	CreateType string

	// NameFields returns the fields (backend names) that give a new record
	// of CreateType the display name name, e.g. Salesforce Contact
	// {"LastName": name}, Dynamics contact {"lastname": name}.
	NameFields func(name string) map[string]string

	// PhoneField is CreateType's main phone field ("Phone", "telephone1",
	// "phone"): Create with it must make the record findable by phone.
	PhoneField string

	// UpdateField is a free-text field of CreateType that Update can set
	// and Get returns in Record.Fields ("Title", "jobtitle", "notes").
	UpdateField string

	// KeyField is a field of CreateType searchable by exact value with
	// Query.Field ("Email", "emailaddress1", "email"); Seed stores it from
	// rec.Fields.
	KeyField string

	// ExternalIDField is CreateType's external-id field for Upsert
	// ("neoSyncId__c" in Salesforce).
	ExternalIDField string

	// UnknownID returns an id of type typ that does not exist (nil = a
	// fixed well-formed-looking id "000000000000000AAA").
	UnknownID func(typ string) string

	// Capabilities.

	// VoiceCalls: the backend supports CreateVoiceCall (else the case is
	// skipped).
	VoiceCalls bool
	// MultipleExternalIDs: Seed can store two records with the same
	// ExternalIDField value, and Upsert on it must answer crm.ErrMultiple.
	MultipleExternalIDs bool
	// RejectsUnknownFields: creating a record with a field the backend does
	// not know answers crm.ErrRejected (else the case is skipped).
	RejectsUnknownFields bool
	// UnknownField is the field name used for that case ("" =
	// "noSuchField__zz").
	UnknownField string
	// FormattedPhones: numbers stored with formatting ("+34 915 55 01 02",
	// "(415) 555-1212") or without the country code are found by searching
	// the E.164 form.
	FormattedPhones bool
}

var (
	seq  atomic.Int64
	base = time.Now().UnixNano() % 1_000_000 * 10 // differs between runs against a kept backend
)

// uniq returns a number unique within the process (for 10⁷ calls), so the
// cases of several Run calls against one backend do not collide.
func uniq() int64 { return base + seq.Add(1) }

// phone returns a fresh Spanish E.164 number (+3491 + 7 digits).
func phone() string { return fmt.Sprintf("+3491%07d", uniq()%10000000) }

// Run runs the contract suite against h.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Connector == nil || h.Seed == nil || len(h.Types) == 0 {
		t.Fatal("crmtest: Harness needs Connector, Seed and Types")
	}
	if h.CreateType == "" {
		h.CreateType = h.Types[0]
	}
	if h.UnknownID == nil {
		h.UnknownID = func(string) string { return "000000000000000AAA" }
	}
	if h.UnknownField == "" {
		h.UnknownField = "noSuchField__zz"
	}
	r := runner{h: h}
	t.Run("SearchPhone", r.searchPhone)
	t.Run("SearchPhoneFormats", r.searchPhoneFormats)
	t.Run("SearchPhoneTypes", r.searchPhoneTypes)
	t.Run("SearchKey", r.searchKey)
	t.Run("SearchID", r.searchID)
	t.Run("SearchNoMatch", r.searchNoMatch)
	t.Run("SearchSeveralTypes", r.searchSeveralTypes)
	t.Run("Get", r.get)
	t.Run("GetUnknown", r.getUnknown)
	t.Run("CreateGet", r.createGet)
	t.Run("Update", r.update)
	t.Run("Upsert", r.upsert)
	t.Run("UpsertMultiple", r.upsertMultiple)
	t.Run("LogActivityOnce", r.logActivity)
	t.Run("VoiceCallOnce", r.voiceCall)
	t.Run("Users", r.users)
	t.Run("Rejected", r.rejected)
	t.Run("Down", r.down)
}

type runner struct{ h Harness }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func (r runner) seed(t *testing.T, typ, name string, phones []string, fields map[string]string) crm.Record {
	t.Helper()
	rec := r.h.Seed(t, crm.Record{Type: typ, Name: name, Phones: phones, Fields: fields})
	if rec.ID == "" {
		t.Fatalf("Seed(%s %q) returned no id", typ, name)
	}
	if rec.Type == "" {
		rec.Type = typ
	}
	return rec
}

func digits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func findID(recs []crm.Record, id string) (crm.Record, bool) {
	for _, rec := range recs {
		if rec.ID == id {
			return rec, true
		}
	}
	return crm.Record{}, false
}

func describe(recs []crm.Record) string {
	var parts []string
	for _, r := range recs {
		parts = append(parts, fmt.Sprintf("%s/%s %q %v", r.Type, r.ID, r.Name, r.Phones))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// searchPhone: a record stored with the E.164 number is found by it, with
// its type, name and phones; a record with another number is not.
func (r runner) searchPhone(t *testing.T) {
	typ := r.h.Types[0]
	p := phone()
	name := fmt.Sprintf("Phone Person %d", uniq())
	want := r.seed(t, typ, name, []string{p}, nil)
	other := r.seed(t, typ, "Other Person", []string{phone()}, nil)
	got, err := r.h.Connector.Search(ctx(t), crm.Query{Phone: p, Types: []string{typ}})
	if err != nil {
		t.Fatalf("Search(phone %s): %v", p, err)
	}
	rec, ok := findID(got, want.ID)
	if !ok {
		t.Fatalf("Search(phone %s) = %s, want %s", p, describe(got), want.ID)
	}
	if _, bad := findID(got, other.ID); bad {
		t.Errorf("Search(phone %s) also returned the record of another number: %s", p, describe(got))
	}
	if len(got) != 1 {
		t.Errorf("Search(phone %s) = %d records %s, want 1", p, len(got), describe(got))
	}
	if rec.Type != typ {
		t.Errorf("Type = %q, want %q", rec.Type, typ)
	}
	if rec.Name != want.Name {
		t.Errorf("Name = %q, want %q", rec.Name, want.Name)
	}
	if !slices.ContainsFunc(rec.Phones, func(s string) bool { return strings.HasSuffix(digits(s), digits(p)[4:]) }) {
		t.Errorf("Phones = %v, want one holding %s", rec.Phones, p)
	}
	// Default types (empty Query.Types) include Types[0].
	got, err = r.h.Connector.Search(ctx(t), crm.Query{Phone: p})
	if err != nil {
		t.Fatalf("Search(phone %s, default types): %v", p, err)
	}
	if _, ok := findID(got, want.ID); !ok {
		t.Errorf("Search(phone %s, default types) = %s, want %s", p, describe(got), want.ID)
	}
}

// searchPhoneFormats: numbers stored with formatting are found by E.164.
func (r runner) searchPhoneFormats(t *testing.T) {
	if !r.h.FormattedPhones {
		t.Skip("backend does not match formatted phone numbers")
	}
	typ := r.h.Types[0]
	for _, format := range []func(d string) string{
		func(d string) string { return "+34 " + d[2:5] + " " + d[5:7] + " " + d[7:9] + " " + d[9:] }, // +34 915 55 01 02
		func(d string) string { return "(+34) " + d[2:5] + "-" + d[5:] },
		func(d string) string { return "0034" + d[2:] },
	} {
		p := phone()
		stored := format(digits(p))
		want := r.seed(t, typ, "Formatted "+stored, []string{stored}, nil)
		got, err := r.h.Connector.Search(ctx(t), crm.Query{Phone: p, Types: []string{typ}})
		if err != nil {
			t.Fatalf("Search(phone %s): %v", p, err)
		}
		if _, ok := findID(got, want.ID); !ok {
			t.Errorf("stored %q: Search(phone %s) = %s, want %s", stored, p, describe(got), want.ID)
		}
	}
}

// searchPhoneTypes: the second (mobile) phone is searched too, and Types
// restricts the search.
func (r runner) searchPhoneTypes(t *testing.T) {
	typ := r.h.Types[0]
	p := phone()
	want := r.seed(t, typ, "Mobile Person", []string{phone(), p}, nil)
	got, err := r.h.Connector.Search(ctx(t), crm.Query{Phone: p, Types: []string{typ}})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if _, ok := findID(got, want.ID); !ok {
		t.Errorf("second phone: Search(phone %s) = %s, want %s", p, describe(got), want.ID)
	}
	if len(r.h.Types) < 2 {
		return
	}
	got, err = r.h.Connector.Search(ctx(t), crm.Query{Phone: p, Types: []string{r.h.Types[1]}})
	if err != nil {
		t.Fatalf("Search(types %v): %v", r.h.Types[1:2], err)
	}
	if len(got) != 0 {
		t.Errorf("Search(phone, types %v) = %s, want none (the match is a %s)", r.h.Types[1:2], describe(got), typ)
	}
}

// searchKey: search by KeyField's exact value, including one with a quote.
func (r runner) searchKey(t *testing.T) {
	if r.h.KeyField == "" {
		t.Skip("no KeyField")
	}
	typ := r.h.CreateType
	for _, v := range []string{
		fmt.Sprintf("key%d@example.com", uniq()),
		fmt.Sprintf("o'key%d@example.com", uniq()), // a quote: escaped, not injected
	} {
		want := r.seed(t, typ, "Key Person", []string{phone()}, map[string]string{r.h.KeyField: v})
		r.seed(t, typ, "Near Miss", []string{phone()}, map[string]string{r.h.KeyField: "x" + v})
		got, err := r.h.Connector.Search(ctx(t), crm.Query{Field: r.h.KeyField, Value: v, Types: []string{typ}})
		if err != nil {
			t.Fatalf("Search(%s = %q): %v", r.h.KeyField, v, err)
		}
		if len(got) != 1 || got[0].ID != want.ID {
			t.Errorf("Search(%s = %q) = %s, want exactly %s", r.h.KeyField, v, describe(got), want.ID)
		}
	}
}

// searchID: Query{Field: "Id"} finds the record by id.
func (r runner) searchID(t *testing.T) {
	typ := r.h.CreateType
	want := r.seed(t, typ, "Id Person", []string{phone()}, nil)
	got, err := r.h.Connector.Search(ctx(t), crm.Query{Field: "Id", Value: want.ID, Types: []string{typ}})
	if err != nil {
		t.Fatalf("Search(Id = %s): %v", want.ID, err)
	}
	if len(got) != 1 || got[0].ID != want.ID || got[0].Type != typ {
		t.Errorf("Search(Id = %s) = %s, want exactly it", want.ID, describe(got))
	}
}

// searchNoMatch: no match is an empty result, not an error.
func (r runner) searchNoMatch(t *testing.T) {
	got, err := r.h.Connector.Search(ctx(t), crm.Query{Phone: phone()})
	if err != nil {
		t.Fatalf("Search(unknown phone): %v", err)
	}
	if len(got) != 0 {
		t.Errorf("Search(unknown phone) = %s, want none", describe(got))
	}
	if r.h.KeyField != "" {
		got, err = r.h.Connector.Search(ctx(t), crm.Query{Field: r.h.KeyField, Value: fmt.Sprintf("nobody%d@example.com", uniq()), Types: []string{r.h.CreateType}})
		if err != nil {
			t.Fatalf("Search(unknown key): %v", err)
		}
		if len(got) != 0 {
			t.Errorf("Search(unknown key) = %s, want none", describe(got))
		}
	}
}

// searchSeveralTypes: one number on records of every type, two of the first
// type: all come back, each with its own type.
func (r runner) searchSeveralTypes(t *testing.T) {
	p := phone()
	want := map[string]string{} // id → type
	for i, typ := range r.h.Types {
		rec := r.seed(t, typ, fmt.Sprintf("Multi %s %d", typ, i), []string{p}, nil)
		want[rec.ID] = typ
	}
	extra := r.seed(t, r.h.Types[0], "Multi twin", []string{p}, nil)
	want[extra.ID] = r.h.Types[0]
	got, err := r.h.Connector.Search(ctx(t), crm.Query{Phone: p, Types: r.h.Types})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("Search(phone %s) = %d records %s, want %d", p, len(got), describe(got), len(want))
	}
	for id, typ := range want {
		rec, ok := findID(got, id)
		if !ok {
			t.Errorf("missing %s %s in %s", typ, id, describe(got))
			continue
		}
		if rec.Type != typ {
			t.Errorf("record %s: Type = %q, want %q", id, rec.Type, typ)
		}
	}
	// Limit caps the result.
	got, err = r.h.Connector.Search(ctx(t), crm.Query{Phone: p, Types: r.h.Types, Limit: 1})
	if err != nil {
		t.Fatalf("Search(limit 1): %v", err)
	}
	if len(got) != 1 {
		t.Errorf("Search(limit 1) = %d records, want 1", len(got))
	}
}

// get reads a seeded record of every type.
func (r runner) get(t *testing.T) {
	for _, typ := range r.h.Types {
		p := phone()
		want := r.seed(t, typ, "Get "+typ, []string{p}, nil)
		got, err := r.h.Connector.Get(ctx(t), typ, want.ID)
		if err != nil {
			t.Fatalf("Get(%s, %s): %v", typ, want.ID, err)
		}
		if got.ID != want.ID || got.Type != typ || got.Name != want.Name {
			t.Errorf("Get(%s, %s) = %s/%s %q, want %s/%s %q", typ, want.ID, got.Type, got.ID, got.Name, typ, want.ID, want.Name)
		}
	}
}

func (r runner) getUnknown(t *testing.T) {
	typ := r.h.CreateType
	_, err := r.h.Connector.Get(ctx(t), typ, r.h.UnknownID(typ))
	if !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("Get(unknown) err = %v, want ErrNotFound", err)
	}
}

func (r runner) newFields(name, p string) map[string]string {
	f := map[string]string{}
	if r.h.NameFields != nil {
		for k, v := range r.h.NameFields(name) {
			f[k] = v
		}
	}
	if r.h.PhoneField != "" && p != "" {
		f[r.h.PhoneField] = p
	}
	return f
}

// createGet: Create returns an id; Get reads the record back; the phone
// search finds it.
func (r runner) createGet(t *testing.T) {
	if r.h.NameFields == nil {
		t.Skip("no NameFields")
	}
	typ := r.h.CreateType
	name := fmt.Sprintf("Created %d", uniq())
	p := phone()
	id, err := r.h.Connector.Create(ctx(t), typ, r.newFields(name, p))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id == "" {
		t.Fatal("Create returned no id")
	}
	got, err := r.h.Connector.Get(ctx(t), typ, id)
	if err != nil {
		t.Fatalf("Get(created %s): %v", id, err)
	}
	if got.ID != id || got.Type != typ || got.Name != name {
		t.Errorf("Get(created) = %s/%s %q, want %s/%s %q", got.Type, got.ID, got.Name, typ, id, name)
	}
	if r.h.PhoneField != "" {
		found, err := r.h.Connector.Search(ctx(t), crm.Query{Phone: p, Types: []string{typ}})
		if err != nil {
			t.Fatalf("Search(created phone): %v", err)
		}
		if _, ok := findID(found, id); !ok {
			t.Errorf("Search(phone %s) = %s, want the created %s", p, describe(found), id)
		}
	}
}

// update changes a field; Get sees it.
func (r runner) update(t *testing.T) {
	if r.h.UpdateField == "" {
		t.Skip("no UpdateField")
	}
	typ := r.h.CreateType
	rec := r.seed(t, typ, "Update Person", []string{phone()}, nil)
	v := fmt.Sprintf("updated %d", uniq())
	if err := r.h.Connector.Update(ctx(t), typ, rec.ID, map[string]string{r.h.UpdateField: v}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, err := r.h.Connector.Get(ctx(t), typ, rec.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Fields[r.h.UpdateField] != v {
		t.Errorf("after Update, Fields[%s] = %q, want %q", r.h.UpdateField, got.Fields[r.h.UpdateField], v)
	}
	err = r.h.Connector.Update(ctx(t), typ, r.h.UnknownID(typ), map[string]string{r.h.UpdateField: v})
	if !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("Update(unknown id) err = %v, want ErrNotFound", err)
	}
}

// upsert: the first call creates, the second updates the same record.
func (r runner) upsert(t *testing.T) {
	if r.h.ExternalIDField == "" || r.h.NameFields == nil {
		t.Skip("no ExternalIDField/NameFields")
	}
	typ := r.h.CreateType
	ext := fmt.Sprintf("sync-%d", uniq())
	name := "Upserted " + ext
	id1, created, err := r.h.Connector.Upsert(ctx(t), typ, r.h.ExternalIDField, ext, r.newFields(name, phone()))
	if err != nil {
		t.Fatalf("Upsert (new): %v", err)
	}
	if !created || id1 == "" {
		t.Errorf("Upsert (new) = %q, created %v; want an id, created", id1, created)
	}
	fields := r.newFields(name, "")
	if r.h.UpdateField != "" {
		fields[r.h.UpdateField] = "second pass"
	}
	id2, created, err := r.h.Connector.Upsert(ctx(t), typ, r.h.ExternalIDField, ext, fields)
	if err != nil {
		t.Fatalf("Upsert (existing): %v", err)
	}
	if created || id2 != id1 {
		t.Errorf("Upsert (existing) = %q, created %v; want %q, not created", id2, created, id1)
	}
	got, err := r.h.Connector.Get(ctx(t), typ, id1)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Name != name {
		t.Errorf("Name = %q, want %q", got.Name, name)
	}
	if r.h.UpdateField != "" && got.Fields[r.h.UpdateField] != "second pass" {
		t.Errorf("Fields[%s] = %q, want the upserted %q", r.h.UpdateField, got.Fields[r.h.UpdateField], "second pass")
	}
	if got.Fields[r.h.ExternalIDField] != "" && got.Fields[r.h.ExternalIDField] != ext {
		t.Errorf("Fields[%s] = %q, want %q", r.h.ExternalIDField, got.Fields[r.h.ExternalIDField], ext)
	}
}

func (r runner) upsertMultiple(t *testing.T) {
	if !r.h.MultipleExternalIDs || r.h.ExternalIDField == "" {
		t.Skip("backend cannot hold two records with one external id")
	}
	typ := r.h.CreateType
	ext := fmt.Sprintf("dup-%d", uniq())
	r.seed(t, typ, "Dup One", []string{phone()}, map[string]string{r.h.ExternalIDField: ext})
	r.seed(t, typ, "Dup Two", []string{phone()}, map[string]string{r.h.ExternalIDField: ext})
	_, _, err := r.h.Connector.Upsert(ctx(t), typ, r.h.ExternalIDField, ext, r.newFields("Dup Three", ""))
	if !errors.Is(err, crm.ErrMultiple) {
		t.Errorf("Upsert(shared external id) err = %v, want ErrMultiple", err)
	}
}

// logActivity: the same CallID twice → one activity, with the later
// fields (the disposition added after the call).
func (r runner) logActivity(t *testing.T) {
	if r.h.Activities == nil {
		t.Skip("no Activities hook")
	}
	typ := r.h.Types[0]
	who := r.seed(t, typ, "Caller", []string{phone()}, nil)
	callID := fmt.Sprintf("conv-%d", uniq())
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	a := crm.Activity{
		CallID: callID, RecordType: typ, RecordID: who.ID,
		Subject: "Inbound call", Direction: "inbound",
		DurationSeconds: 95, Start: start, End: start.Add(95 * time.Second),
		Phone: who.Phones[0],
	}
	id1, err := r.h.Connector.LogActivity(ctx(t), a)
	if err != nil {
		t.Fatalf("LogActivity (first): %v", err)
	}
	if id1 == "" {
		t.Fatal("LogActivity returned no id")
	}
	a.Disposition = "Sale / Upsell"
	a.Description = "customer wants the premium plan"
	id2, err := r.h.Connector.LogActivity(ctx(t), a)
	if err != nil {
		t.Fatalf("LogActivity (second): %v", err)
	}
	if id2 != id1 {
		t.Errorf("LogActivity (second) id = %q, want the first %q", id2, id1)
	}
	var mine []crm.Activity
	for _, x := range r.h.Activities(t) {
		if x.CallID == callID {
			mine = append(mine, x)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("activities with CallID %s = %d, want exactly 1: %+v", callID, len(mine), mine)
	}
	if mine[0].Disposition != a.Disposition {
		t.Errorf("Disposition = %q, want the later %q", mine[0].Disposition, a.Disposition)
	}
	// A different call is a different activity.
	b := a
	b.CallID = callID + "-b"
	id3, err := r.h.Connector.LogActivity(ctx(t), b)
	if err != nil {
		t.Fatalf("LogActivity (other call): %v", err)
	}
	if id3 == id1 {
		t.Errorf("another CallID got the same activity id %q", id1)
	}
}

func (r runner) voiceCall(t *testing.T) {
	if !r.h.VoiceCalls {
		t.Skip("backend has no voice-call records")
	}
	typ := r.h.Types[0]
	who := r.seed(t, typ, "Voice Caller", []string{phone()}, nil)
	callID := fmt.Sprintf("vc-%d", uniq())
	start := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	v := crm.VoiceCall{
		CallID: callID, RelatedRecordID: who.ID, From: who.Phones[0], To: "+34910000000",
		Direction: "inbound", Start: start, End: start.Add(30 * time.Second), DurationSeconds: 30,
	}
	id1, err := r.h.Connector.CreateVoiceCall(ctx(t), v)
	if err != nil {
		t.Fatalf("CreateVoiceCall (first): %v", err)
	}
	if id1 == "" {
		t.Fatal("CreateVoiceCall returned no id")
	}
	v.Disposition = "completed"
	id2, err := r.h.Connector.CreateVoiceCall(ctx(t), v)
	if err != nil {
		t.Fatalf("CreateVoiceCall (second): %v", err)
	}
	if id2 != id1 {
		t.Errorf("CreateVoiceCall (second) id = %q, want %q", id2, id1)
	}
	if r.h.VoiceCallRecords == nil {
		return
	}
	var mine []crm.VoiceCall
	for _, x := range r.h.VoiceCallRecords(t) {
		if x.CallID == callID {
			mine = append(mine, x)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("voice calls with CallID %s = %d, want 1", callID, len(mine))
	}
	if mine[0].Disposition != "completed" {
		t.Errorf("Disposition = %q, want %q", mine[0].Disposition, "completed")
	}
}

func (r runner) users(t *testing.T) {
	var want crm.User
	if r.h.SeedUser != nil {
		want = r.h.SeedUser(t, crm.User{Name: fmt.Sprintf("Agent %d", uniq()), Email: fmt.Sprintf("agent%d@example.com", uniq())})
	}
	got, err := r.h.Connector.Users(ctx(t))
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if r.h.SeedUser == nil {
		return
	}
	i := slices.IndexFunc(got, func(u crm.User) bool { return u.ID == want.ID })
	if i < 0 {
		t.Fatalf("Users() = %+v, want %+v among them", got, want)
	}
	if got[i].Name != want.Name || got[i].Email != want.Email {
		t.Errorf("user = %+v, want %+v", got[i], want)
	}
}

func (r runner) rejected(t *testing.T) {
	if !r.h.RejectsUnknownFields || r.h.NameFields == nil {
		t.Skip("backend accepts unknown fields")
	}
	f := r.newFields("Rejected", phone())
	f[r.h.UnknownField] = "x"
	_, err := r.h.Connector.Create(ctx(t), r.h.CreateType, f)
	if !errors.Is(err, crm.ErrRejected) {
		t.Fatalf("Create(unknown field %s) err = %v, want ErrRejected", r.h.UnknownField, err)
	}
	if errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("a rejected request must not be ErrUnavailable (it would be retried): %v", err)
	}
	if !strings.Contains(err.Error(), r.h.UnknownField) && !strings.Contains(strings.ToLower(err.Error()), "field") {
		t.Errorf("the error should say why (the field): %v", err)
	}
}

// down: every operation answers ErrUnavailable while the backend is down,
// and works again once it is back.
func (r runner) down(t *testing.T) {
	if r.h.SetDown == nil {
		t.Skip("no SetDown")
	}
	rec := r.seed(t, r.h.CreateType, "Down Person", []string{phone()}, nil)
	r.h.SetDown(true)
	t.Cleanup(func() { r.h.SetDown(false) })
	c := r.h.Connector
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, crm.ErrUnavailable) {
			t.Errorf("%s while down: err = %v, want ErrUnavailable", op, err)
		}
	}
	_, err := c.Search(ctx(t), crm.Query{Phone: rec.Phones[0]})
	check("Search", err)
	_, err = c.Get(ctx(t), rec.Type, rec.ID)
	check("Get", err)
	_, err = c.Create(ctx(t), r.h.CreateType, r.newFields("Down New", phone()))
	check("Create", err)
	if r.h.UpdateField != "" {
		check("Update", c.Update(ctx(t), rec.Type, rec.ID, map[string]string{r.h.UpdateField: "x"}))
	}
	_, err = c.LogActivity(ctx(t), crm.Activity{CallID: fmt.Sprintf("down-%d", uniq()), Subject: "x", Direction: "inbound"})
	check("LogActivity", err)
	_, err = c.Users(ctx(t))
	check("Users", err)
	r.h.SetDown(false)
	if _, err := c.Get(ctx(t), rec.Type, rec.ID); err != nil {
		t.Errorf("Get after the backend is back: %v", err)
	}
}
