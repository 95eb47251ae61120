package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/crm"
)

func TestCRMScreenPopPreview(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	ctx := context.Background()
	cc := crm.Defaults()
	cc.Name = "Preview test"
	cc.SearchTypePriority = []string{"Contact", "Account"}
	cc, err := e.app.CRM.CreateCallCenter(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	noLog := crm.Defaults()
	noLog.Name = "Preview test, no log"
	noLog.SaveActivityLog = false
	noLog.Layout.NoMatch = "none"
	noLog.Layout.MultipleMatches = "none"
	noLog, err = e.app.CRM.CreateCallCenter(ctx, noLog)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/api/v2/crm/screenpop/preview"
	sup := e.token(t, pSupervisor)
	contact := "0b7c2f3e-1d2a-4c5b-9e8f-123456789abc"
	callData := map[string]any{"callDialer": "inbound", "phoneNumber": "+5491155550000", "contactId": contact,
		"contactBaseId": "list1", "crmId": "sc1", "SearchBy": "DNI__c", "SearchData": "31987456", "CLAVESF": contact + "-31987456"}

	t.Run("plan only", func(t *testing.T) {
		r := e.send(t, "POST", path, sup, map[string]any{"callCenterId": cc.ID, "callData": callData})
		if r.status != 200 {
			t.Fatalf("got %s", r)
		}
		m := r.obj(t)
		if _, ok := m["decision"]; ok {
			t.Errorf("a decision without matches: %s", r)
		}
		p := m["plan"].(map[string]any)
		s := p["search"].(map[string]any)
		if s["field"] != "DNI__c" || s["value"] != "31987456" || !slices.Equal(anyStrings(s["types"]), []string{"Contact", "Account"}) {
			t.Errorf("search %v", s)
		}
		if on := p["onNone"].(map[string]any); on["kind"] != "new" || on["type"] != "Contact" || on["defaults"].(map[string]any)["Phone"] != "+5491155550000" {
			t.Errorf("onNone %v", on)
		}
		if u := p["updates"].(map[string]any); u["neoContactId__c"] != contact || u["neoBaseId__c"] != "list1" || u["neoCrmId__c"] != "sc1" {
			t.Errorf("updates %v", u)
		}
		if l := p["log"].(map[string]any); l["mode"] != "task" || l["direction"] != "inbound" || l["useDescription"] != true {
			t.Errorf("log %v", l)
		}
	})

	t.Run("priority picks the Contact", func(t *testing.T) {
		r := e.send(t, "POST", path, e.token(t, pAdmin), map[string]any{"callCenterId": cc.ID, "callData": callData,
			"matches": []map[string]any{{"type": "Account", "id": "a1"}, {"type": "Contact", "id": "c1", "name": "Ana"}}})
		if r.status != 200 {
			t.Fatalf("got %s", r)
		}
		d := r.obj(t)["decision"].(map[string]any)
		if a := d["action"].(map[string]any); a["kind"] != "open" || a["type"] != "Contact" || a["recordId"] != "c1" || d["updates"] == nil || d["reason"] == "" {
			t.Errorf("decision %v", d)
		}
	})

	t.Run("empty matches: the no-match rule", func(t *testing.T) {
		r := e.send(t, "POST", path, sup, map[string]any{"callCenterId": cc.ID, "callData": callData, "matches": []any{}})
		d := r.obj(t)["decision"].(map[string]any)
		if a := d["action"].(map[string]any); a["kind"] != "new" || a["type"] != "Contact" {
			t.Errorf("got %s", r)
		}
	})

	t.Run("hidden number: no search, no log, nothing", func(t *testing.T) {
		cd := map[string]any{"callDialer": "inbound", "contactId": contact, "SearchBy": "phoneNumber", "SearchData": "", "CLAVESF": contact + "-"}
		r := e.send(t, "POST", path, sup, map[string]any{"callCenterId": noLog.ID, "callData": cd, "matches": []map[string]any{{"type": "Contact", "id": "c1"}}})
		if r.status != 200 {
			t.Fatalf("got %s", r)
		}
		m := r.obj(t)
		p := m["plan"].(map[string]any)
		if p["search"] != nil || p["log"] != nil {
			t.Errorf("plan %v", p)
		}
		if a := m["decision"].(map[string]any)["action"].(map[string]any); a["kind"] != "none" {
			t.Errorf("decision %v", m["decision"])
		}
	})

	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			name   string
			token  string
			body   any
			status int
			field  string
		}{
			{"agent", e.token(t, pAgent), map[string]any{"callCenterId": cc.ID, "callData": callData}, 403, ""},
			{"unknown call center", sup, map[string]any{"callCenterId": unknownID, "callData": callData}, 404, ""},
			{"bad id", sup, map[string]any{"callCenterId": "nope", "callData": callData}, 400, "callCenterId"},
			{"no call center", sup, map[string]any{"callData": callData}, 400, "callCenterId"},
			{"no call data", sup, map[string]any{"callCenterId": cc.ID}, 400, "callData"},
			{"call data not strings", sup, map[string]any{"callCenterId": cc.ID, "callData": map[string]any{"a": 1}}, 400, "callData.a"},
			{"value too long", sup, map[string]any{"callCenterId": cc.ID, "callData": map[string]any{"SearchData": strings.Repeat("x", 3000)}}, 400, "callData.SearchData"},
			{"match without id", sup, map[string]any{"callCenterId": cc.ID, "callData": callData, "matches": []map[string]any{{"type": "Contact"}}}, 400, "matches[0].id"},
			{"match with empty type", sup, map[string]any{"callCenterId": cc.ID, "callData": callData, "matches": []map[string]any{{"type": "", "id": "x"}}}, 400, "matches[0].type"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				m := errorBody(t, e.send(t, "POST", path, c.token, c.body), c.status, "")
				if c.field != "" && !slices.Contains(detailFields(m), c.field) {
					t.Errorf("details %v do not name %q", m["details"], c.field)
				}
			})
		}
	})
}

func anyStrings(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i], _ = x.(string)
	}
	return out
}
