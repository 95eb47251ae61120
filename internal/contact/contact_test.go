package contact_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

var ctx = context.Background()

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

type fixture struct {
	db  *store.DB
	clk *clock.Fake
	svc *contact.Service
}

func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	clk := clock.NewFake(t0)
	ob := outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &fixture{db: db, clk: clk, svc: contact.New(db, ob, clk)}
}

// clientes is the doc's example schema plus an email field.
func clientes(name, matchBy string) contact.SchemaInput {
	return contact.SchemaInput{
		Name: name, MatchBy: matchBy,
		Fields: []contact.Field{
			{Name: "crmKey", Label: "Salesforce Id", Type: contact.TypeKey},
			{Name: "firstName", Label: "Nombre", Type: contact.TypeText},
			{Name: "phone", Label: "Teléfono", Type: contact.TypePhone},
			{Name: "mobile", Label: "Móvil", Type: contact.TypePhone},
			{Name: "balance", Label: "Saldo", Type: contact.TypeNumber},
			{Name: "due", Label: "Vencimiento", Type: contact.TypeDate},
			{Name: "email", Type: contact.TypeEmail},
		},
		Dispositions: []contact.Disposition{
			{Name: "Venta", Subcategories: []contact.Subcategory{{Name: "Cerrada", Outcome: "final"}, {Name: "Volver a llamar", Outcome: "callback"}}},
			{Name: "No contactado", Subcategories: []contact.Subcategory{{Name: "Buzón", Outcome: "retry"}, {Name: "No llamar", Outcome: "dnc"}}},
		},
	}
}

func (f *fixture) schemaAndList(t testing.TB, name, matchBy string) (contact.Schema, contact.List) {
	t.Helper()
	sc, err := f.svc.CreateSchema(ctx, clientes(name, matchBy))
	if err != nil {
		t.Fatal(err)
	}
	l, err := f.svc.CreateList(ctx, contact.ListInput{Name: "Base " + name, SchemaID: sc.ID})
	if err != nil {
		t.Fatal(err)
	}
	return sc, l
}

// fields lists the fields the problems in err name, sorted.
func fields(err error) []string {
	var out []string
	for _, p := range problem.All(err) {
		out = append(out, p.Field)
	}
	slices.Sort(out)
	return out
}

func wantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := fields(err); !slices.Equal(got, want) {
		t.Errorf("problem fields %q, want %q (err: %v)", got, want, err)
	}
}

func wantCode(t *testing.T, err error, kind problem.Kind, code string) {
	t.Helper()
	ps := problem.All(err)
	if len(ps) == 0 || ps[0].Kind != kind || ps[0].Code != code {
		t.Errorf("got %v, want a problem of kind %d code %q", err, kind, code)
	}
}

// topics reads the outbox topics written so far, in order.
func topics(t testing.TB, db *store.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, `SELECT topic FROM outbox ORDER BY created_at, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func TestSchemaValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		cases := []struct {
			name   string
			change func(in *contact.SchemaInput)
			fields []string
		}{
			{"no name", func(in *contact.SchemaInput) { in.Name = " " }, []string{"name"}},
			{"bad matchBy", func(in *contact.SchemaInput) { in.MatchBy = "email" }, []string{"matchBy"}},
			{"bad type", func(in *contact.SchemaInput) { in.Fields[2].Type = "telefono" }, []string{"fields[2].type"}},
			{"bad name", func(in *contact.SchemaInput) { in.Fields[1].Name = "1st" }, []string{"fields[1].name"}},
			{"duplicate name", func(in *contact.SchemaInput) { in.Fields[3].Name = "PHONE" }, []string{"fields[3].name"}},
			{"label clashes", func(in *contact.SchemaInput) { in.Fields[4].Label = "nombre" }, []string{"fields[4].label"}},
			{"reserved", func(in *contact.SchemaInput) { in.Fields[1].Name = "status" }, []string{"fields[1].name"}},
			{"two keys", func(in *contact.SchemaInput) { in.Fields[1].Type = contact.TypeKey }, []string{"fields[1].type"}},
			{"no key", func(in *contact.SchemaInput) { in.Fields[0].Type = contact.TypeText }, []string{"fields"}},
			{"no phone", func(in *contact.SchemaInput) {
				in.Fields[2].Type, in.Fields[3].Type = contact.TypeText, contact.TypeText
			}, []string{"fields"}},
			{"too many fields", func(in *contact.SchemaInput) {
				for i := 0; i < 100; i++ {
					in.Fields = append(in.Fields, contact.Field{Name: fmt.Sprintf("f%d", i), Type: "text"})
				}
			}, []string{"fields"}},
			{"bad outcome", func(in *contact.SchemaInput) { in.Dispositions[0].Subcategories[1].Outcome = "later" },
				[]string{"dispositions[0].subcategories[1].outcome"}},
			{"duplicate category", func(in *contact.SchemaInput) { in.Dispositions[1].Name = "venta" }, []string{"dispositions[1].name"}},
			{"duplicate subcategory", func(in *contact.SchemaInput) { in.Dispositions[1].Subcategories[1].Name = "BUZÓN" },
				[]string{"dispositions[1].subcategories[1].name"}},
			{"bad id", func(in *contact.SchemaInput) { in.Dispositions[0].ID = "x" }, []string{"dispositions[0].id"}},
			{"repeated id", func(in *contact.SchemaInput) {
				in.Dispositions[0].ID = "00000000-0000-4000-8000-000000000001"
				in.Dispositions[1].Subcategories[0].ID = "00000000-0000-4000-8000-000000000001"
			}, []string{"dispositions[1].subcategories[0].id"}},
		}
		for _, c := range cases {
			in := clientes("Bad", "")
			c.change(&in)
			_, err := f.svc.CreateSchema(ctx, in)
			if err == nil {
				t.Errorf("%s: accepted", c.name)
				continue
			}
			t.Run(c.name, func(t *testing.T) { wantFields(t, err, c.fields...) })
		}
		if n, total, _ := f.svc.ListSchemas(ctx, "", contact.Page{Limit: 10}); len(n) != 0 || total != 0 {
			t.Errorf("bad schemas were stored: %v", n)
		}

		// A good one: defaults, ids assigned, kept when given.
		in := clientes("Clientes", "")
		keep := "00000000-0000-4000-8000-0000000000aa"
		in.Dispositions[1].ID = keep
		sc, err := f.svc.CreateSchema(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if sc.MatchBy != "key" || sc.KeyField().Name != "crmKey" || len(sc.PhoneFields()) != 2 || sc.Dispositions[1].ID != keep ||
			len(sc.Dispositions[0].ID) != 36 || len(sc.Dispositions[0].Subcategories[1].ID) != 36 {
			t.Errorf("stored schema %+v", sc)
		}
		if _, err := f.svc.CreateSchema(ctx, clientes("Clientes", "")); len(problem.All(err)) == 0 || problem.All(err)[0].Kind != problem.Duplicate {
			t.Errorf("duplicate name: %v", err)
		}
		got, _, _ := f.svc.ListSchemas(ctx, "Cli*", contact.Page{Limit: 10})
		if len(got) != 1 || got[0].ID != sc.ID {
			t.Errorf("name filter: %v", got)
		}
		// Update; then a list with contacts pins the fields.
		in.Name = "Clientes 2"
		in.Dispositions = sc.Dispositions
		if sc, err = f.svc.UpdateSchema(ctx, sc.ID, in); err != nil || sc.Name != "Clientes 2" || sc.Dispositions[1].ID != keep {
			t.Fatalf("update: %v %+v", err, sc)
		}
		l, err := f.svc.CreateList(ctx, contact.ListInput{Name: "Base", SchemaID: sc.ID})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.DeleteSchema(ctx, sc.ID), problem.Conflict, "schema.in.use")
		if _, err := f.svc.CreateContact(ctx, l.ID, contact.ContactInput{Key: "k1"}); err != nil {
			t.Fatal(err)
		}
		retyped := in
		retyped.Fields = slices.Clone(in.Fields)
		retyped.Fields[4].Type = contact.TypeText
		_, err = f.svc.UpdateSchema(ctx, sc.ID, retyped)
		wantCode(t, err, problem.Conflict, "schema.in.use")
		added := in
		added.Fields = append(slices.Clone(in.Fields), contact.Field{Name: "notes", Type: "text"})
		added.Fields[1].Label = "Nombre de pila"
		if _, err := f.svc.UpdateSchema(ctx, sc.ID, added); err != nil {
			t.Errorf("adding a field and relabeling: %v", err)
		}
		if err := f.svc.DeleteList(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteSchema(ctx, sc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetSchema(ctx, sc.ID); len(problem.All(err)) == 0 || problem.All(err)[0].Kind != problem.NotFound {
			t.Errorf("deleted schema: %v", err)
		}
		tp := topics(t, db)
		for _, want := range []string{"v2.outbound.schemas." + sc.ID, "v2.outbound.contactlists." + l.ID} {
			if !slices.Contains(tp, want) {
				t.Errorf("no event %s in %v", want, tp)
			}
		}
	})
}

func TestListsAndContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		sc, l := f.schemaAndList(t, "Clientes", "key")
		if l.DefaultCountry != "ES" || l.Size != 0 || l.SchemaID != sc.ID {
			t.Errorf("list %+v", l)
		}
		_, err := f.svc.CreateList(ctx, contact.ListInput{Name: "", SchemaID: "nope", DefaultCountry: "XX"})
		wantFields(t, err, "name", "schemaId", "defaultCountry")
		_, err = f.svc.CreateList(ctx, contact.ListInput{Name: "Otra", SchemaID: "00000000-0000-4000-8000-00000000dead"})
		wantFields(t, err, "schemaId")

		// Type checks, each naming its field.
		_, err = f.svc.CreateContact(ctx, l.ID, contact.ContactInput{
			Data:   map[string]string{"crmKey": "A1", "balance": "mucho", "due": "2026-13-01", "email": "no-at", "unknown": "x"},
			Phones: map[string]string{"mobile": "12", "firstName": "+34911234567"},
		})
		wantFields(t, err, "data.balance", "data.due", "data.email", "data.unknown", "phones.mobile", "phones.firstName")
		_, err = f.svc.CreateContact(ctx, l.ID, contact.ContactInput{Data: map[string]string{"firstName": "Ana"}})
		wantFields(t, err, "data.crmKey")
		_, err = f.svc.CreateContact(ctx, l.ID, contact.ContactInput{Key: "A1", TimeZone: "Mars/Olympus", Status: "sleeping"})
		wantFields(t, err, "timeZone", "status")
		if n, total, _ := f.svc.ListContacts(ctx, l.ID, "", "", contact.Page{Limit: 10}); total != 0 {
			t.Fatalf("bad contacts stored: %v", n)
		}

		c, err := f.svc.CreateContact(ctx, l.ID, contact.ContactInput{
			Data:   map[string]string{"crmKey": "0015g00000XyZ", "firstName": "Ana", "phone": "911 23 45 67", "balance": "120,50", "due": "2026-12-01"},
			Phones: map[string]string{"mobile": "+34 600 111 222"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.Key != "0015g00000XyZ" || c.Status != "new" || c.TimeZone != "Europe/Madrid" || c.FirstPhone() != "+34911234567" ||
			c.PhoneMap()["mobile"] != "+34600111222" || c.Data["phone"] != "+34911234567" || c.Data["balance"] != "120.50" ||
			c.Data["crmKey"] != "0015g00000XyZ" || c.Data["email"] != "" || !c.NextAttempt.IsZero() {
			t.Errorf("created %+v", c)
		}
		_, err = f.svc.CreateContact(ctx, l.ID, contact.ContactInput{Key: "0015g00000XyZ"})
		if ps := problem.All(err); len(ps) != 1 || ps[0].Kind != problem.Duplicate || ps[0].Field != "key" {
			t.Errorf("duplicate key: %v", err)
		}
		// An explicit zone wins; a US number gets an American zone.
		us, err := f.svc.CreateContact(ctx, l.ID, contact.ContactInput{Key: "US1", Phones: map[string]string{"phone": "+1 212 555 0100"}})
		if err != nil || us.TimeZone != "America/New_York" {
			t.Errorf("US contact zone %q (%v)", us.TimeZone, err)
		}
		z, err := f.svc.CreateContact(ctx, l.ID, contact.ContactInput{Key: "Z1", TimeZone: "Atlantic/Canary", Phones: map[string]string{"phone": "911234568"}})
		if err != nil || z.TimeZone != "Atlantic/Canary" {
			t.Errorf("explicit zone %q (%v)", z.TimeZone, err)
		}

		// Search and filters.
		for q, want := range map[string]int{"ana": 1, "600111": 1, "xyz": 1, "+1212": 1, "nadie": 0, "": 3} {
			got, total, err := f.svc.ListContacts(ctx, l.ID, q, "", contact.Page{Limit: 10})
			if err != nil || total != want || len(got) != want {
				t.Errorf("q=%q: %d/%d (%v), want %d", q, len(got), total, err, want)
			}
		}
		if got, _, _ := f.svc.ListContacts(ctx, l.ID, "", "new", contact.Page{Limit: 10}); len(got) != 3 || got[0].ID != c.ID {
			t.Errorf("status new, list order: %v", got)
		}
		if _, _, err := f.svc.ListContacts(ctx, l.ID, "", "nope", contact.Page{Limit: 10}); !slices.Equal(fields(err), []string{"status"}) {
			t.Errorf("bad status filter: %v", err)
		}

		// Update replaces values; status may be set.
		f.clk.Advance(time.Minute)
		up, err := f.svc.UpdateContact(ctx, l.ID, c.ID, contact.ContactInput{Key: c.Key, Data: map[string]string{"firstName": "Ana María", "mobile": "600111333"}, Status: "done"})
		if err != nil || up.Data["firstName"] != "Ana María" || up.FirstPhone() != "+34600111333" || up.Data["phone"] != "" || up.Status != "done" || !up.Modified.After(c.Modified) {
			t.Errorf("updated %+v (%v)", up, err)
		}
		if _, err := f.svc.UpdateContact(ctx, l.ID, c.ID, contact.ContactInput{Key: "US1"}); len(problem.All(err)) == 0 {
			t.Error("update to another contact's key accepted")
		}
		if l2, _ := f.svc.GetList(ctx, l.ID); l2.Size != 3 {
			t.Errorf("size %d", l2.Size)
		}
		if id, _ := f.svc.ContactList(ctx, c.ID); id != l.ID {
			t.Errorf("ContactList %q", id)
		}
		if id, _ := f.svc.ListSchema(ctx, l.ID); id != sc.ID {
			t.Errorf("ListSchema %q", id)
		}
		// The list's schema cannot change once it holds contacts.
		other, _ := f.svc.CreateSchema(ctx, clientes("Otro", "phone"))
		_, err = f.svc.UpdateList(ctx, l.ID, contact.ListInput{Name: l.Name, SchemaID: other.ID})
		wantCode(t, err, problem.Conflict, "list.not.empty")
		if _, err := f.svc.UpdateList(ctx, l.ID, contact.ListInput{Name: "Renombrada", SchemaID: sc.ID, DefaultCountry: "ar"}); err != nil {
			t.Error(err)
		}
		if err := f.svc.DeleteContact(ctx, l.ID, us.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetContact(ctx, us.ID); len(problem.All(err)) == 0 {
			t.Error("deleted contact still there")
		}
		// The list guard.
		f.svc.SetListGuard(func(ctx context.Context, id string) error {
			return problem.Coded(problem.Conflict, "list.in.use", "", "campaign X names list %s", id)
		})
		wantCode(t, f.svc.DeleteList(ctx, l.ID), problem.Conflict, "list.in.use")
		f.svc.SetListGuard(nil)
		if err := f.svc.DeleteList(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetContact(ctx, c.ID); len(problem.All(err)) == 0 {
			t.Error("contacts survive their list")
		}
	})
}

const goodCSV = "crmKey,Nombre,Teléfono,mobile,balance,due,email\n" +
	"K1,Ana,911234567,,10,2026-01-02,ana@example.com\n" +
	"K2,Bea,+34 600 111 222,611222333,,,\n" +
	"K3,\"Gómez, Carla\",922334455,,3.5,,\n"

func TestImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		_, l := f.schemaAndList(t, "Clientes", "key")
		bad := "\ufeffcrmKey;Nombre;Teléfono;balance;due;email\n" + // BOM, semicolons, labels
			"K1;Ana;911234567;10;2026-01-02;ana@example.com\n" + // row 2 good
			";Sin clave;911234568;;;\n" + // row 3: missing key
			"K3;Tel malo;12;;;\n" + // row 4: phone
			"K4;Tipos;911234569;diez;2026-02-30;x@\n" + // row 5: number, date, email
			"K1;Repetida;911234570;;;\n" + // row 6: duplicate key
			"K6;Corta\n" + // row 7: column count
			"\n" + // blank line (skipped by CSV, counted in rows)
			"K9;Bien;922334455;1,5;;\n" // row 9 good
		want := []contact.RowError{
			{Row: 3, Column: "crmKey", Reason: "the key is empty"},
			{Row: 4, Column: "Teléfono"},
			{Row: 5, Column: "balance"}, {Row: 5, Column: "due"}, {Row: 5, Column: "email"},
			{Row: 6, Column: "crmKey", Reason: `key "K1" is repeated: already at row 2`},
			{Row: 7, Column: "", Reason: "has 2 columns, the header has 6"},
		}
		check := func(rep contact.ImportReport) {
			t.Helper()
			if len(rep.Errors) != len(want) || rep.ErrorCount != len(want) {
				t.Fatalf("errors %+v, want %+v", rep.Errors, want)
			}
			for i, w := range want {
				g := rep.Errors[i]
				if g.Row != w.Row || g.Column != w.Column || (w.Reason != "" && g.Reason != w.Reason) || g.Reason == "" {
					t.Errorf("error %d: %+v, want %+v", i, g, w)
				}
			}
		}
		rep, err := f.svc.Import(ctx, l.ID, strings.NewReader(bad), false)
		wantCode(t, err, problem.Invalid, "import.invalid")
		check(rep)
		if !slices.Contains(fields(err), "rows[4].Teléfono") || !slices.Contains(fields(err), "rows[7]") {
			t.Errorf("problem fields %v", fields(err))
		}
		if got, _ := f.svc.GetList(ctx, l.ID); got.Size != 0 || rep.Imported != 0 {
			t.Fatalf("all-or-nothing import wrote %d contacts", got.Size)
		}
		before := len(topics(t, db))
		rep, err = f.svc.Import(ctx, l.ID, strings.NewReader(bad), true)
		if err != nil {
			t.Fatal(err)
		}
		check(rep)
		if rep.Imported != 2 || rep.Updated != 0 || rep.Skipped != 5 {
			t.Errorf("report %+v", rep)
		}
		if tp := topics(t, db)[before:]; !slices.Contains(tp, "v2.outbound.contactlists."+l.ID+".importstatus") {
			t.Errorf("events %v", tp)
		}
		got, _, _ := f.svc.ListContacts(ctx, l.ID, "", "", contact.Page{Limit: 10})
		if len(got) != 2 || got[0].Key != "K1" || got[1].Key != "K9" || got[1].Data["balance"] != "1.5" || got[0].Data["email"] != "ana@example.com" {
			t.Fatalf("imported %+v", got)
		}
		// Known keys update; a file naming some fields keeps the others.
		rep, err = f.svc.Import(ctx, l.ID, strings.NewReader("crmkey,firstName\nK1,Ana Updated\nK2,Nueva\n"), false)
		if err != nil || rep.Imported != 1 || rep.Updated != 1 {
			t.Fatalf("update import %+v %v", rep, err)
		}
		got, _, _ = f.svc.ListContacts(ctx, l.ID, "ana", "", contact.Page{Limit: 10})
		if len(got) != 1 || got[0].Data["firstName"] != "Ana Updated" || got[0].FirstPhone() != "+34911234567" || got[0].Data["due"] != "2026-01-02" {
			t.Errorf("merged %+v", got)
		}
		// Whole-file errors fail even with skipInvalid.
		for _, c := range []struct{ name, csv, column string }{
			{"unknown column", "crmKey,edad\nK1,3\n", "edad"},
			{"no key column", "firstName\nAna\n", "crmKey"},
			{"repeated column", "crmKey,phone,Teléfono\nK1,,\n", "Teléfono"},
			{"empty", "", ""},
			{"bad quotes", "crmKey,firstName\nK1,\"abc\n", ""},
		} {
			rep, err := f.svc.Import(ctx, l.ID, strings.NewReader(c.csv), true)
			wantCode(t, err, problem.Invalid, "import.invalid")
			if len(rep.Errors) != 1 || rep.Errors[0].Column != c.column || rep.Imported != 0 {
				t.Errorf("%s: %+v", c.name, rep)
			}
		}
		if got, _ := f.svc.GetList(ctx, l.ID); got.Size != 3 {
			t.Errorf("size %d after failed imports", got.Size)
		}
	})
}

func TestImportLimits(t *testing.T) {
	f := setup(t, storetest.SQLite(t))
	_, l := f.schemaAndList(t, "Clientes", "key")
	var b bytes.Buffer
	b.WriteString("crmKey\n")
	for i := 0; i <= contact.MaxImportRows; i++ {
		fmt.Fprintf(&b, "K%d\n", i)
	}
	rep, err := f.svc.Import(ctx, l.ID, &b, true)
	wantCode(t, err, problem.Invalid, "import.invalid")
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Reason, "more than 100000 rows") || rep.Errors[0].Row != contact.MaxImportRows+2 {
		t.Errorf("too many rows: %+v", rep)
	}
	big := "crmKey,firstName\n" + strings.Repeat("K,"+strings.Repeat("x", 1000)+"\n", 11*1024)
	rep, err = f.svc.Import(ctx, l.ID, strings.NewReader(big), true)
	wantCode(t, err, problem.Invalid, "import.invalid")
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Reason, "larger than") {
		t.Errorf("too large: %+v", rep)
	}
	if got, _ := f.svc.GetList(ctx, l.ID); got.Size != 0 {
		t.Errorf("size %d", got.Size)
	}
}

func TestExportRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		sc, l := f.schemaAndList(t, "Clientes", "key")
		if _, err := f.svc.Import(ctx, l.ID, strings.NewReader(goodCSV), false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateContact(ctx, l.ID, contact.ContactInput{Key: "K4", TimeZone: "Atlantic/Canary",
			Data: map[string]string{"firstName": "Línea\nnueva \"con\" comillas; y comas,", "phone": "928 11 22 33"}}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := f.svc.Export(ctx, l.ID, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), "crmKey,firstName,phone,mobile,balance,due,email,id,status,attempts,lastOutcome,category,subcategory,timeZone\n") {
			t.Errorf("export header: %q", out.String())
		}
		l2, err := f.svc.CreateList(ctx, contact.ListInput{Name: "Copia", SchemaID: sc.ID})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := f.svc.Import(ctx, l2.ID, bytes.NewReader(out.Bytes()), false)
		if err != nil || rep.Imported != 4 {
			t.Fatalf("re-import %+v %v", rep, err)
		}
		a, _, _ := f.svc.ListContacts(ctx, l.ID, "", "", contact.Page{Limit: 10})
		b, _, _ := f.svc.ListContacts(ctx, l2.ID, "", "", contact.Page{Limit: 10})
		if len(a) != 4 || len(b) != 4 {
			t.Fatalf("%d and %d contacts", len(a), len(b))
		}
		for i := range a {
			x, y := a[i], b[i]
			if x.Key != y.Key || fmt.Sprint(x.Data) != fmt.Sprint(y.Data) || fmt.Sprint(x.Phones) != fmt.Sprint(y.Phones) || x.TimeZone != y.TimeZone {
				t.Errorf("contact %d differs:\n%+v\n%+v", i, x, y)
			}
		}
	})
}

func TestDueClaimFinish(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		_, l := f.schemaAndList(t, "Clientes", "key")
		if _, err := f.svc.Import(ctx, l.ID, strings.NewReader(goodCSV), false); err != nil {
			t.Fatal(err)
		}
		due, err := f.svc.Due(ctx, []string{l.ID}, f.clk.Now(), 10)
		if err != nil || len(due) != 3 || due[0].Key != "K1" || due[2].Key != "K3" {
			t.Fatalf("due %v %v", due, err)
		}
		k1, k2 := due[0], due[1]
		if ok, err := f.svc.Claim(ctx, k1.ID, "camp-1"); !ok || err != nil {
			t.Fatalf("claim %v %v", ok, err)
		}
		if ok, _ := f.svc.Claim(ctx, k1.ID, "camp-2"); ok {
			t.Error("claimed twice")
		}
		if due, _ := f.svc.Due(ctx, []string{l.ID}, f.clk.Now(), 10); len(due) != 2 {
			t.Errorf("dialing contact still due: %d", len(due))
		}
		next := f.clk.Now().Add(15 * time.Minute)
		a := contact.Attempt{ContactID: k1.ID, CampaignID: "camp-1", ConversationID: "conv-1", Phone: k1.FirstPhone(), Outcome: "busy",
			Started: f.clk.Now(), Ended: f.clk.Now().Add(20 * time.Second)}
		if err := f.svc.Finish(ctx, a, "retry", next); err != nil {
			t.Fatal(err)
		}
		c, _ := f.svc.GetContact(ctx, k1.ID)
		if c.Status != "retry" || c.Attempts != 1 || !c.NextAttempt.Equal(next) || c.LastOutcome != "busy" || c.CampaignID != "camp-1" {
			t.Errorf("after busy: %+v", c)
		}
		if due, _ := f.svc.Due(ctx, []string{l.ID}, f.clk.Now(), 10); len(due) != 2 {
			t.Errorf("retry before its time is due")
		}
		f.clk.Advance(16 * time.Minute)
		due, _ = f.svc.Due(ctx, []string{l.ID}, f.clk.Now(), 1)
		if len(due) != 1 || due[0].ID != k2.ID { // new contacts (next 0) before retries
			t.Errorf("due order %v", due)
		}
		due, _ = f.svc.Due(ctx, []string{l.ID, "00000000-0000-4000-8000-000000000000"}, f.clk.Now(), 10)
		if len(due) != 3 || due[2].ID != k1.ID {
			t.Errorf("retry now due: %v", due)
		}
		// Skipped does not count; connected with a disposition does.
		f.svc.Claim(ctx, k1.ID, "camp-1")
		if err := f.svc.Finish(ctx, contact.Attempt{ContactID: k1.ID, Outcome: "skipped", Started: f.clk.Now()}, "retry", f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Second)
		f.svc.Claim(ctx, k1.ID, "camp-1")
		if err := f.svc.Finish(ctx, contact.Attempt{ID: "00000000-0000-4000-8000-0000000000a1", ContactID: k1.ID, Outcome: "connected", AgentID: "agent-1",
			Category: "Venta", Subcategory: "Cerrada", Notes: "ok", Started: f.clk.Now(), Answered: f.clk.Now().Add(5 * time.Second)}, "done", time.Time{}); err != nil {
			t.Fatal(err)
		}
		c, _ = f.svc.GetContact(ctx, k1.ID)
		if c.Status != "done" || c.Attempts != 2 || !c.NextAttempt.IsZero() || c.Category != "Venta" || c.Subcategory != "Cerrada" || c.LastOutcome != "connected" {
			t.Errorf("after connected: %+v", c)
		}
		hist, total, err := f.svc.Attempts(ctx, k1.ID, contact.Page{Limit: 10})
		if err != nil || total != 3 || hist[0].Outcome != "connected" || hist[0].ID != "00000000-0000-4000-8000-0000000000a1" || hist[2].Outcome != "busy" ||
			hist[2].ConversationID != "conv-1" || !hist[0].Ended.IsZero() || hist[0].Answered.IsZero() || hist[1].Outcome != "skipped" {
			t.Errorf("history %+v (%d, %v)", hist, total, err)
		}
		wantFields(t, f.svc.Finish(ctx, contact.Attempt{ContactID: k1.ID, Outcome: "hung"}, "later", time.Time{}), "outcome", "status")
		if err := f.svc.Finish(ctx, contact.Attempt{ContactID: "00000000-0000-4000-8000-000000000000", Outcome: "busy"}, "retry", time.Time{}); len(problem.All(err)) == 0 {
			t.Errorf("finish of an unknown contact: %v", err)
		}
		if hist, _, _ := f.svc.Attempts(ctx, k1.ID, contact.Page{Limit: 10}); len(hist) != 3 {
			t.Errorf("a failed Finish wrote history")
		}

		// Concurrent claims: each contact goes to exactly one claimer.
		due, _ = f.svc.Due(ctx, []string{l.ID}, f.clk.Now(), 10)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := map[string]int{}
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for _, c := range due {
					ok, err := f.svc.Claim(ctx, c.ID, fmt.Sprint("camp-", w))
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						wins[c.ID]++
						mu.Unlock()
					}
				}
			}(w)
		}
		wg.Wait()
		for _, c := range due {
			if wins[c.ID] != 1 {
				t.Errorf("contact %s claimed %d times", c.Key, wins[c.ID])
			}
		}
		// A scheduled callback may be claimed.
		db.ExecContext(ctx, `UPDATE contacts SET status = 'callback' WHERE id = $1`, k1.ID)
		if ok, _ := f.svc.Claim(ctx, k1.ID, "camp-9"); !ok {
			t.Error("callback contact not claimable")
		}
	})
}

func TestDNC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		d, err := f.svc.CreateDNCList(ctx, "Robinson")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateDNCList(ctx, "Robinson"); len(problem.All(err)) == 0 {
			t.Error("duplicate name")
		}
		if err := f.svc.DNCListExists(ctx, d.ID); err != nil {
			t.Error(err)
		}
		if err := f.svc.DNCListExists(ctx, "00000000-0000-4000-8000-000000000000"); len(problem.All(err)) == 0 {
			t.Error("unknown list exists")
		}
		_, err = f.svc.AddDNCNumbers(ctx, d.ID, []string{"+34911234567", "12", "600111222", "nope"}, "ES")
		wantFields(t, err, "phoneNumbers[1]", "phoneNumbers[3]")
		if got, _ := f.svc.GetDNCList(ctx, d.ID); got.Size != 0 {
			t.Fatal("a bad request added numbers")
		}
		n, err := f.svc.AddDNCNumbers(ctx, d.ID, []string{"+34911234567", "600 111 222", "600111222"}, "")
		if err != nil || n != 2 {
			t.Fatalf("added %d %v", n, err)
		}
		other, _ := f.svc.CreateDNCList(ctx, "Otra")
		for _, c := range []struct {
			lists []string
			phone string
			want  bool
		}{
			{[]string{d.ID}, "+34911234567", true},
			{[]string{other.ID, d.ID}, "+34600111222", true},
			{[]string{other.ID}, "+34911234567", false},
			{nil, "+34911234567", false},
			{[]string{d.ID}, "+34911234568", false},
		} {
			if got, err := f.svc.Blocked(ctx, c.lists, c.phone); got != c.want || err != nil {
				t.Errorf("Blocked(%v, %s) = %v %v", c.lists, c.phone, got, err)
			}
		}
		if n, err := f.svc.RemoveDNCNumbers(ctx, d.ID, []string{"911234567"}, "ES"); n != 1 || err != nil {
			t.Errorf("removed %d %v", n, err)
		}
		if b, _ := f.svc.Blocked(ctx, []string{d.ID}, "+34911234567"); b {
			t.Error("removed number still blocked")
		}
		csv := "telefono\n911234567\n600111222\nabc\n+44 20 7946 0958\n911234567\n"
		rep, err := f.svc.ImportDNC(ctx, d.ID, strings.NewReader(csv), "ES", false)
		wantCode(t, err, problem.Invalid, "import.invalid")
		if len(rep.Errors) != 1 || rep.Errors[0].Row != 4 || rep.Errors[0].Column != "telefono" {
			t.Errorf("report %+v", rep)
		}
		rep, err = f.svc.ImportDNC(ctx, d.ID, strings.NewReader(csv), "ES", true)
		if err != nil || rep.Imported != 2 || rep.Updated != 2 || rep.Skipped != 1 {
			t.Errorf("report %+v %v", rep, err)
		}
		nums, total, _ := f.svc.DNCNumbers(ctx, d.ID, contact.Page{Limit: 10})
		if total != 3 || len(nums) != 3 || nums[0].Phone != "+34600111222" {
			t.Errorf("numbers %v", nums)
		}
		// Without a header the first row is a number.
		if rep, err := f.svc.ImportDNC(ctx, other.ID, strings.NewReader("911000001;x\n911000002;y\n"), "", false); err != nil || rep.Imported != 2 {
			t.Errorf("headerless %+v %v", rep, err)
		}
		if _, err := f.svc.UpdateDNCList(ctx, d.ID, "Robinson 2"); err != nil {
			t.Error(err)
		}
		if err := f.svc.DeleteDNCList(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if b, _ := f.svc.Blocked(ctx, []string{d.ID}, "+34600111222"); b {
			t.Error("deleted list still blocks")
		}
		if !slices.Contains(topics(t, db), "v2.outbound.dnclists."+d.ID) {
			t.Error("no dnc event")
		}
	})
}

func TestFindOrCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		_, byKey := f.schemaAndList(t, "PorClave", "key")
		_, byPhone := f.schemaAndList(t, "PorTelefono", "phone")
		for _, l := range []string{byKey.ID, byPhone.ID} {
			if _, err := f.svc.Import(ctx, l, strings.NewReader(goodCSV), false); err != nil {
				t.Fatal(err)
			}
		}
		k1, _, _ := f.svc.ListContacts(ctx, byKey.ID, "K1", "", contact.Page{Limit: 1})
		p2, _, _ := f.svc.ListContacts(ctx, byPhone.ID, "K2", "", contact.Page{Limit: 1})
		existing := map[string]string{byKey.ID: k1[0].ID, byPhone.ID: p2[0].ID}
		const created = "(created)"
		cases := []struct {
			name       string
			list       string
			data, ani  string
			want       string // existing id, or created
			key, phone string // of a created contact
		}{
			{"key: known key", byKey.ID, "K1", "+34999999999", existing[byKey.ID], "", ""},
			{"key: known key, hidden number", byKey.ID, "K1", "", existing[byKey.ID], "", ""},
			{"key: unknown key", byKey.ID, "0015g00000XyZ", "+34 911 00 00 01", created, "0015g00000XyZ", "+34911000001"},
			{"key: known number but no data", byKey.ID, "", "911234567", created, "", "+34911234567"},
			{"key: hidden number, no data", byKey.ID, "", "", created, "", ""},
			{"phone: known ani (second phone field)", byPhone.ID, "", "611 22 23 33", existing[byPhone.ID], "", ""},
			{"phone: known ani, national form, with data", byPhone.ID, "other-key", "600111222", existing[byPhone.ID], "", ""},
			{"phone: unknown ani", byPhone.ID, "", "+34 911 00 00 02", created, "", "+34911000002"},
			{"phone: unknown ani with data", byPhone.ID, "SF-9", "911000003", created, "SF-9", "+34911000003"},
			{"phone: hidden number with a known key", byPhone.ID, "K2", "", existing[byPhone.ID], "", ""},
			{"phone: hidden number, no data", byPhone.ID, "", "", created, "", ""},
			{"phone: ani that does not parse", byPhone.ID, "", "anonymous", created, "", ""},
			{"phone: ani too short to be a number", byPhone.ID, "SF-10", "12", created, "SF-10", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before, _ := f.svc.GetList(ctx, c.list)
				got, wasCreated, clavesf, err := f.svc.FindOrCreate(ctx, c.list, c.data, c.ani)
				if err != nil {
					t.Fatal(err)
				}
				if clavesf != got.ID+"-"+c.data {
					t.Errorf("clavesf %q, want %q", clavesf, got.ID+"-"+c.data)
				}
				after, _ := f.svc.GetList(ctx, c.list)
				if c.want != created {
					if wasCreated || got.ID != c.want || after.Size != before.Size {
						t.Errorf("got %s created=%v (size %d→%d), want the existing %s", got.ID, wasCreated, before.Size, after.Size, c.want)
					}
					return
				}
				if !wasCreated || got.ListID != c.list || after.Size != before.Size+1 || got.Key != c.key || got.FirstPhone() != c.phone || got.Status != "new" {
					t.Errorf("created=%v %+v (size %d→%d), want a new contact key %q phone %q", wasCreated, got, before.Size, after.Size, c.key, c.phone)
				}
				if c.phone != "" && got.TimeZone != "Europe/Madrid" {
					t.Errorf("zone %q", got.TimeZone)
				}
			})
		}
		// Hidden number and no data: a fresh contact every time.
		a, c1, s1, _ := f.svc.FindOrCreate(ctx, byPhone.ID, "", "")
		b, c2, s2, _ := f.svc.FindOrCreate(ctx, byPhone.ID, "", "")
		if !c1 || !c2 || a.ID == b.ID || s1 != a.ID+"-" || s2 != b.ID+"-" {
			t.Errorf("two hidden calls: %s %v %q, %s %v %q", a.ID, c1, s1, b.ID, c2, s2)
		}
		// The key created by the first call is found by the next.
		x, cx, _, _ := f.svc.FindOrCreate(ctx, byKey.ID, "0015g00000XyZ", "")
		if cx || x.FirstPhone() != "+34911000001" {
			t.Errorf("second lookup of a created key: created=%v %+v", cx, x)
		}
		// Concurrent callers with the same new key get one contact.
		var wg sync.WaitGroup
		ids := make([]string, 6)
		for i := range ids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c, _, _, err := f.svc.FindOrCreate(ctx, byKey.ID, "RACE-1", "")
				if err != nil {
					t.Error(err)
				}
				ids[i] = c.ID
			}(i)
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Errorf("concurrent find-or-create made several contacts: %v", ids)
				break
			}
		}
		if _, _, _, err := f.svc.FindOrCreate(ctx, "00000000-0000-4000-8000-000000000000", "x", ""); len(problem.All(err)) == 0 || problem.All(err)[0].Kind != problem.NotFound {
			t.Errorf("unknown list: %v", err)
		}
	})
}

// FuzzImportCSV: any bytes either import or come back as a report; never a
// panic, never a half-written import.
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte(goodCSV))
	f.Add([]byte("\ufeffcrmKey;Nombre;Teléfono\nK1;Ana;911234567\n;x;12\n"))
	f.Add([]byte("crmKey,\"a\"\"b\nK1,\"x"))
	f.Add([]byte("crmKey\n\n\n,\n"))
	f.Add([]byte{0xff, 0xfe, ',', '\n'})
	fx := setup(f, storetest.SQLite(f))
	_, l := fx.schemaAndList(f, "Fuzz", "key")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, skip := range []bool{false, true} {
			before, err := fx.svc.GetList(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := fx.svc.Import(ctx, l.ID, bytes.NewReader(data), skip)
			after, _ := fx.svc.GetList(ctx, l.ID)
			if err != nil {
				ps := problem.All(err)
				if len(ps) == 0 || ps[0].Code != "import.invalid" || rep.ErrorCount == 0 {
					t.Fatalf("error %v with report %+v", err, rep)
				}
				if after.Size != before.Size {
					t.Fatalf("a failed import changed the list: %d → %d", before.Size, after.Size)
				}
				continue
			}
			if after.Size != before.Size+rep.Imported {
				t.Fatalf("report %+v but size %d → %d", rep, before.Size, after.Size)
			}
			if !skip && rep.ErrorCount > 0 {
				t.Fatalf("errors without failing: %+v", rep)
			}
		}
	})
}

// BenchmarkImport imports 10,000 rows into a fresh SQLite list per run.
func BenchmarkImport(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("crmKey,firstName,phone,mobile,balance,due,email\n")
	for i := 0; i < 10_000; i++ {
		fmt.Fprintf(&buf, "K%06d,Nombre %d,91%07d,6%08d,%d.%02d,2026-01-%02d,c%d@example.com\n", i, i, i, i, i, i%100, i%28+1, i)
	}
	f := setup(b, storetest.SQLite(b))
	sc, err := f.svc.CreateSchema(ctx, clientes("Bench", "key"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l, err := f.svc.CreateList(ctx, contact.ListInput{Name: fmt.Sprint("Bench ", i), SchemaID: sc.ID})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := f.svc.Import(ctx, l.ID, bytes.NewReader(buf.Bytes()), false)
		if err != nil || rep.Imported != 10_000 {
			b.Fatalf("%+v %v", rep, errors.Join(err))
		}
	}
}

func TestClaimsReleased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		_, l := f.schemaAndList(t, "Clientes", "key")
		if _, err := f.svc.Import(ctx, l.ID, strings.NewReader(goodCSV), false); err != nil {
			t.Fatal(err)
		}
		due, _ := f.svc.Due(ctx, []string{l.ID}, f.clk.Now(), 10)
		for _, c := range due[:2] {
			f.svc.Claim(ctx, c.ID, "camp")
		}
		if err := f.svc.Unclaim(ctx, due[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.ReleaseClaims(ctx, f.clk.Now()); n != 1 || err != nil {
			t.Errorf("released %d %v", n, err)
		}
		if got, _ := f.svc.Due(ctx, []string{l.ID}, f.clk.Now(), 10); len(got) != 3 {
			t.Errorf("due after release: %d", len(got))
		}
		err := f.svc.SetStatus(ctx, nil, due[2].ID, "later")
		wantFields(t, err, "status")
		if err := f.db.Tx(ctx, func(tx *store.Tx) error { return f.svc.SetStatus(ctx, tx, due[2].ID, "callback") }); err != nil {
			t.Fatal(err)
		}
		if c, _ := f.svc.GetContact(ctx, due[2].ID); c.Status != "callback" {
			t.Errorf("status %s", c.Status)
		}
		if p, _ := f.svc.ContactPhone(ctx, due[2].ID); p != "+34922334455" {
			t.Errorf("phone %s", p)
		}
	})
}
