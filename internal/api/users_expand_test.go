package api_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// findUser returns the listing entry with that id.
func findUser(t *testing.T, ents []map[string]any, id string) map[string]any {
	t.Helper()
	for _, u := range ents {
		if u["id"] == id {
			return u
		}
	}
	t.Fatalf("user %s not in the listing", id)
	return nil
}

// array decodes the body as a JSON array of objects.
func (r *response) array(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("body is not a JSON array of objects (%v): %s", err, r)
	}
	return out
}

func TestUsersExpand(t *testing.T) {
	ce := startCalls(t)
	a1 := ce.onQueue(t, "agent1", "1001")
	a3 := ce.userID(t, "agent3") // never logged in
	station := ce.findID(t, "/api/v2/stations", "1001")
	t1, t2, sup := ce.token(t, "agent1"), ce.token(t, "agent2"), ce.token(t, pSupervisor)

	presence := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/presences/purecloud", t2, nil).obj(t)
	routing := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/routingstatus", t2, nil).obj(t)
	if pd := presence["presenceDefinition"].(map[string]any); pd["id"] != presenceOnQueue || routing["status"] != "IDLE" {
		t.Fatalf("agent1 is not on queue: %v %v", presence, routing)
	}
	checkOnQueue := func(t *testing.T, who string, u map[string]any, wantStation bool) {
		t.Helper()
		if !reflect.DeepEqual(u["presence"], presence) {
			t.Errorf("%s: presence %v, want as GET presences/purecloud %v", who, u["presence"], presence)
		}
		if !reflect.DeepEqual(u["routingStatus"], routing) {
			t.Errorf("%s: routingStatus %v, want as GET routingstatus %v", who, u["routingStatus"], routing)
		}
		st, ok := u["station"].(map[string]any)
		if ok != wantStation {
			t.Fatalf("%s: station %v, want present=%v", who, u["station"], wantStation)
		}
		if wantStation {
			as, _ := st["associatedStation"].(map[string]any)
			if as["id"] != station || as["name"] != "1001" {
				t.Errorf("%s: station %v, want associatedStation 1001 (%s)", who, st, station)
			}
		}
	}

	// Another agent sees presence and routing status, but no private fields
	// nor the station (GET .../station is the user's or a supervisor's).
	ents := ce.must(t, 200, "GET", "/api/v2/users?expand=presence,routingStatus,station", t2, nil).entities(t)
	u := findUser(t, ents, a1)
	checkOnQueue(t, "listing as agent2", u, false)
	if _, ok := u["email"]; ok {
		t.Errorf("agent2 sees agent1's email with expand: %v", u)
	}
	off := findUser(t, ents, a3)
	if off["presence"].(map[string]any)["presenceDefinition"].(map[string]any)["systemPresence"] != "Offline" ||
		off["routingStatus"].(map[string]any)["status"] != "OFF_QUEUE" || off["routingStatus"].(map[string]any)["userId"] != a3 {
		t.Errorf("agent3 (never logged in) expanded: %v", off)
	}
	// Every role, client credentials included.
	u = findUser(t, ce.must(t, 200, "GET", "/api/v2/users?expand=presence&expand=routingStatus", ce.token(t, pAgentCC), nil).entities(t), a1)
	checkOnQueue(t, "listing as an agent client", u, false)

	// The user themselves and supervisors also get the station; unknown
	// expand values are ignored, repeated or comma-separated.
	u = findUser(t, ce.must(t, 200, "GET", "/api/v2/users?expand=presence&expand=routingStatus,skills,bogus&expand=station", t1, nil).entities(t), a1)
	checkOnQueue(t, "listing as agent1", u, true)
	u = ce.must(t, 200, "GET", "/api/v2/users/"+a1+"?expand=station,presence,routingStatus,authorization,conversationSummary", sup, nil).obj(t)
	checkOnQueue(t, "single user as supervisor", u, true)
	u = ce.must(t, 200, "GET", "/api/v2/users/"+a1+"?expand=presence,routingStatus,station", t2, nil).obj(t)
	checkOnQueue(t, "single user as agent2", u, false)
	u = ce.must(t, 200, "GET", "/api/v2/users/me?expand=presence,routingStatus,station", t1, nil).obj(t)
	checkOnQueue(t, "users/me", u, true)
	if u["email"] == nil {
		t.Errorf("users/me lost its private fields with expand: %v", u)
	}
	// Not logged in: the station object has no associatedStation.
	st := ce.must(t, 200, "GET", "/api/v2/users/"+a3+"?expand=station", sup, nil).obj(t)["station"]
	if m, ok := st.(map[string]any); !ok || m["associatedStation"] != nil {
		t.Errorf("station of agent3 (not logged in): %v", st)
	}

	// Only what was asked for.
	u = ce.must(t, 200, "GET", "/api/v2/users/"+a1+"?expand=routingStatus", sup, nil).obj(t)
	if _, ok := u["presence"]; ok || u["routingStatus"] == nil || u["station"] != nil {
		t.Errorf("expand=routingStatus gave %v", u)
	}
	for _, path := range []string{"/api/v2/users/" + a1, "/api/v2/users/me", "/api/v2/users?expand=skills"} {
		r := ce.must(t, 200, "GET", path, t1, nil)
		for _, k := range []string{`"presence"`, `"routingStatus"`, `"station"`} {
			if strings.Contains(string(r.body), k) {
				t.Errorf("GET %s without expand has %s: %s", path, k, r)
			}
		}
	}
}

func TestUsersPresenceBulk(t *testing.T) {
	ce := startCalls(t)
	a1 := ce.onQueue(t, "agent1", "1001")
	a2 := ce.userID(t, "agent2")
	tok := ce.token(t, pAgentCC)
	const path = "/api/v2/users/presences/purecloud/bulk"

	// Repeated and comma-separated ids, in the order asked; unknown ids and
	// repeats are skipped.
	got := ce.must(t, 200, "GET", path+"?id="+a1+","+unknownID+"&id="+a2+"&id="+a1, tok, nil).array(t)
	if len(got) != 2 || got[0]["userId"] != a1 || got[1]["userId"] != a2 {
		t.Fatalf("bulk presences: %v", got)
	}
	for _, p := range got {
		id := p["userId"].(string)
		single := ce.must(t, 200, "GET", "/api/v2/users/"+id+"/presences/purecloud", tok, nil).obj(t)
		delete(p, "userId")
		if !reflect.DeepEqual(p, single) {
			t.Errorf("bulk presence of %s %v, want as GET presences/purecloud %v", id, p, single)
		}
	}
	if pd := got[0]["presenceDefinition"].(map[string]any); pd["systemPresence"] != "On Queue" {
		t.Errorf("agent1 in bulk: %v", got[0])
	}
	if pd := got[1]["presenceDefinition"].(map[string]any); pd["systemPresence"] != "Offline" {
		t.Errorf("agent2 in bulk: %v", got[1])
	}
	// Only unknown ids: an empty array, not null.
	if r := ce.must(t, 200, "GET", path+"?id="+unknownID, tok, nil); strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("bulk of an unknown id: %s", r)
	}

	// Bad ids, none, or too many: 400 naming the id parameter.
	many := make([]string, 101)
	for i := range many {
		many[i] = strings.Replace(unknownID, "dead", string("0123456789abcdef"[i/16])+string("0123456789abcdef"[i%16])+"00", 1)
	}
	for _, q := range []string{
		"?id=not-a-uuid",
		"?id=" + a1 + ",nope",
		"?id=" + strings.ToUpper(a1),
		"",
		"?id=",
		"?id=" + strings.Join(many, ","),
	} {
		m := errorBody(t, ce.send(t, "GET", path+q, tok, nil), 400, "bad.request")
		if f := detailFields(m); len(f) == 0 || f[0] != "id" {
			t.Errorf("GET bulk%s: details %v, want the id field", q, f)
		}
	}
	// 100 distinct ids are fine.
	ce.must(t, 200, "GET", path+"?id="+strings.Join(many[:100], ","), tok, nil)
}
