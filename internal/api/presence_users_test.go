package api_test

import (
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

const (
	presenceOnQueue   = "e08eaf1b-ee47-4fa9-a231-1200e284798f"
	presenceAvailable = "6a3af858-942f-489d-9700-5f9bcdcdae9b"
	presenceBreak     = "227b37e2-f1d0-4dd0-8f50-badd7cf6d158"
)

func onQueueBody() map[string]any {
	return map[string]any{"presenceDefinition": map[string]any{"id": presenceOnQueue}}
}

func TestStationLoginPresenceRoutingStatus(t *testing.T) {
	e := startEnv(t, apptest.Options{Clock: newFakeClock()})
	a1, a2 := e.userID(t, "agent1"), e.userID(t, "agent2")
	t1, t2 := e.token(t, "agent1"), e.token(t, "agent2")
	sup := e.token(t, pSupervisor)
	base := "/api/v2/users/" + a1

	// Nobody logged in: no station, Offline, OFF_QUEUE.
	if r := e.must(t, 200, "GET", base+"/station", t1, nil).obj(t); r["associatedStation"] != nil {
		t.Fatalf("station before login: %v", r)
	}
	if p := e.must(t, 200, "GET", base+"/presences/purecloud", t2, nil).obj(t); p["presenceDefinition"].(map[string]any)["systemPresence"] != "Offline" {
		t.Fatalf("presence before login: %v", p)
	}
	if rs := e.must(t, 200, "GET", base+"/routingstatus", t1, nil).obj(t); rs["status"] != "OFF_QUEUE" || rs["userId"] != a1 {
		t.Fatalf("routing status before login: %v", rs)
	}

	// On Queue needs a station.
	errorBody(t, e.send(t, "PATCH", base+"/presences/purecloud", t1, onQueueBody()), 409, "station.required")
	// Bad logins.
	m := errorBody(t, e.send(t, "POST", base+"/station", t1, map[string]any{"stationName": "9999", "password": "device"}), 400, "station.unknown")
	if f := detailFields(m); len(f) != 1 || f[0] != "stationName" {
		t.Errorf("unknown station details %v", f)
	}
	errorBody(t, e.send(t, "POST", base+"/station", t1, map[string]any{"stationName": "1001", "password": "wrong"}), 400, "station.bad.password")
	errorBody(t, e.send(t, "POST", base+"/station", t1, map[string]any{"password": "device"}), 400, "bad.request")
	// Someone else's station login: only themselves or a supervisor.
	errorBody(t, e.send(t, "POST", "/api/v2/users/"+a2+"/station", t1, map[string]any{"stationName": "1002", "password": "device"}), 403, "not.authorized")

	st := e.must(t, 200, "POST", base+"/station", t1, map[string]any{"stationName": "1001", "password": "device"}).obj(t)
	as := st["associatedStation"].(map[string]any)
	if as["name"] != "1001" || as["associatedUser"].(map[string]any)["id"] != a1 || as["associatedDate"] != "2026-05-01T10:00:00.000Z" || as["type"] != "sip" {
		t.Fatalf("station login answer: %v", st)
	}
	// Again: idempotent. Another agent on it: 409.
	e.must(t, 200, "POST", base+"/station", t1, map[string]any{"stationName": "1001", "password": "device"})
	errorBody(t, e.send(t, "POST", "/api/v2/users/"+a2+"/station", t2, map[string]any{"stationName": "1001", "password": "device"}), 409, "station.in.use")
	// A supervisor logs agent2 into 1002.
	e.must(t, 200, "POST", "/api/v2/users/"+a2+"/station", sup, map[string]any{"stationName": "1002", "password": "device"})

	e.clock.Advance(2e9)
	p := e.must(t, 200, "PATCH", base+"/presences/purecloud", t1, map[string]any{"presenceDefinition": map[string]any{"id": presenceOnQueue}, "message": "listo"}).obj(t)
	pd := p["presenceDefinition"].(map[string]any)
	if pd["id"] != presenceOnQueue || pd["systemPresence"] != "On Queue" || p["message"] != "listo" || p["modifiedDate"] != "2026-05-01T10:00:02.000Z" || p["source"] != "PURECLOUD" {
		t.Fatalf("presence answer: %v", p)
	}
	if rs := e.must(t, 200, "GET", base+"/routingstatus", t2, nil).obj(t); rs["status"] != "IDLE" || rs["startTime"] != "2026-05-01T10:00:02.000Z" {
		t.Fatalf("routing status on queue: %v", rs)
	}
	// Unknown presence ids and break numbers: 400, nothing changes.
	errorBody(t, e.send(t, "PATCH", base+"/presences/purecloud", t1, map[string]any{"presenceDefinition": map[string]any{"id": unknownID}}), 400, "presence.unknown")
	m = errorBody(t, e.send(t, "POST", base+"/presences/purecloud/break", t1, map[string]any{"breakNumber": 42}), 400, "break.unknown")
	if msg := m["message"].(string); !strings.Contains(msg, "1 - Descanso") {
		t.Errorf("unknown break message does not list the known ones: %q", msg)
	}
	if rs := e.must(t, 200, "GET", base+"/routingstatus", t1, nil).obj(t); rs["status"] != "IDLE" {
		t.Fatalf("a refused change changed the status: %v", rs)
	}
	// Break by number, pause, unpause.
	p = e.must(t, 200, "POST", base+"/presences/purecloud/break", t1, map[string]any{"breakNumber": 2}).obj(t)
	if pd := p["presenceDefinition"].(map[string]any); pd["systemPresence"] != "Break" || pd["name"] != "2 - Almuerzo" || pd["breakNumber"] != float64(2) {
		t.Fatalf("break 2: %v", p)
	}
	if rs := e.must(t, 200, "GET", base+"/routingstatus", t1, nil).obj(t); rs["status"] != "OFF_QUEUE" {
		t.Fatalf("on a break: %v", rs)
	}
	e.must(t, 200, "POST", base+"/presences/purecloud/unpause", t1, nil)
	if rs := e.must(t, 200, "GET", base+"/routingstatus", t1, nil).obj(t); rs["status"] != "IDLE" {
		t.Fatalf("unpaused: %v", rs)
	}
	p = e.must(t, 200, "POST", base+"/presences/purecloud/pause", t1, nil).obj(t)
	if p["presenceDefinition"].(map[string]any)["id"] != presenceBreak {
		t.Fatalf("pause: %v", p)
	}
	// The platform path with a break state's id works too.
	brk := e.findID(t, "/api/v2/presencedefinitions", "3 - Capacitación")
	p = e.must(t, 200, "PATCH", base+"/presences/purecloud", t1, map[string]any{"presenceDefinition": map[string]any{"id": brk}}).obj(t)
	if p["presenceDefinition"].(map[string]any)["name"] != "3 - Capacitación" {
		t.Fatalf("break by id: %v", p)
	}
	e.must(t, 200, "PATCH", base+"/presences/purecloud", t1, onQueueBody())

	// Logout: the station is free, the agent is Available and OFF_QUEUE.
	e.must(t, 204, "DELETE", base+"/station/associatedstation", t1, nil)
	if r := e.must(t, 200, "GET", base+"/station", t1, nil).obj(t); r["associatedStation"] != nil {
		t.Fatalf("station after logout: %v", r)
	}
	if p := e.must(t, 200, "GET", base+"/presences/purecloud", t1, nil).obj(t); p["presenceDefinition"].(map[string]any)["id"] != presenceAvailable {
		t.Fatalf("presence after logout: %v", p)
	}
	if rs := e.must(t, 200, "GET", base+"/routingstatus", t1, nil).obj(t); rs["status"] != "OFF_QUEUE" {
		t.Fatalf("routing status after logout: %v", rs)
	}
	e.must(t, 200, "POST", base+"/station", t1, map[string]any{"stationName": "1001", "password": "device"})
	e.must(t, 204, "DELETE", base+"/station", t1, nil)

	// A deactivated user is logged out of the station, which is free again.
	admin := e.token(t, pAdminCC)
	v := e.must(t, 200, "GET", "/api/v2/users/"+a2, admin, nil).obj(t)["version"]
	e.must(t, 200, "PATCH", "/api/v2/users/"+a2, admin, map[string]any{"version": v, "state": "inactive"})
	if r := e.must(t, 200, "GET", "/api/v2/users/"+a2+"/station", admin, nil).obj(t); r["associatedStation"] != nil {
		t.Fatalf("station of a deactivated user: %v", r)
	}
	if p := e.must(t, 200, "GET", "/api/v2/users/"+a2+"/presences/purecloud", admin, nil).obj(t); p["presenceDefinition"].(map[string]any)["systemPresence"] != "Offline" {
		t.Errorf("presence of a deactivated user: %v", p)
	}
	e.must(t, 200, "POST", base+"/station", t1, map[string]any{"stationName": "1002", "password": "device"})
}
