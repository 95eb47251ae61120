package api_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

func seed002XML(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../crm/testdata/seed002.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCRMCallCenters(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin, sup, agent := e.token(t, pAdmin), e.token(t, pSupervisor), e.token(t, pAgent)
	const base = "/api/v2/crm/callcenters"
	xmlHdr := []string{"Content-Type", "application/xml"}
	seed := seed002XML(t)

	// Import seed 002's definition.
	r := e.send(t, "POST", base+"/import?name=Neotel", admin, seed, xmlHdr...)
	if r.status != 200 {
		t.Fatalf("import: %s", r)
	}
	cc := r.obj(t)
	id, _ := cc["id"].(string)
	if !uuidRE.MatchString(id) || cc["name"] != "Neotel" || cc["connector"] != "salesforce" || cc["internalName"] != "NeotelCTI" ||
		cc["externalData"] != "neoContactId__c-contactId|neoBaseId__c-contactBaseId|neoCrmId__c-crmId" ||
		cc["defaultNewRowData"] != "neoContactId__c-contactId|neoBaseId__c-contactBaseId|neoCrmId__c-crmId|Phone-phoneNumber" ||
		cc["automaticContactRelease"] != float64(-1) || cc["campaignEntityName"] != "" || cc["softphoneWidth"] != float64(620) {
		t.Fatalf("imported: %s", r)
	}
	// The same again: the name is taken.
	errorBody(t, e.send(t, "POST", base+"/import?name=neotel", admin, seed, xmlHdr...), 400, "duplicate.value")

	// The definition back, with our adapter URL.
	r = e.must(t, 200, "GET", base+"/"+id+"/xml?baseUrl=https://cc.example.com", sup, nil)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Errorf("Content-Type %q", ct)
	}
	out := string(r.body)
	for _, w := range []string{`<item sortOrder="2" name="reqAdapterUrl" label="CTI Adapter URL">https://cc.example.com/softphone/</item>`,
		`<item sortOrder="2" name="defaultNewRowData" label="Datos default para nuevos Registros">neoContactId__c-contactId|neoBaseId__c-contactBaseId|neoCrmId__c-crmId|Phone-phoneNumber|</item>`,
		`<section sortOrder="1" name="neotelConfigOptions" label="Opciones">`} {
		if !strings.Contains(out, w) {
			t.Errorf("export lacks %s:\n%s", w, out)
		}
	}
	r = e.must(t, 200, "GET", base+"/"+id+"/xml", sup, nil)
	if !strings.Contains(string(r.body), e.base+"/softphone/") {
		t.Errorf("default adapter URL is not %s/softphone/:\n%s", e.base, r.body)
	}
	errorBody(t, e.send(t, "GET", base+"/"+id+"/xml", agent, nil), 403, "missing.permissions")

	// A bad definition is a 400 naming the item, and changes nothing.
	before := e.must(t, 200, "GET", base+"/"+id, admin, nil).obj(t)
	bad := strings.Replace(seed, `(true/false)">true`, `(true/false)">maybe`, 1)
	m := errorBody(t, e.send(t, "PUT", base+"/"+id+"/xml", admin, bad, xmlHdr...), 400, "bad.request")
	if msg, _ := m["message"].(string); !strings.Contains(msg, `section[neotelConfigOptions].item[allowCategorization]: "maybe" is not true or false`) {
		t.Errorf("message %q does not name the item", msg)
	}
	errorBody(t, e.send(t, "PUT", base+"/"+id+"/xml", admin, "<notes/>", xmlHdr...), 400, "bad.request")
	errorBody(t, e.send(t, "POST", base+"/import", admin, bad, xmlHdr...), 400, "bad.request")
	if after := e.must(t, 200, "GET", base+"/"+id, admin, nil).obj(t); !reflect.DeepEqual(before, after) {
		t.Errorf("a rejected definition changed the call center:\n%v\n%v", before, after)
	}
	if n := e.must(t, 200, "GET", base, sup, nil).obj(t)["total"]; n != float64(2) { // the demo's and this one
		t.Errorf("total %v after rejected imports", n)
	}
	// A good one replaces the options.
	good := strings.Replace(seed, `(true/false)">true`, `(true/false)">false`, 1)
	r = e.must(t, 200, "PUT", base+"/"+id+"/xml", admin, good)
	if r.obj(t)["allowCategorization"] != false || r.obj(t)["name"] != "Neotel" {
		t.Errorf("after PUT xml: %s", r)
	}

	// JSON: secrets are write-only.
	r = e.send(t, "POST", base, admin, map[string]any{"name": "Ventas", "connector": "salesforce",
		"externalData": "neoContactId__c-contactId|", "searchTypePriority": []string{"Contact", "Account"},
		"settings": map[string]string{"instanceUrl": "https://acme.my.salesforce.com"},
		"secrets":  map[string]string{"clientSecret": "very-s3cr3t"}, "layout": map[string]any{"noMatch": "none"}})
	if r.status != 200 || strings.Contains(string(r.body), "very-s3cr3t") {
		t.Fatalf("create: %s", r)
	}
	v := r.obj(t)
	vid := v["id"].(string)
	if !reflect.DeepEqual(v["secretsSet"], []any{"clientSecret"}) || v["externalData"] != "neoContactId__c-contactId" ||
		v["layout"].(map[string]any)["noMatch"] != "none" || v["layout"].(map[string]any)["singleMatch"] != "open" {
		t.Errorf("created: %s", r)
	}
	if s, err := e.app.CRM.Secret(t.Context(), vid, "clientSecret"); err != nil || s != "very-s3cr3t" {
		t.Errorf("secret: %q %v", s, err)
	}
	// Echoing a GET back keeps the secret.
	got := e.must(t, 200, "GET", base+"/"+vid, admin, nil).obj(t)
	got["displayName"] = "Ventas (SF)"
	r = e.must(t, 200, "PUT", base+"/"+vid, admin, got)
	if r.obj(t)["displayName"] != "Ventas (SF)" || !reflect.DeepEqual(r.obj(t)["secretsSet"], []any{"clientSecret"}) {
		t.Errorf("put: %s", r)
	}
	// Agents see the options, not the settings or secret names.
	a := e.must(t, 200, "GET", base+"/"+vid, agent, nil).obj(t)
	if _, ok := a["settings"]; ok || a["secretsSet"] != nil || a["name"] != "Ventas" {
		t.Errorf("agent view: %v", a)
	}
	errorBody(t, e.send(t, "GET", base, agent, nil), 403, "missing.permissions")
	errorBody(t, e.send(t, "POST", base, sup, map[string]any{"name": "x"}), 403, "missing.permissions")

	// Validation names the field.
	m = errorBody(t, e.send(t, "POST", base, admin, map[string]any{"name": "Malo", "externalData": "Phone-telefono",
		"softphoneHeight": 100, "layout": map[string]any{"multipleMatches": "open"}}), 400, "bad.request")
	msg, _ := m["message"].(string)
	for _, w := range []string{"externalData:", "telefono", "softphoneHeight:", "layout.multipleMatches:"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}

	e.must(t, 204, "DELETE", base+"/"+vid, admin, nil)
	errorBody(t, e.send(t, "GET", base+"/"+vid, admin, nil), 404, "not.found")
}
