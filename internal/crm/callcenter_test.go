package crm

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

func newTestService(t *testing.T, db *store.DB) *Service {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return New(db, ob, box, clk)
}

func topics(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT topic, body FROM outbox ORDER BY created_at, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var topic, body string
		if err := rows.Scan(&topic, &body); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(body, "s3cr3t-value") {
			t.Errorf("event %s carries a secret: %s", topic, body)
		}
		out = append(out, topic)
	}
	return out
}

func TestCallCenterCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newTestService(t, db)
		in := Defaults()
		in.Name = "Ventas SF"
		in.Connector = ConnectorSalesforce
		in.SearchTypePriority = []string{TypeContact, TypeAccount}
		in.Settings = map[string]string{"instanceUrl": "https://acme.my.salesforce.com", "clientId": "abc"}
		in.Secrets = map[string]string{"clientSecret": "s3cr3t-value", "password": "pw-s3cr3t-value"}
		cc, err := s.CreateCallCenter(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if cc.ID == "" || cc.InternalName != "VentasSF" || cc.DisplayName != "Ventas SF" || cc.Secrets != nil ||
			!reflect.DeepEqual(cc.SecretsSet, []string{"clientSecret", "password"}) {
			t.Fatalf("created %+v", cc)
		}
		got, err := s.GetCallCenter(ctx, cc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, cc) {
			t.Fatalf("get\n%+v\nwant\n%+v", got, cc)
		}
		if byName, err := s.CallCenterByName(ctx, "ventas sf"); err != nil || byName.ID != cc.ID {
			t.Fatalf("by name: %v %v", byName.ID, err)
		}
		if v, err := s.Secret(ctx, cc.ID, "clientSecret"); err != nil || v != "s3cr3t-value" {
			t.Fatalf("secret: %q %v", v, err)
		}
		if _, err := s.Secret(ctx, cc.ID, "nope"); !isKind(err, problem.NotFound) {
			t.Fatalf("missing secret: %v", err)
		}
		// Secrets are sealed at rest.
		var raw string
		if err := db.QueryRowContext(ctx, `SELECT options || secrets FROM crm_callcenters WHERE id = $1`, cc.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(raw, "s3cr3t-value") || !strings.Contains(raw, `"clientSecret":"v1:`) {
			t.Fatalf("row holds the plaintext or no sealed value: %s", raw)
		}

		// Update: secrets merge (set, remove, keep), settings replaced.
		up := got
		up.Name = "Ventas Salesforce"
		up.Secrets = map[string]string{"password": "", "token": "tok-s3cr3t-value"}
		up.AllowTextMessage = true
		up2, err := s.UpdateCallCenter(ctx, cc.ID, up)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(up2.SecretsSet, []string{"clientSecret", "token"}) || !up2.AllowTextMessage || up2.Name != "Ventas Salesforce" {
			t.Fatalf("updated %+v", up2)
		}
		if v, _ := s.Secret(ctx, cc.ID, "clientSecret"); v != "s3cr3t-value" {
			t.Errorf("kept secret is %q", v)
		}
		if _, err := s.UpdateCallCenter(ctx, unknown, up); !isKind(err, problem.NotFound) {
			t.Errorf("update unknown: %v", err)
		}

		// Names are unique ignoring case.
		other := Defaults()
		other.Name = "VENTAS SALESFORCE"
		if _, err := s.CreateCallCenter(ctx, other); !isKind(err, problem.Duplicate) || !strings.Contains(err.Error(), "name") {
			t.Fatalf("duplicate: %v", err)
		}
		other.Name = "Soporte"
		b, err := s.CreateCallCenter(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		list, total, err := s.ListCallCenters(ctx, Page{Limit: 1})
		if err != nil || total != 2 || len(list) != 1 || list[0].Name != "Soporte" {
			t.Fatalf("list: %v %d %v", list, total, err)
		}
		if err := s.DeleteCallCenter(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetCallCenter(ctx, b.ID); !isKind(err, problem.NotFound) {
			t.Fatalf("get deleted: %v", err)
		}
		if err := s.DeleteCallCenter(ctx, b.ID); !isKind(err, problem.NotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		want := []string{"v2.crm.callcenters." + cc.ID, "v2.crm.callcenters." + cc.ID, "v2.crm.callcenters." + b.ID, "v2.crm.callcenters." + b.ID}
		if got := topics(t, db); !reflect.DeepEqual(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})
}

const unknown = "00000000-0000-4000-8000-00000000dead"

func isKind(err error, k problem.Kind) bool {
	ps := problem.All(err)
	return len(ps) > 0 && ps[0].Kind == k
}

func TestCallCenterValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newTestService(t, db)
		for _, c := range []struct {
			field string
			edit  func(cc *CallCenter)
		}{
			{"name", func(cc *CallCenter) { cc.Name = " " }},
			{"connector", func(cc *CallCenter) { cc.Connector = "hubspot" }},
			{"internalName", func(cc *CallCenter) { cc.InternalName = "9lives" }},
			{"softphoneHeight", func(cc *CallCenter) { cc.SoftphoneHeight = 239 }},
			{"softphoneWidth", func(cc *CallCenter) { cc.SoftphoneWidth = 1921 }},
			{"compatibilityMode", func(cc *CallCenter) { cc.CompatibilityMode = "lightning" }},
			{"searchTypePriority", func(cc *CallCenter) { cc.SearchTypePriority = []string{"Contact", "Case"} }},
			{"searchTypePriority", func(cc *CallCenter) { cc.SearchTypePriority = []string{"Lead", "Lead"} }},
			{"externalData[1]", func(cc *CallCenter) { cc.ExternalData[1].Source = "dni" }},
			{"defaultNewRowData[0]", func(cc *CallCenter) { cc.DefaultNewRowData[0].Field = "" }},
			{"defaultNewRowData[1]", func(cc *CallCenter) { cc.DefaultNewRowData[1].Field = cc.DefaultNewRowData[0].Field }},
			{"automaticContactRelease", func(cc *CallCenter) { cc.AutomaticContactRelease = -2 }},
			{"campaignEntityName", func(cc *CallCenter) { cc.CampaignEntityName = "not an object" }},
			{"layout.noMatch", func(cc *CallCenter) { cc.Layout.NoMatch = "create" }},
			{"layout.newRecordType", func(cc *CallCenter) { cc.Layout.NewRecordType = "" }},
			{"layout.singleMatch", func(cc *CallCenter) { cc.Layout.SingleMatch = "" }},
			{"layout.multipleMatches", func(cc *CallCenter) { cc.Layout.MultipleMatches = "open" }},
			{"activityMode", func(cc *CallCenter) { cc.ActivityMode = "email" }},
			{"secrets", func(cc *CallCenter) { cc.Secrets = map[string]string{"bad name": "x"} }},
			{"extra[0].name", func(cc *CallCenter) { cc.Extra = []Section{{Name: "bad-name"}} }},
			{"extra[0].items[0].name", func(cc *CallCenter) {
				cc.Extra = []Section{{Name: SectionOptions, Items: []Item{{Name: "allowCategorization"}}}}
			}},
		} {
			t.Run(c.field, func(t *testing.T) {
				cc := Defaults()
				cc.Name = "Valid"
				c.edit(&cc)
				_, err := s.CreateCallCenter(ctx, cc)
				ps := problem.All(err)
				if len(ps) != 1 || ps[0].Field != c.field || ps[0].Kind != problem.Invalid {
					t.Fatalf("got %v, want one problem on %s", err, c.field)
				}
			})
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_callcenters`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows after invalid creates: %d %v", n, err)
		}
	})
}

func TestCallCenterXMLStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newTestService(t, db)
		data := seed002(t)
		cc, err := s.CreateFromXML(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if cc.Name != "Neotel CTI" || cc.Connector != ConnectorSalesforce {
			t.Fatalf("%+v", cc)
		}
		got, err := s.GetCallCenter(ctx, cc.ID)
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.ExportXML(got, "https://cc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		in, exp := flatten(t, data), flatten(t, out)
		for i := range in {
			if in[i].Name == "reqAdapterUrl" {
				in[i].Value = "https://cc.example.com/softphone/"
			}
		}
		if !reflect.DeepEqual(in, exp) {
			t.Fatalf("stored and exported differs:\n%+v\n%+v", in, exp)
		}

		// ImportXML replaces the options, keeps name, connector, layout, settings, secrets.
		up := got
		up.Settings = map[string]string{"instanceUrl": "https://x"}
		up.Secrets = map[string]string{"clientSecret": "s3cr3t-value"}
		up.Layout.NoMatch = "none"
		if _, err := s.UpdateCallCenter(ctx, cc.ID, up); err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(data), `(true/false)">true`, `(true/false)">false`, 1)
		changed = strings.Replace(changed, ">620<", ">700<", 1)
		imp, err := s.ImportXML(ctx, cc.ID, []byte(changed))
		if err != nil {
			t.Fatal(err)
		}
		if imp.AllowCategorization || imp.SoftphoneWidth != 700 || imp.Settings["instanceUrl"] != "https://x" ||
			imp.Layout.NoMatch != "none" || imp.Name != "Neotel CTI" || len(imp.SecretsSet) != 1 {
			t.Fatalf("imported %+v", imp)
		}
		// A bad definition changes nothing.
		bad := strings.Replace(string(data), `(true/false)">true`, `(true/false)">maybe`, 1)
		if _, err := s.ImportXML(ctx, cc.ID, []byte(bad)); err == nil || !strings.Contains(err.Error(), "item[allowCategorization]") {
			t.Fatalf("bad import: %v", err)
		}
		after, _ := s.GetCallCenter(ctx, cc.ID)
		if !reflect.DeepEqual(after, imp) {
			t.Fatalf("a rejected import changed the call center")
		}
		b, _ := json.Marshal(after)
		if strings.Contains(string(b), "s3cr3t") {
			t.Fatalf("JSON carries a secret: %s", b)
		}
		// The same definition twice: the name is taken.
		if _, err := s.CreateFromXML(ctx, data); !isKind(err, problem.Duplicate) {
			t.Fatalf("second import: %v", err)
		}
	})
}
