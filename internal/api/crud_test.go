package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

// loginFails checks that a username/password pair is refused by the login page.
func (e *testEnv) loginFails(t *testing.T, username, password string) {
	t.Helper()
	p := newPKCE("failing-login-")
	form := e.authorizeParams(p)
	form.Set("username", username)
	form.Set("password", password)
	r := e.postForm(t, "/oauth/authorize", form, "", "")
	if r.status != 401 || r.header.Get("Location") != "" {
		t.Fatalf("login %s/%s: got %s (Location %q), want 401 without redirect", username, password, r, r.header.Get("Location"))
	}
}

func TestUsersCRUD(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin := e.token(t, pAdminCC)

	created := e.must(t, 200, "POST", "/api/v2/users", admin, map[string]any{
		"name": "Nora Nueva", "username": "nora", "email": "nora@example.com", "password": "nora-pass",
		"roles": []string{"agent"}, "department": "Ventas", "title": "Agente", "phone": "+34600111222",
	}).obj(t)
	id, _ := created["id"].(string)
	if !uuidRE.MatchString(id) {
		t.Fatalf("created user id %v", created["id"])
	}
	for k, want := range map[string]any{"name": "Nora Nueva", "username": "nora", "email": "nora@example.com", "state": "active",
		"version": float64(1), "department": "Ventas", "title": "Agente", "selfUri": "/api/v2/users/" + id} {
		if created[k] != want {
			t.Errorf("created %s = %v, want %v", k, created[k], want)
		}
	}
	if rs, _ := created["roles"].([]any); !slices.Equal(rs, []any{"agent"}) {
		t.Errorf("roles %v", created["roles"])
	}
	if _, ok := created["password"]; ok || strings.Contains(string(e.must(t, 200, "GET", "/api/v2/users/"+id, admin, nil).body), "nora-pass") {
		t.Error("the password is echoed")
	}
	if !dateRE.MatchString(created["dateCreated"].(string)) {
		t.Errorf("dateCreated %v", created["dateCreated"])
	}
	got := e.must(t, 200, "GET", "/api/v2/users/"+id, admin, nil).obj(t)
	if got["name"] != "Nora Nueva" || got["version"] != float64(1) {
		t.Errorf("GET after create: %v", got)
	}
	if n := e.usersPage(t, "")["total"]; n != float64(8) {
		t.Errorf("total %v after create, want 8", n)
	}
	// Username defaults to the email.
	byEmail := e.must(t, 200, "POST", "/api/v2/users", admin, map[string]any{"name": "Por Correo", "email": "correo@example.com"}).obj(t)
	if byEmail["username"] != "correo@example.com" {
		t.Errorf("username %v, want the email", byEmail["username"])
	}
	e.must(t, 200, "DELETE", "/api/v2/users/"+byEmail["id"].(string), admin, nil)

	// The new person can log in.
	nora := e.login(t, "nora", "nora-pass").AccessToken
	if me := e.must(t, 200, "GET", "/api/v2/users/me", nora, nil).obj(t); me["id"] != id {
		t.Errorf("users/me %v", me["id"])
	}

	// PATCH with the current version; fields not sent stay.
	patched := e.must(t, 200, "PATCH", "/api/v2/users/"+id, admin, map[string]any{"version": 1, "name": "Nora Cambiada", "title": "Jefa"}).obj(t)
	if patched["name"] != "Nora Cambiada" || patched["title"] != "Jefa" || patched["department"] != "Ventas" || patched["version"] != float64(2) {
		t.Errorf("patched: %v", patched)
	}
	errorBody(t, e.send(t, "PATCH", "/api/v2/users/"+id, admin, map[string]any{"version": 1, "name": "Otra"}), 409, "conflict")
	if e.must(t, 200, "GET", "/api/v2/users/"+id, admin, nil).obj(t)["name"] != "Nora Cambiada" {
		t.Error("stale PATCH changed the user")
	}

	// A role change holds at once, on existing tokens too.
	ventas := e.findID(t, "/api/v2/routing/queues", "Ventas")
	errorBody(t, e.send(t, "GET", "/api/v2/routing/queues/"+ventas+"/members", nora, nil), 403, "missing.permissions")
	e.must(t, 200, "PATCH", "/api/v2/users/"+id, admin, map[string]any{"version": 2, "roles": []string{"supervisor"}})
	e.must(t, 200, "GET", "/api/v2/routing/queues/"+ventas+"/members", nora, nil)

	// An admin sets a password: sessions end, the old password stops working.
	e.must(t, 204, "POST", "/api/v2/users/"+id+"/password", admin, map[string]any{"newPassword": "nueva-clave"})
	errorBody(t, e.send(t, "GET", "/api/v2/users/me", nora, nil), 401, "")
	e.loginFails(t, "nora", "nora-pass")
	nora = e.login(t, "nora", "nueva-clave").AccessToken

	// The person changes their own password.
	e.must(t, 204, "POST", "/api/v2/users/me/password", nora, map[string]any{"oldPassword": "nueva-clave", "newPassword": "otra-clave"})
	e.loginFails(t, "nora", "nueva-clave")
	nora = e.login(t, "nora", "otra-clave").AccessToken

	// An admin cannot delete themself.
	adminPerson := e.token(t, pAdmin)
	errorBody(t, e.send(t, "DELETE", "/api/v2/users/"+e.userID(t, "admin"), adminPerson, nil), 403, "not.authorized")

	// Delete: the user leaves listings and queues and can no longer log in.
	e.must(t, 204, "POST", "/api/v2/routing/queues/"+ventas+"/members", admin, []any{map[string]any{"id": id}})
	e.must(t, 200, "DELETE", "/api/v2/users/"+id, adminPerson, nil)
	errorBody(t, e.send(t, "GET", "/api/v2/users/me", nora, nil), 401, "")
	e.loginFails(t, "nora", "otra-clave")
	if g := e.must(t, 200, "GET", "/api/v2/users/"+id, admin, nil).obj(t); g["state"] != "deleted" {
		t.Errorf("deleted user state %v", g["state"])
	}
	if n := e.usersPage(t, "")["total"]; n != float64(7) {
		t.Errorf("total %v after delete, want 7", n)
	}
	if ids := e.usersPage(t, "state=deleted")["entities"].([]any); len(ids) != 2 {
		t.Errorf("state=deleted lists %d users, want 2", len(ids))
	}
	for _, m := range e.must(t, 200, "GET", "/api/v2/routing/queues/"+ventas+"/members", admin, nil).entities(t) {
		if m["id"] == id {
			t.Error("deleted user still a queue member")
		}
	}
	errorBody(t, e.send(t, "DELETE", "/api/v2/users/"+id, admin, nil), 404, "not.found")
}

func TestStationsCRUD(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin := e.token(t, pAdminCC)
	const secret1, secret2 = "sip-secret-2001", "sip-secret-rotated"
	var bodies []*response
	keep := func(r *response) *response { bodies = append(bodies, r); return r }

	st := keep(e.must(t, 200, "POST", "/api/v2/stations", admin, map[string]any{"name": "2001", "type": "sip", "password": secret1})).obj(t)
	id := st["id"].(string)
	if st["name"] != "2001" || st["type"] != "sip" || st["hasPassword"] != true || !uuidRE.MatchString(id) {
		t.Errorf("created station: %v", st)
	}
	keep(e.must(t, 200, "GET", "/api/v2/stations/"+id, admin, nil))
	list := keep(e.must(t, 200, "GET", "/api/v2/stations", admin, nil))
	if ns := names(list.entities(t)); !slices.Equal(ns, []string{"1001", "1002", "1003", "1004", "1005", "1101", "1102", "1103", "1104", "1105", "2001"}) {
		t.Errorf("stations %v", ns)
	}
	if f := keep(e.must(t, 200, "GET", "/api/v2/stations?name=200*", e.token(t, pAgent), nil)).entities(t); len(f) != 1 || f[0]["id"] != id {
		t.Errorf("name filter: %v", f)
	}
	// PUT without a password keeps it; with one replaces it.
	up := keep(e.must(t, 200, "PUT", "/api/v2/stations/"+id, admin, map[string]any{"name": "2002", "type": "webrtc"})).obj(t)
	if up["name"] != "2002" || up["type"] != "webrtc" || up["hasPassword"] != true {
		t.Errorf("updated: %v", up)
	}
	keep(e.must(t, 200, "PUT", "/api/v2/stations/"+id, admin, map[string]any{"name": "2002", "type": "sip", "password": secret2}))
	remote := keep(e.must(t, 200, "POST", "/api/v2/stations", admin, map[string]any{"name": "remota", "type": "remote", "remoteNumber": "+34600000000"})).obj(t)
	if remote["remoteNumber"] != "+34600000000" || remote["hasPassword"] != false {
		t.Errorf("remote station: %v", remote)
	}
	keep(e.must(t, 200, "GET", "/api/v2/stations?pageSize=100", admin, nil))
	for _, r := range bodies {
		for _, s := range []string{secret1, secret2, `"password":"`, "device"} {
			if strings.Contains(string(r.body), s) {
				t.Errorf("a response contains %q: %s", s, r)
			}
		}
	}
	e.must(t, 204, "DELETE", "/api/v2/stations/"+id, admin, nil)
	errorBody(t, e.send(t, "GET", "/api/v2/stations/"+id, admin, nil), 404, "not.found")
	errorBody(t, e.send(t, "DELETE", "/api/v2/stations/"+id, admin, nil), 404, "not.found")
}

func TestSkillsAndUserSkillsCRUD(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin := e.token(t, pAdminCC)
	agent := e.token(t, pAgent)
	a1 := e.userID(t, "agent1")

	sk := e.must(t, 200, "POST", "/api/v2/routing/skills", admin, map[string]any{"name": "Francés"}).obj(t)
	id := sk["id"].(string)
	if sk["name"] != "Francés" || sk["version"] != "1" || sk["state"] != "active" || sk["selfUri"] != "/api/v2/routing/skills/"+id {
		t.Errorf("created skill: %v", sk)
	}
	renamed := e.must(t, 200, "PATCH", "/api/v2/routing/skills/"+id, admin, map[string]any{"name": "Francés avanzado"}).obj(t)
	if renamed["name"] != "Francés avanzado" || renamed["version"] != "2" {
		t.Errorf("renamed: %v", renamed)
	}
	if g := e.must(t, 200, "GET", "/api/v2/routing/skills/"+id, agent, nil).obj(t); g["name"] != "Francés avanzado" {
		t.Errorf("GET: %v", g)
	}
	if f := e.must(t, 200, "GET", "/api/v2/routing/skills?name=Franc*", agent, nil).entities(t); len(f) != 1 || f[0]["id"] != id {
		t.Errorf("name filter: %v", f)
	}

	userSkills := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, s := range e.must(t, 200, "GET", "/api/v2/users/"+a1+"/routingskills", agent, nil).entities(t) {
			out[s["id"].(string)] = s
		}
		return out
	}
	before := len(userSkills())
	us := e.must(t, 200, "POST", "/api/v2/users/"+a1+"/routingskills", admin, map[string]any{"id": id, "proficiency": 3.5}).obj(t)
	if us["id"] != id || us["name"] != "Francés avanzado" || us["proficiency"] != 3.5 || us["skillUri"] != "/api/v2/routing/skills/"+id {
		t.Errorf("user skill: %v", us)
	}
	got := userSkills()
	if len(got) != before+1 || got[id]["proficiency"] != 3.5 || got[id]["state"] != "active" {
		t.Errorf("user skills: %v", got)
	}
	e.must(t, 200, "POST", "/api/v2/users/"+a1+"/routingskills", admin, map[string]any{"id": id, "proficiency": 5})
	if p := userSkills()[id]["proficiency"]; p != float64(5) {
		t.Errorf("proficiency %v after update, want 5", p)
	}
	e.must(t, 204, "DELETE", "/api/v2/users/"+a1+"/routingskills/"+id, admin, nil)
	if _, ok := userSkills()[id]; ok {
		t.Error("skill not taken away")
	}
	errorBody(t, e.send(t, "DELETE", "/api/v2/users/"+a1+"/routingskills/"+id, admin, nil), 404, "not.found")

	// Deleting a skill takes it from every user.
	e.must(t, 200, "POST", "/api/v2/users/"+a1+"/routingskills", admin, map[string]any{"id": id, "proficiency": 1})
	e.must(t, 204, "DELETE", "/api/v2/routing/skills/"+id, admin, nil)
	if _, ok := userSkills()[id]; ok {
		t.Error("deleted skill still held")
	}
	errorBody(t, e.send(t, "GET", "/api/v2/routing/skills/"+id, admin, nil), 404, "not.found")
}

func TestQueuesCRUD(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin := e.token(t, pAdminCC)
	sup := e.token(t, pSupervisor)
	a1, a2 := e.userID(t, "agent1"), e.userID(t, "agent2")

	q := e.must(t, 200, "POST", "/api/v2/routing/queues", admin, map[string]any{
		"name": "Retención", "description": "Clientes que se van",
		"mediaSettings":         map[string]any{"call": map[string]any{"alertingTimeoutSeconds": 15, "serviceLevel": map[string]any{"percentage": 0.9, "durationMs": 30000}}},
		"acwSettings":           map[string]any{"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 60000},
		"skillEvaluationMethod": "BEST", "routingStrategy": "round_robin",
	}).obj(t)
	id := q["id"].(string)
	call := q["mediaSettings"].(map[string]any)["call"].(map[string]any)
	sl := call["serviceLevel"].(map[string]any)
	acw := q["acwSettings"].(map[string]any)
	if q["name"] != "Retención" || q["description"] != "Clientes que se van" || call["alertingTimeoutSeconds"] != float64(15) ||
		sl["percentage"] != 0.9 || sl["durationMs"] != float64(30000) || acw["wrapupPrompt"] != "MANDATORY_TIMEOUT" || acw["timeoutMs"] != float64(60000) ||
		q["skillEvaluationMethod"] != "BEST" || q["routingStrategy"] != "round_robin" || q["memberCount"] != float64(0) {
		t.Errorf("created queue: %v", q)
	}
	if div, _ := q["division"].(map[string]any); div == nil || !uuidRE.MatchString(div["id"].(string)) {
		t.Errorf("division %v", q["division"])
	}
	if ns := names(e.must(t, 200, "GET", "/api/v2/routing/queues", e.token(t, pAgent), nil).entities(t)); !slices.Equal(ns, []string{"Retención", "Soporte", "Ventas"}) {
		t.Errorf("queues %v", ns)
	}
	// PUT replaces: settings not sent go back to the defaults.
	put := e.must(t, 200, "PUT", "/api/v2/routing/queues/"+id, admin, map[string]any{"name": "Retención VIP"}).obj(t)
	if put["name"] != "Retención VIP" || put["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] != float64(8) ||
		put["acwSettings"].(map[string]any)["wrapupPrompt"] != "OPTIONAL" || put["routingStrategy"] != "longest_idle" {
		t.Errorf("after PUT: %v", put)
	}
	// An echoed GET body is accepted back.
	full := e.must(t, 200, "GET", "/api/v2/routing/queues/"+id, admin, nil).obj(t)
	echo := map[string]any{}
	for _, k := range []string{"id", "name", "description", "mediaSettings", "acwSettings", "skillEvaluationMethod", "routingStrategy", "selfUri"} {
		if v, ok := full[k]; ok {
			echo[k] = v
		}
	}
	e.must(t, 200, "PUT", "/api/v2/routing/queues/"+id, admin, echo)
	// Names are filtered with wildcards; ids as lists.
	if f := e.must(t, 200, "GET", "/api/v2/routing/queues?name=Reten*", admin, nil).entities(t); len(f) != 1 || f[0]["id"] != id {
		t.Errorf("name filter: %v", f)
	}
	ventas, soporte := e.findID(t, "/api/v2/routing/queues", "Ventas"), e.findID(t, "/api/v2/routing/queues", "Soporte")
	for _, qs := range []string{"id=" + ventas + "," + soporte, "id=" + ventas + "&id=" + soporte} {
		if ns := names(e.must(t, 200, "GET", "/api/v2/routing/queues?"+qs, admin, nil).entities(t)); !slices.Equal(ns, []string{"Soporte", "Ventas"}) {
			t.Errorf("%s: %v", qs, ns)
		}
	}

	// Members.
	members := func(query string) []string {
		var out []string
		for _, m := range e.must(t, 200, "GET", "/api/v2/routing/queues/"+id+"/members"+query, sup, nil).entities(t) {
			out = append(out, m["id"].(string))
			if u, _ := m["user"].(map[string]any); u == nil || u["id"] != m["id"] || m["memberBy"] != "user" {
				t.Errorf("member shape: %v", m)
			}
		}
		slices.Sort(out)
		return out
	}
	both := []string{a1, a2}
	slices.Sort(both)
	e.must(t, 204, "POST", "/api/v2/routing/queues/"+id+"/members?delete=false", sup, []any{map[string]any{"id": a1}, map[string]any{"id": a2}})
	e.must(t, 204, "POST", "/api/v2/routing/queues/"+id+"/members", sup, []any{map[string]any{"id": a1}}) // again: no change
	if got := members(""); !slices.Equal(got, both) {
		t.Errorf("members %v, want %v", got, both)
	}
	e.must(t, 204, "PATCH", "/api/v2/routing/queues/"+id+"/members", sup, []any{map[string]any{"id": a1, "joined": false}})
	if got := members("?joined=false"); !slices.Equal(got, []string{a1}) {
		t.Errorf("unjoined %v", got)
	}
	if got := members("?joined=true"); !slices.Equal(got, []string{a2}) {
		t.Errorf("joined %v", got)
	}
	g := e.must(t, 200, "GET", "/api/v2/routing/queues/"+id, admin, nil).obj(t)
	if g["memberCount"] != float64(2) || g["joinedMemberCount"] != float64(1) || g["userMemberCount"] != float64(2) {
		t.Errorf("counts: member %v joined %v user %v", g["memberCount"], g["joinedMemberCount"], g["userMemberCount"])
	}
	if ns := names(e.must(t, 200, "GET", "/api/v2/users/"+a1+"/queues", e.token(t, pAgent), nil).entities(t)); !slices.Contains(ns, "Retención VIP") {
		t.Errorf("agent1's queues %v", ns)
	}
	e.must(t, 204, "POST", "/api/v2/routing/queues/"+id+"/members?delete=true", sup, []any{map[string]any{"id": a2}})
	if got := members(""); !slices.Equal(got, []string{a1}) {
		t.Errorf("after removal %v", got)
	}

	// Queue wrap-up codes.
	c1, c2 := e.findID(t, "/api/v2/routing/wrapupcodes", "Venta - Cerrada"), e.findID(t, "/api/v2/routing/wrapupcodes", "No venta - Precio")
	codes := func() []string {
		return names(e.must(t, 200, "GET", "/api/v2/routing/queues/"+id+"/wrapupcodes", e.token(t, pAgent), nil).entities(t))
	}
	if got := codes(); len(got) != 0 {
		t.Errorf("new queue has codes %v", got)
	}
	e.must(t, 204, "POST", "/api/v2/routing/queues/"+id+"/wrapupcodes", admin, []any{map[string]any{"id": c1}, map[string]any{"id": c2}})
	if got := codes(); !slices.Equal(got, []string{"No venta - Precio", "Venta - Cerrada"}) {
		t.Errorf("codes %v", got)
	}
	e.must(t, 204, "DELETE", "/api/v2/routing/queues/"+id+"/wrapupcodes/"+c2, admin, nil)
	if got := codes(); !slices.Equal(got, []string{"Venta - Cerrada"}) {
		t.Errorf("codes after removal %v", got)
	}
	errorBody(t, e.send(t, "DELETE", "/api/v2/routing/queues/"+id+"/wrapupcodes/"+c2, admin, nil), 404, "not.found")

	e.must(t, 204, "DELETE", "/api/v2/routing/queues/"+id, admin, nil)
	errorBody(t, e.send(t, "GET", "/api/v2/routing/queues/"+id, admin, nil), 404, "not.found")
	if ns := names(e.must(t, 200, "GET", "/api/v2/users/"+a1+"/queues", admin, nil).entities(t)); slices.Contains(ns, "Retención VIP") {
		t.Errorf("deleted queue still among agent1's: %v", ns)
	}
}

func TestWrapupCodesCRUD(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin := e.token(t, pAdminCC)
	agent := e.token(t, pAgent)

	c := e.must(t, 200, "POST", "/api/v2/routing/wrapupcodes", admin, map[string]any{"category": "Cobro", "subcategory": "Pendiente"}).obj(t)
	id := c["id"].(string)
	if c["name"] != "Cobro - Pendiente" || c["category"] != "Cobro" || c["subcategory"] != "Pendiente" || c["selfUri"] != "/api/v2/routing/wrapupcodes/"+id {
		t.Errorf("created: %v", c)
	}
	plain := e.must(t, 200, "POST", "/api/v2/routing/wrapupcodes", admin, map[string]any{"name": "Sin categoría"}).obj(t)
	if _, ok := plain["category"]; ok || plain["name"] != "Sin categoría" {
		t.Errorf("plain code: %v", plain)
	}
	onlyCategory := e.must(t, 200, "POST", "/api/v2/routing/wrapupcodes", admin, map[string]any{"category": "Cobro"}).obj(t)
	if onlyCategory["name"] != "Cobro" {
		t.Errorf("category-only name %v", onlyCategory["name"])
	}
	if ns := names(e.must(t, 200, "GET", "/api/v2/routing/wrapupcodes?category=Cobro", agent, nil).entities(t)); !slices.Equal(ns, []string{"Cobro", "Cobro - Pendiente"}) {
		t.Errorf("category filter %v", ns)
	}
	all := e.must(t, 200, "GET", "/api/v2/routing/wrapupcodes?pageSize=100", agent, nil).obj(t)
	if all["total"] != float64(12) {
		t.Errorf("total %v, want 9 demo codes + 3", all["total"])
	}
	up := e.must(t, 200, "PUT", "/api/v2/routing/wrapupcodes/"+id, admin, map[string]any{"category": "Cobro", "subcategory": "Pagado", "description": "Pagó en la llamada"}).obj(t)
	if up["name"] != "Cobro - Pagado" || up["subcategory"] != "Pagado" || up["description"] != "Pagó en la llamada" {
		t.Errorf("updated: %v", up)
	}
	if g := e.must(t, 200, "GET", "/api/v2/routing/wrapupcodes/"+id, agent, nil).obj(t); g["name"] != "Cobro - Pagado" {
		t.Errorf("GET: %v", g)
	}
	// Deleting a code takes it off the queues.
	ventas := e.findID(t, "/api/v2/routing/queues", "Ventas")
	e.must(t, 204, "POST", "/api/v2/routing/queues/"+ventas+"/wrapupcodes", admin, []any{map[string]any{"id": id}})
	inVentas := func() bool {
		return slices.Contains(names(e.must(t, 200, "GET", "/api/v2/routing/queues/"+ventas+"/wrapupcodes?pageSize=100", agent, nil).entities(t)), "Cobro - Pagado")
	}
	if !inVentas() {
		t.Fatal("code not assigned")
	}
	e.must(t, 204, "DELETE", "/api/v2/routing/wrapupcodes/"+id, admin, nil)
	if inVentas() {
		t.Error("deleted code still on Ventas")
	}
	errorBody(t, e.send(t, "GET", "/api/v2/routing/wrapupcodes/"+id, admin, nil), 404, "not.found")
}

func TestBreakStatesCRUD(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin := e.token(t, pAdminCC)
	agent := e.token(t, pAgent)
	listed := func(query string) []string {
		return names(e.must(t, 200, "GET", "/api/v2/presencedefinitions?pageSize=100"+query, agent, nil).entities(t))
	}
	if ns := listed(""); !slices.Contains(ns, "Available") || !slices.Contains(ns, "1 - Descanso") || slices.Contains(ns, "4 - Reunión") {
		t.Fatalf("presences before: %v", ns)
	}
	p := e.must(t, 200, "POST", "/api/v2/presencedefinitions", admin, map[string]any{"breakNumber": 4, "label": "Reunión", "labelEn": "Meeting"}).obj(t)
	id := p["id"].(string)
	labels, _ := p["languageLabels"].(map[string]any)
	if p["name"] != "4 - Reunión" || p["systemPresence"] != "Break" || p["breakNumber"] != float64(4) || labels["es"] != "4 - Reunión" || labels["en_US"] != "4 - Meeting" || !uuidRE.MatchString(id) {
		t.Errorf("created: %v", p)
	}
	if ns := listed(""); ns[len(ns)-1] != "4 - Reunión" {
		t.Errorf("presences after: %v", ns)
	}
	var v2 map[string]any
	for _, d := range e.must(t, 200, "GET", "/api/v2/presence/definitions", agent, nil).entities(t) {
		if d["id"] == id {
			v2 = d
		}
	}
	if v2 == nil || v2["type"] != "User" || v2["systemPresence"] != "Break" || v2["breakNumber"] != float64(4) {
		t.Errorf("current definitions API: %v", v2)
	}
	if g := e.must(t, 200, "GET", "/api/v2/presencedefinitions/"+id, agent, nil).obj(t); g["name"] != "4 - Reunión" {
		t.Errorf("GET: %v", g)
	}
	// Deactivated break states leave the default listing.
	up := e.must(t, 200, "PUT", "/api/v2/presencedefinitions/"+id, admin, map[string]any{"breakNumber": 4, "label": "4 - Reunión de equipo", "deactivated": true}).obj(t)
	if up["name"] != "4 - Reunión de equipo" || up["deactivated"] != true {
		t.Errorf("updated: %v", up)
	}
	if slices.Contains(listed(""), "4 - Reunión de equipo") || !slices.Contains(listed("&deactivated=true"), "4 - Reunión de equipo") {
		t.Error("deactivated filter")
	}
	e.must(t, 204, "DELETE", "/api/v2/presencedefinitions/"+id, admin, nil)
	if slices.Contains(listed("&deactivated=true"), "4 - Reunión de equipo") {
		t.Error("deleted break state still listed")
	}
	errorBody(t, e.send(t, "GET", "/api/v2/presencedefinitions/"+id, admin, nil), 404, "not.found")
}

func TestOAuthClientsCRUD(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin := e.token(t, pAdminCC)

	created := e.must(t, 200, "POST", "/api/v2/oauth/clients", admin, map[string]any{
		"name": "CRM", "description": "CRM integration", "roles": []string{"supervisor"}, "accessTokenValiditySeconds": 1200,
	})
	c := created.obj(t)
	id, secret := c["id"].(string), c["secret"].(string)
	if secret == "" || c["authorizedGrantType"] != "CLIENT-CREDENTIALS" || c["state"] != "active" || c["accessTokenValiditySeconds"] != float64(1200) {
		t.Fatalf("created: %s", created)
	}
	for _, r := range []*response{
		e.must(t, 200, "GET", "/api/v2/oauth/clients/"+id, admin, nil),
		e.must(t, 200, "GET", "/api/v2/oauth/clients", admin, nil),
		e.must(t, 200, "PUT", "/api/v2/oauth/clients/"+id, admin, map[string]any{"name": "CRM 2", "roles": []string{"supervisor"}, "accessTokenValiditySeconds": 1200}),
	} {
		if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), `"secret"`) {
			t.Errorf("the secret appears after creation: %s", r)
		}
	}
	// The client gets tokens with its lifetime and roles.
	tok := e.clientCredentials(t, id, secret)
	if tok.ExpiresIn != 1200 {
		t.Errorf("expires_in %d", tok.ExpiresIn)
	}
	ti := e.must(t, 200, "GET", "/api/v2/tokens/me", tok.AccessToken, nil).obj(t)
	if cl, _ := ti["OAuthClient"].(map[string]any); cl["name"] != "CRM 2" || !slices.Equal(ti["roles"].([]any), []any{"supervisor"}) {
		t.Errorf("tokens/me: %v", ti)
	}
	ventas := e.findID(t, "/api/v2/routing/queues", "Ventas")
	e.must(t, 200, "GET", "/api/v2/routing/queues/"+ventas+"/members", tok.AccessToken, nil)
	errorBody(t, e.send(t, "POST", "/api/v2/routing/skills", tok.AccessToken, map[string]any{"name": "x"}), 403, "missing.permissions")

	// Changing the roles ends the tokens issued with the old ones.
	e.must(t, 200, "PUT", "/api/v2/oauth/clients/"+id, admin, map[string]any{"name": "CRM 2", "roles": []string{"agent"}, "accessTokenValiditySeconds": 1200})
	errorBody(t, e.send(t, "GET", "/api/v2/tokens/me", tok.AccessToken, nil), 401, "")
	tok = e.clientCredentials(t, id, secret)
	errorBody(t, e.send(t, "GET", "/api/v2/routing/queues/"+ventas+"/members", tok.AccessToken, nil), 403, "missing.permissions")

	// Deactivating refuses new tokens.
	e.must(t, 200, "PUT", "/api/v2/oauth/clients/"+id, admin, map[string]any{"name": "CRM 2", "roles": []string{"agent"}, "state": "inactive"})
	oauthError(t, e.postForm(t, "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, id, secret), 401, "invalid_client")
	e.must(t, 200, "PUT", "/api/v2/oauth/clients/"+id, admin, map[string]any{"name": "CRM 2", "roles": []string{"agent"}, "state": "active"})
	tok = e.clientCredentials(t, id, secret)

	// A CODE client has no secret.
	code := e.must(t, 200, "POST", "/api/v2/oauth/clients", admin, map[string]any{
		"name": "SPA", "authorizedGrantType": "CODE", "registeredRedirectUri": []string{"https://spa.example/cb"}}).obj(t)
	if _, ok := code["secret"]; ok {
		t.Errorf("CODE client got a secret: %v", code)
	}

	// Deleting the client ends its tokens and its secret stops working.
	e.must(t, 204, "DELETE", "/api/v2/oauth/clients/"+id, admin, nil)
	errorBody(t, e.send(t, "GET", "/api/v2/tokens/me", tok.AccessToken, nil), 401, "")
	oauthError(t, e.postForm(t, "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, id, secret), 401, "invalid_client")
	errorBody(t, e.send(t, "GET", "/api/v2/oauth/clients/"+id, admin, nil), 404, "not.found")
}

// A client may send only the settings it changes inside mediaSettings.
func TestQueuePartialSettings(t *testing.T) {
	a := apptest.Start(t, apptest.Options{})
	tok := benchTokenT(t, a.URL())
	req, _ := http.NewRequest("POST", a.URL()+"/api/v2/routing/queues", strings.NewReader(`{"name":"Parcial","mediaSettings":{"call":{"alertingTimeoutSeconds":20}},"acwSettings":{"timeoutMs":0}}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var q struct {
		MediaSettings struct {
			Call struct {
				AlertingTimeoutSeconds int `json:"alertingTimeoutSeconds"`
				ServiceLevel           struct {
					DurationMs int `json:"durationMs"`
				} `json:"serviceLevel"`
			} `json:"call"`
		} `json:"mediaSettings"`
		ACWSettings struct {
			WrapupPrompt string `json:"wrapupPrompt"`
		} `json:"acwSettings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&q); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, %v", res.StatusCode, err)
	}
	if q.MediaSettings.Call.AlertingTimeoutSeconds != 20 || q.MediaSettings.Call.ServiceLevel.DurationMs != 20000 || q.ACWSettings.WrapupPrompt != "OPTIONAL" {
		t.Fatalf("partial settings not merged with defaults: %+v", q)
	}
}

func benchTokenT(t *testing.T, base string) string {
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	return tok.AccessToken
}
