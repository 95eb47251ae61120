package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

// contactSchemaBody is the doc's example schema.
func contactSchemaBody(name string) map[string]any {
	return map[string]any{
		"name": name,
		"fields": []map[string]any{
			{"name": "crmKey", "label": "Salesforce Id", "type": "Clave_1"},
			{"name": "firstName", "label": "Nombre", "type": "text"},
			{"name": "phone", "label": "Teléfono", "type": "phone"},
			{"name": "mobile", "label": "Móvil", "type": "phone"},
			{"name": "balance", "label": "Saldo", "type": "number"},
			{"name": "due", "label": "Vencimiento", "type": "date"},
		},
		"matchBy": "key",
		"dispositions": []map[string]any{
			{"name": "Venta", "subcategories": []map[string]any{{"name": "Cerrada", "outcome": "final"}, {"name": "Volver a llamar", "outcome": "callback"}}},
			{"name": "No contactado", "subcategories": []map[string]any{{"name": "Buzón", "outcome": "retry"}, {"name": "No llamar", "outcome": "dnc"}}},
		},
	}
}

func wantDetail(t *testing.T, m map[string]any, field string) {
	t.Helper()
	if !slices.Contains(detailFields(m), field) {
		t.Errorf("error details %v do not name %q: %v", detailFields(m), field, m)
	}
}

func (e *testEnv) sendCSV(t *testing.T, path, tok, body string) *response {
	t.Helper()
	return e.send(t, "POST", path, tok, body, "Content-Type", "text/csv")
}

func TestContactSchemasAndListsAPI(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin, agent := e.token(t, pAdminCC), e.token(t, pAgent)
	const base = "/api/v2/outbound"

	// The demo data may hold schemas and lists already: count from here.
	schemas0 := e.must(t, 200, "GET", base+"/schemas", agent, nil).obj(t)["total"].(float64)
	// Roles: an agent reads, cannot create.
	errorBody(t, e.send(t, "POST", base+"/schemas", agent, contactSchemaBody("Clientes")), 403, "missing.permissions")
	// Bad input names the field and stores nothing.
	bad := contactSchemaBody("Malo")
	bad["fields"].([]map[string]any)[2]["type"] = "telefono"
	bad["dispositions"].([]map[string]any)[0]["subcategories"].([]map[string]any)[1]["outcome"] = "later"
	m := errorBody(t, e.send(t, "POST", base+"/schemas", admin, bad), 400, "bad.request")
	wantDetail(t, m, "fields[2].type")
	wantDetail(t, m, "dispositions[0].subcategories[1].outcome")
	if n := e.must(t, 200, "GET", base+"/schemas", agent, nil).obj(t)["total"]; n != schemas0 {
		t.Fatalf("a bad schema was stored: total %v", n)
	}

	sc := e.must(t, 200, "POST", base+"/schemas", admin, contactSchemaBody("Clientes")).obj(t)
	id, _ := sc["id"].(string)
	if !uuidRE.MatchString(id) || sc["selfUri"] != base+"/schemas/"+id || sc["matchBy"] != "key" || !dateRE.MatchString(sc["dateCreated"].(string)) {
		t.Errorf("created schema %v", sc)
	}
	disp := sc["dispositions"].([]any)[1].(map[string]any)
	if sub := disp["subcategories"].([]any)[1].(map[string]any); !uuidRE.MatchString(sub["id"].(string)) || sub["outcome"] != "dnc" {
		t.Errorf("subcategory %v", sub)
	}
	errorBody(t, e.send(t, "POST", base+"/schemas", admin, contactSchemaBody("Clientes")), 400, "duplicate.value")
	got := e.must(t, 200, "GET", base+"/schemas/"+id, agent, nil).obj(t)
	if got["name"] != "Clientes" || len(got["fields"].([]any)) != 6 {
		t.Errorf("GET schema %v", got)
	}
	if ents := e.must(t, 200, "GET", base+"/schemas?name=Clientes", agent, nil).entities(t); len(ents) != 1 {
		t.Errorf("name filter: %v", ents)
	}
	// PUT the GET back (read-only fields echoed) with a new name.
	got["name"] = "Clientes 2"
	if put := e.must(t, 200, "PUT", base+"/schemas/"+id, admin, got).obj(t); put["name"] != "Clientes 2" ||
		put["dispositions"].([]any)[0].(map[string]any)["id"] != sc["dispositions"].([]any)[0].(map[string]any)["id"] {
		t.Errorf("PUT schema %v", put)
	}
	errorBody(t, e.send(t, "PUT", base+"/schemas/"+id, agent, got), 403, "missing.permissions")
	errorBody(t, e.send(t, "GET", base+"/schemas/nope", agent, nil), 400, "bad.request")
	errorBody(t, e.send(t, "GET", base+"/schemas/"+unknownID, agent, nil), 404, "not.found")

	// Lists.
	errorBody(t, e.send(t, "POST", base+"/contactlists", agent, map[string]any{"name": "Base", "schemaId": id}), 403, "missing.permissions")
	m = errorBody(t, e.send(t, "POST", base+"/contactlists", admin, map[string]any{"name": "Base", "schemaId": id, "defaultCountry": "ZZ"}), 400, "bad.request")
	wantDetail(t, m, "defaultCountry")
	l := e.must(t, 200, "POST", base+"/contactlists", admin, map[string]any{"name": "Base Noviembre", "schemaId": id}).obj(t)
	lid, _ := l["id"].(string)
	if l["defaultCountry"] != "ES" || l["size"] != float64(0) || l["schemaId"] != id || l["selfUri"] != base+"/contactlists/"+lid {
		t.Errorf("list %v", l)
	}
	if ents := e.must(t, 200, "GET", base+"/contactlists?schemaId="+id, agent, nil).entities(t); len(ents) != 1 || ents[0]["id"] != lid {
		t.Errorf("lists by schema: %v", ents)
	}
	errorBody(t, e.send(t, "DELETE", base+"/schemas/"+id, admin, nil), 409, "schema.in.use")

	// Contacts.
	cpath := base + "/contactlists/" + lid + "/contacts"
	m = errorBody(t, e.send(t, "POST", cpath, admin, map[string]any{
		"data": map[string]any{"crmKey": "A1", "balance": "mucho", "edad": "3"}, "phones": map[string]any{"mobile": "12"}}), 400, "bad.request")
	for _, f := range []string{"data.balance", "data.edad", "phones.mobile"} {
		wantDetail(t, m, f)
	}
	errorBody(t, e.send(t, "POST", cpath, agent, map[string]any{"key": "A1"}), 403, "missing.permissions")
	if n := e.must(t, 200, "GET", cpath, agent, nil).obj(t)["total"]; n != float64(0) {
		t.Fatalf("a bad contact was stored: %v", n)
	}
	c := e.must(t, 200, "POST", cpath, admin, map[string]any{
		"data":   map[string]any{"crmKey": "0015g00000XyZ", "firstName": "Ana", "balance": "120.50"},
		"phones": map[string]any{"phone": "911 23 45 67", "mobile": "+34600111222"}}).obj(t)
	cid, _ := c["id"].(string)
	phones, _ := c["phones"].(map[string]any)
	if c["key"] != "0015g00000XyZ" || phones["phone"] != "+34911234567" || c["timeZone"] != "Europe/Madrid" || c["status"] != "new" ||
		c["nextAttempt"] != nil || c["attempts"] != float64(0) || c["selfUri"] != cpath+"/"+cid || c["data"].(map[string]any)["phone"] != "+34911234567" {
		t.Errorf("contact %v", c)
	}
	errorBody(t, e.send(t, "POST", cpath, admin, map[string]any{"key": "0015g00000XyZ"}), 400, "duplicate.value")
	if got := e.must(t, 200, "GET", base+"/contacts/"+cid, agent, nil).obj(t); got["id"] != cid || got["listId"] != lid {
		t.Errorf("GET contact %v", got)
	}
	if ents := e.must(t, 200, "GET", cpath+"?q=600111", agent, nil).entities(t); len(ents) != 1 {
		t.Errorf("q by phone: %v", ents)
	}
	if ents := e.must(t, 200, "GET", cpath+"?status=done", agent, nil).entities(t); len(ents) != 0 {
		t.Errorf("status filter: %v", ents)
	}
	// PUT the GET back, changed.
	got = e.must(t, 200, "GET", cpath+"/"+cid, agent, nil).obj(t)
	got["data"].(map[string]any)["firstName"] = "Ana María"
	got["status"] = "done"
	if put := e.must(t, 200, "PUT", cpath+"/"+cid, admin, got).obj(t); put["data"].(map[string]any)["firstName"] != "Ana María" || put["status"] != "done" {
		t.Errorf("PUT contact %v", put)
	}
	if h := e.must(t, 200, "GET", base+"/contacts/"+cid+"/attempts", agent, nil).obj(t); h["total"] != float64(0) {
		t.Errorf("attempts %v", h)
	}
	errorBody(t, e.send(t, "GET", base+"/contacts/"+unknownID+"/attempts", agent, nil), 404, "not.found")
	// A list's schema cannot change once it holds contacts.
	other := e.must(t, 200, "POST", base+"/schemas", admin, contactSchemaBody("Otro")).obj(t)
	errorBody(t, e.send(t, "PUT", base+"/contactlists/"+lid, admin, map[string]any{"name": "Base Noviembre", "schemaId": other["id"]}), 409, "list.not.empty")
	e.must(t, 204, "DELETE", cpath+"/"+cid, admin, nil)
	errorBody(t, e.send(t, "GET", base+"/contacts/"+cid, agent, nil), 404, "not.found")
	errorBody(t, e.send(t, "DELETE", base+"/contactlists/"+lid, agent, nil), 403, "missing.permissions")
	e.must(t, 204, "DELETE", base+"/contactlists/"+lid, admin, nil)
	e.must(t, 204, "DELETE", base+"/schemas/"+id, admin, nil)
	errorBody(t, e.send(t, "GET", base+"/contactlists/"+lid, agent, nil), 404, "not.found")
}

func TestContactImportExportFindOrCreateAPI(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin, agent := e.token(t, pAdminCC), e.token(t, pAgent)
	const base = "/api/v2/outbound"
	sc := e.must(t, 200, "POST", base+"/schemas", admin, contactSchemaBody("Clientes")).obj(t)
	l := e.must(t, 200, "POST", base+"/contactlists", admin, map[string]any{"name": "Base", "schemaId": sc["id"]}).obj(t)
	lid := l["id"].(string)
	imp := base + "/contactlists/" + lid + "/import"

	file := "\ufeffSalesforce Id;Nombre;Teléfono;Saldo\n" +
		"K1;Ana;911234567;10\n" +
		";Sin clave;911234568;\n" +
		"K3;Tel malo;12;\n" +
		"K4;Bea;600111222;1,5\n"
	errorBody(t, e.sendCSV(t, imp, agent, file), 403, "missing.permissions")
	m := errorBody(t, e.sendCSV(t, imp, admin, file), 400, "import.invalid")
	if f := detailFields(m); !slices.Equal(f, []string{"rows[3].Salesforce Id", "rows[4].Teléfono"}) {
		t.Errorf("details %v", f)
	}
	if n := e.must(t, 200, "GET", base+"/contactlists/"+lid, agent, nil).obj(t)["size"]; n != float64(0) {
		t.Fatalf("all-or-nothing import stored %v", n)
	}
	rep := e.sendCSV(t, imp+"?skipInvalid=true", admin, file)
	if rep.status != 200 {
		t.Fatalf("skipInvalid: %s", rep)
	}
	r := rep.obj(t)
	errs, _ := r["errors"].([]any)
	if r["imported"] != float64(2) || r["updated"] != float64(0) || r["skipped"] != float64(2) || len(errs) != 2 ||
		errs[0].(map[string]any)["row"] != float64(3) || errs[1].(map[string]any)["column"] != "Teléfono" {
		t.Errorf("report %v", r)
	}
	// Unknown columns fail the whole file.
	m = errorBody(t, e.sendCSV(t, imp+"?skipInvalid=true", admin, "crmKey,edad\nK9,3\n"), 400, "import.invalid")
	wantDetail(t, m, "rows[1].edad")

	// Export, then import into a new list: the same contacts.
	req, _ := http.NewRequest("GET", e.base+base+"/contactlists/"+lid+"/export", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	exp := e.do(t, req)
	if exp.status != 200 || !strings.HasPrefix(exp.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %s", exp)
	}
	recs, err := csv.NewReader(strings.NewReader(string(exp.body))).ReadAll()
	if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != "crmKey,firstName,phone,mobile,balance,due,id,status,attempts,lastOutcome,category,subcategory,timeZone" ||
		recs[2][0] != "K4" || recs[2][2] != "+34600111222" || recs[2][4] != "1.5" {
		t.Errorf("export %q (%v)", recs, err)
	}
	errorBody(t, e.send(t, "GET", base+"/contactlists/"+lid+"/export", agent, nil), 403, "missing.permissions")
	l2 := e.must(t, 200, "POST", base+"/contactlists", admin, map[string]any{"name": "Copia", "schemaId": sc["id"]}).obj(t)
	if r := e.sendCSV(t, base+"/contactlists/"+l2["id"].(string)+"/import", admin, string(exp.body)); r.status != 200 || r.obj(t)["imported"] != float64(2) {
		t.Fatalf("re-import: %s", r)
	}
	a := e.must(t, 200, "GET", base+"/contactlists/"+lid+"/contacts", admin, nil).entities(t)
	b := e.must(t, 200, "GET", base+"/contactlists/"+l2["id"].(string)+"/contacts", admin, nil).entities(t)
	for i := range a {
		if fmt.Sprint(a[i]["data"], a[i]["phones"], a[i]["timeZone"]) != fmt.Sprint(b[i]["data"], b[i]["phones"], b[i]["timeZone"]) {
			t.Errorf("round trip: %v != %v", a[i], b[i])
		}
	}

	// Bodies over 1 MiB: the import takes them, other routes still refuse.
	var big strings.Builder
	big.WriteString("crmKey,firstName\n")
	for i := 0; big.Len() < 3<<20; i++ {
		fmt.Fprintf(&big, "B%06d,%s\n", i, strings.Repeat("x", 200))
	}
	if r := e.sendCSV(t, imp, admin, big.String()); r.status != 200 {
		t.Errorf("3 MiB import: %s", r)
	}
	r2 := e.send(t, "POST", base+"/schemas", admin, `{"name":"`+strings.Repeat("x", 2<<20)+`"}`)
	if r2.status != 413 && r2.status != 400 {
		t.Errorf("2 MiB JSON body elsewhere: %s", r2)
	}
	huge := big.String() + strings.Repeat(big.String()[17:], 3)
	if r := e.sendCSV(t, imp, admin, huge); r.status != 413 && r.status != 400 {
		t.Errorf("%d-byte import: %s", len(huge), r)
	}

	// Find-or-create: agents may call it.
	foc := base + "/contactlists/" + lid + "/findorcreate"
	k1 := e.must(t, 200, "POST", foc, agent, map[string]any{"data": "K1", "ani": "+34999999999"}).obj(t)
	if k1["created"] != false || k1["clavesf"] != k1["contactId"].(string)+"-K1" || k1["contact"].(map[string]any)["key"] != "K1" {
		t.Errorf("known key: %v", k1)
	}
	nw := e.must(t, 200, "POST", foc, agent, map[string]any{"data": "0015g00000XyZ", "ani": "911000001"}).obj(t)
	if nw["created"] != true || nw["clavesf"] != nw["contactId"].(string)+"-0015g00000XyZ" ||
		nw["contact"].(map[string]any)["phones"].(map[string]any)["phone"] != "+34911000001" {
		t.Errorf("new key: %v", nw)
	}
	h1 := e.must(t, 200, "POST", foc, agent, map[string]any{}).obj(t)
	h2 := e.must(t, 200, "POST", foc, agent, map[string]any{"data": "", "ani": ""}).obj(t)
	if h1["created"] != true || h2["created"] != true || h1["contactId"] == h2["contactId"] || h1["clavesf"] != h1["contactId"].(string)+"-" {
		t.Errorf("hidden number: %v %v", h1, h2)
	}
	errorBody(t, e.send(t, "POST", base+"/contactlists/"+unknownID+"/findorcreate", agent, map[string]any{"data": "x"}), 404, "not.found")
}

func TestDNCListsAPI(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin, sup, agent := e.token(t, pAdminCC), e.token(t, pSupervisor), e.token(t, pAgent)
	const base = "/api/v2/outbound/dnclists"
	errorBody(t, e.send(t, "POST", base, sup, map[string]any{"name": "Robinson"}), 403, "missing.permissions")
	errorBody(t, e.send(t, "POST", base, admin, map[string]any{"name": " "}), 400, "bad.request")
	d := e.must(t, 200, "POST", base, admin, map[string]any{"name": "Robinson"}).obj(t)
	id := d["id"].(string)
	if d["size"] != float64(0) || d["selfUri"] != base+"/"+id {
		t.Errorf("dnc list %v", d)
	}
	errorBody(t, e.send(t, "GET", base, agent, nil), 403, "missing.permissions")
	if ents := e.must(t, 200, "GET", base+"?name=Robinson", sup, nil).entities(t); len(ents) != 1 {
		t.Errorf("lists %v", ents)
	}
	nums := base + "/" + id + "/phonenumbers"
	m := errorBody(t, e.send(t, "POST", nums, admin, map[string]any{"phoneNumbers": []string{"+34911234567", "12"}, "defaultCountry": "ES"}), 400, "bad.request")
	wantDetail(t, m, "phoneNumbers[1]")
	if n := e.must(t, 200, "GET", base+"/"+id, sup, nil).obj(t)["size"]; n != float64(0) {
		t.Fatalf("a bad request added numbers: %v", n)
	}
	if r := e.must(t, 200, "POST", nums, admin, map[string]any{"phoneNumbers": []string{"+34911234567", "600 111 222"}}).obj(t); r["count"] != float64(2) {
		t.Errorf("added %v", r)
	}
	if ents := e.must(t, 200, "GET", nums, sup, nil).entities(t); len(ents) != 2 || ents[0]["phoneNumber"] != "+34600111222" || !dateRE.MatchString(ents[0]["dateCreated"].(string)) {
		t.Errorf("numbers %v", ents)
	}
	if r := e.must(t, 200, "DELETE", nums, admin, map[string]any{"phoneNumbers": []string{"911234567"}}).obj(t); r["count"] != float64(1) {
		t.Errorf("removed %v", r)
	}
	m = errorBody(t, e.sendCSV(t, base+"/"+id+"/import", admin, "numero\n911000001\nabc\n"), 400, "import.invalid")
	wantDetail(t, m, "rows[3].numero")
	r := e.sendCSV(t, base+"/"+id+"/import?skipInvalid=true", admin, "numero\n911000001\nabc\n600111222\n")
	if r.status != 200 || r.obj(t)["imported"] != float64(1) || r.obj(t)["updated"] != float64(1) || r.obj(t)["skipped"] != float64(1) {
		t.Errorf("import %s", r)
	}
	if put := e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "Robinson 2"}).obj(t); put["name"] != "Robinson 2" || put["size"] != float64(2) {
		t.Errorf("PUT %v", put)
	}
	e.must(t, 204, "DELETE", base+"/"+id, admin, nil)
	errorBody(t, e.send(t, "GET", base+"/"+id, sup, nil), 404, "not.found")
}
