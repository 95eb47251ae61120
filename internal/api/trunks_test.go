package api_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

func TestTrunksCRUD(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin := e.token(t, pAdmin)
	ventas := e.findID(t, "/api/v2/routing/queues", "Ventas")
	soporte := e.findID(t, "/api/v2/routing/queues", "Soporte")
	const base = "/api/v2/telephony/sip/trunks"

	// The demo's trunk: its numbers reach the demo queues; it has no password.
	list := e.must(t, 200, "GET", base, admin, nil).entities(t)
	if len(list) != 1 || list[0]["name"] != "Demo carrier" || list[0]["hasPassword"] != false {
		t.Fatalf("demo trunks: %v", list)
	}
	if dids, _ := list[0]["dids"].([]any); len(dids) != 4 {
		t.Fatalf("demo DIDs: %v", list[0]["dids"])
	}

	created := e.must(t, 200, "POST", base, admin, map[string]any{
		"name": "Carrier", "address": "sip:192.0.2.10:5060", "username": "acct", "password": "s3cret-trunk",
		"defaultCountry": "es", "callerId": "91 000 00 10",
		"dids": []map[string]any{{"number": "910 000 123", "queueId": ventas}, {"number": "3001", "queueId": soporte}},
	})
	if bytes.Contains(created.body, []byte("s3cret-trunk")) {
		t.Fatalf("the password came back: %s", created)
	}
	tr := created.obj(t)
	id := tr["id"].(string)
	if !uuidRE.MatchString(id) || tr["address"] != "192.0.2.10:5060" || tr["defaultCountry"] != "ES" || tr["callerId"] != "+34910000010" ||
		tr["hasPassword"] != true || tr["selfUri"] != base+"/"+id || !dateRE.MatchString(tr["dateCreated"].(string)) {
		t.Fatalf("created: %v", tr)
	}
	dids := tr["dids"].([]any)
	if len(dids) != 2 || dids[0].(map[string]any)["number"] != "+34910000123" || dids[1].(map[string]any)["number"] != "3001" {
		t.Fatalf("DIDs normalized: %v", dids)
	}
	for _, r := range []*response{e.must(t, 200, "GET", base+"/"+id, admin, nil), e.must(t, 200, "GET", base, admin, nil)} {
		if bytes.Contains(r.body, []byte("s3cret")) || bytes.Contains(r.body, []byte(`"password"`)) {
			t.Fatalf("a read shows the password: %s", r)
		}
	}

	// Bad input names the field and says why.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "x", "address": "a b:99999"}, "address"},
		{map[string]any{"name": "x", "address": "192.0.2.1", "defaultCountry": "XX"}, "defaultCountry"},
		{map[string]any{"name": "x", "address": "192.0.2.1", "password": "p"}, "username"},
		{map[string]any{"name": "x", "address": "192.0.2.1", "dids": []map[string]any{{"number": "12ab", "queueId": ventas}}}, "dids[0].number"},
		{map[string]any{"name": "x", "address": "192.0.2.1", "dids": []map[string]any{{"number": "5", "queueId": unknownID}}}, "dids[0].queueId"},
		{map[string]any{"name": "x", "address": "192.0.2.1", "dids": []map[string]any{{"number": "5", "queueId": ventas}, {"number": "5", "queueId": soporte}}}, "dids[1].number"},
		{map[string]any{"name": "x", "address": "192.0.2.1", "dids": []map[string]any{{"number": "+34 910 000 123", "queueId": ventas}}}, "dids[0].number"},
		{map[string]any{"name": "carrier", "address": "192.0.2.1"}, "name"},
	} {
		r := e.send(t, "POST", base, admin, tc.body)
		b := errorBody(t, r, 400, "")
		found := false
		for _, d := range b["details"].([]any) {
			if d.(map[string]any)["fieldName"] == tc.field {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: no detail for %s: %s", tc.body, tc.field, r)
		}
	}

	// PUT keeps the password unless given or cleared.
	upd := e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "Carrier 2", "address": "192.0.2.11", "username": "acct",
		"dids": []map[string]any{{"number": "+34910000124", "queueId": soporte}}}).obj(t)
	if upd["name"] != "Carrier 2" || upd["hasPassword"] != true || len(upd["dids"].([]any)) != 1 {
		t.Fatalf("updated: %v", upd)
	}
	upd = e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "Carrier 2", "address": "192.0.2.11", "clearPassword": true}).obj(t)
	if upd["hasPassword"] != false || len(upd["dids"].([]any)) != 0 {
		t.Fatalf("cleared: %v", upd)
	}
	e.must(t, 204, "DELETE", base+"/"+id, admin, nil)
	e.must(t, 404, "GET", base+"/"+id, admin, nil)
	errorBody(t, e.send(t, "GET", base+"/not-an-id", admin, nil), 400, "")
}

// A call to a DID (or the demo's short number) reaches the DID's queue.
func TestDIDsRouteToQueues(t *testing.T) {
	ce := startCalls(t)
	ce.onQueue(t, "agent3", "1003") // works Ventas and Soporte
	for _, tc := range []struct{ to, queue string }{{"2001", ce.ventas}, {"+34910000002", ce.soporte}, {"tel:+34 910 000 001", ce.ventas}} {
		id := ce.inject(t, tc.to, "+34600000001")
		ce.quiet(t)
		c := ce.conv(t, id)
		acd := c.part("acd", "")
		if acd == nil || !strings.Contains(acd["queue"].(map[string]any)["id"].(string), tc.queue) {
			t.Fatalf("%s: %v (acd %v)", tc.to, c, acd)
		}
		if cp := c.part("customer", ""); cp["dnis"] != "tel:"+tc.to && !strings.HasPrefix(tc.to, "tel:") {
			t.Fatalf("%s: dnis %v", tc.to, cp["dnis"])
		}
		ce.must(t, 202, "POST", "/api/v2/conversations/"+id+"/disconnect", ce.token(t, pSupervisor), nil)
		ce.quiet(t)
	}
	// A number nobody routes is refused with the reason.
	r := ce.send(t, "POST", "/api/v2/simulation/calls", ce.token(t, pAdmin), map[string]any{"to": "2999", "from": "+34600000001"})
	errorBody(t, r, 400, "destination.unknown")
}

// Registration settings: stored and shown, checked with clear messages
// (nothing stored on a refusal); without the SIP switch no live state.
func TestTrunksRegisterSettings(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin := e.token(t, pAdmin)
	const base = "/api/v2/telephony/sip/trunks"
	count := func() int { return len(e.must(t, 200, "GET", base, admin, nil).entities(t)) }
	before := count()

	detail := func(r *response, field, says string) {
		t.Helper()
		b := errorBody(t, r, 400, "")
		for _, d := range b["details"].([]any) {
			d := d.(map[string]any)
			if d["fieldName"] == field && strings.Contains(d["message"].(string), says) {
				return
			}
		}
		t.Errorf("no detail for %s saying %q: %s", field, says, r)
	}
	detail(e.send(t, "POST", base, admin, map[string]any{"name": "R", "address": "192.0.2.30", "register": true}),
		"username", "required to register")
	detail(e.send(t, "POST", base, admin, map[string]any{"name": "R", "address": "192.0.2.30", "register": true}),
		"password", "required to register")
	detail(e.send(t, "POST", base, admin, map[string]any{"name": "R", "address": "192.0.2.30", "username": "acct", "register": true}),
		"password", "required to register")
	detail(e.send(t, "POST", base, admin, map[string]any{"name": "R", "address": "192.0.2.30", "username": "acct", "password": "pw",
		"register": true, "registerExpires": 30}), "registerExpires", "60 to 86400 seconds")
	detail(e.send(t, "POST", base, admin, map[string]any{"name": "R", "address": "192.0.2.30", "registerExpires": 90000}),
		"registerExpires", "got 90000")
	if n := count(); n != before {
		t.Fatalf("refused creates left %d trunks, had %d", n, before)
	}

	tr := e.must(t, 200, "POST", base, admin, map[string]any{"name": "R", "address": "192.0.2.30", "username": "acct", "password": "reg-secret",
		"register": true, "registerExpires": 600}).obj(t)
	id := tr["id"].(string)
	got := e.must(t, 200, "GET", base+"/"+id, admin, nil)
	g := got.obj(t)
	if g["register"] != true || g["registerExpires"] != float64(600) || g["registration"] != nil || bytes.Contains(got.body, []byte("reg-secret")) {
		t.Fatalf("GET: %s", got)
	}
	// PUT: the stored password still registers; clearing it does not.
	upd := e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "R", "address": "192.0.2.30", "username": "acct", "register": true}).obj(t)
	if upd["register"] != true || upd["registerExpires"] != float64(3600) || upd["hasPassword"] != true {
		t.Fatalf("PUT keeping the password: %v", upd)
	}
	detail(e.send(t, "PUT", base+"/"+id, admin, map[string]any{"name": "R", "address": "192.0.2.31", "username": "acct", "register": true, "clearPassword": true}),
		"password", "required to register")
	if g := e.must(t, 200, "GET", base+"/"+id, admin, nil).obj(t); g["address"] != "192.0.2.30" || g["hasPassword"] != true {
		t.Fatalf("a refused PUT changed the trunk: %v", g)
	}
	// Not registering: the expiry is kept, the password may go.
	upd = e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "R", "address": "192.0.2.30", "clearPassword": true, "registerExpires": 120}).obj(t)
	if upd["register"] != false || upd["registerExpires"] != float64(120) || upd["hasPassword"] != false {
		t.Fatalf("PUT without register: %v", upd)
	}
}

// The transport: udp unless asked, tls in any case, anything else refused
// naming the field; PUT without it goes back to udp.
func TestTrunksTransport(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin := e.token(t, pAdmin)
	const base = "/api/v2/telephony/sip/trunks"
	tr := e.must(t, 200, "POST", base, admin, map[string]any{"name": "T", "address": "192.0.2.40"}).obj(t)
	if tr["transport"] != "udp" {
		t.Fatalf("default transport: %v", tr)
	}
	id := tr["id"].(string)
	tr = e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "T", "address": "sip.carrier.example", "transport": "TLS"}).obj(t)
	if tr["transport"] != "tls" {
		t.Fatalf("tls: %v", tr)
	}
	if got := e.must(t, 200, "GET", base+"/"+id, admin, nil).obj(t); got["transport"] != "tls" {
		t.Fatalf("read back: %v", got)
	}
	r := e.send(t, "POST", base, admin, map[string]any{"name": "U", "address": "192.0.2.41", "transport": "tcp"})
	b := errorBody(t, r, 400, "")
	found := false
	for _, d := range b["details"].([]any) {
		d := d.(map[string]any)
		if d["fieldName"] == "transport" && strings.Contains(d["message"].(string), "must be udp or tls") {
			found = true
		}
	}
	if !found {
		t.Errorf("tcp: no detail on transport: %s", r)
	}
	tr = e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "T", "address": "192.0.2.40"}).obj(t)
	if tr["transport"] != "udp" {
		t.Fatalf("PUT without transport: %v", tr)
	}
}

// srtp: false unless asked, true with transport tls (read back), refused
// over udp naming the field; PUT without it turns it off.
func TestTrunksSRTP(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin := e.token(t, pAdmin)
	const base = "/api/v2/telephony/sip/trunks"
	tr := e.must(t, 200, "POST", base, admin, map[string]any{"name": "S", "address": "192.0.2.50", "transport": "tls"}).obj(t)
	if tr["srtp"] != false {
		t.Fatalf("default srtp: %v", tr)
	}
	id := tr["id"].(string)
	tr = e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "S", "address": "192.0.2.50", "transport": "tls", "srtp": true}).obj(t)
	if tr["srtp"] != true {
		t.Fatalf("srtp: %v", tr)
	}
	if got := e.must(t, 200, "GET", base+"/"+id, admin, nil).obj(t); got["srtp"] != true {
		t.Fatalf("read back: %v", got)
	}
	r := e.send(t, "POST", base, admin, map[string]any{"name": "U", "address": "192.0.2.51", "srtp": true})
	b := errorBody(t, r, 400, "")
	found := false
	for _, d := range b["details"].([]any) {
		d := d.(map[string]any)
		if d["fieldName"] == "srtp" && strings.Contains(d["message"].(string), "needs transport tls") {
			found = true
		}
	}
	if !found {
		t.Errorf("srtp over udp: no detail on srtp: %s", r)
	}
	tr = e.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{"name": "S", "address": "192.0.2.50", "transport": "tls"}).obj(t)
	if tr["srtp"] != false {
		t.Fatalf("PUT without srtp: %v", tr)
	}
}
