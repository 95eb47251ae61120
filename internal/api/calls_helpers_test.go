package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// callEnv is a running demo on a fake clock with its simulated switch.
type callEnv struct {
	*testEnv
	sw               *sim.Switch
	ventas, soporte  string
	codeVentaCerrada string
}

func startCalls(t *testing.T) *callEnv {
	t.Helper()
	e := startEnv(t, apptest.Options{Clock: newFakeClock(), RateLimit: 100000})
	ce := &callEnv{testEnv: e, sw: e.app.Switch()}
	ce.ventas = e.findID(t, "/api/v2/routing/queues", "Ventas")
	ce.soporte = e.findID(t, "/api/v2/routing/queues", "Soporte")
	ce.codeVentaCerrada = e.findID(t, "/api/v2/routing/wrapupcodes", "Venta - Cerrada")
	return ce
}

// quiet waits until the contact center has nothing left to do.
func (ce *callEnv) quiet(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ce.app.Quiesce(ctx); err != nil {
		t.Fatal(err)
	}
}

// advance moves the fake clock and lets everything that follows happen.
func (ce *callEnv) advance(t *testing.T, d time.Duration) {
	t.Helper()
	ce.quiet(t)
	ce.clock.Advance(d)
	ce.quiet(t)
}

// onQueue logs a demo user into a station and puts them On Queue.
func (ce *callEnv) onQueue(t *testing.T, username, station string) string {
	t.Helper()
	id, tok := ce.userID(t, username), ce.token(t, username)
	ce.must(t, 200, "POST", "/api/v2/users/"+id+"/station", tok, map[string]any{"stationName": station, "password": "device"})
	ce.must(t, 200, "PATCH", "/api/v2/users/"+id+"/presences/purecloud", tok, onQueueBody())
	return id
}

// loggedIn logs a demo user into a station only (off queue).
func (ce *callEnv) loggedIn(t *testing.T, username, station string) string {
	t.Helper()
	id, tok := ce.userID(t, username), ce.token(t, username)
	ce.must(t, 200, "POST", "/api/v2/users/"+id+"/station", tok, map[string]any{"stationName": station, "password": "device"})
	return id
}

// inject simulates a customer call and returns the conversation id.
func (ce *callEnv) inject(t *testing.T, to, from string, extra ...any) string {
	t.Helper()
	body := map[string]any{"to": to, "from": from}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	r := ce.must(t, 200, "POST", "/api/v2/simulation/calls", ce.token(t, pAdmin), body)
	id, _ := r.obj(t)["conversationId"].(string)
	if !uuidRE.MatchString(id) {
		t.Fatalf("simulation answer %s", r)
	}
	return id
}

// conv reads a conversation as the supervisor.
func (ce *callEnv) conv(t *testing.T, id string) conv {
	t.Helper()
	return conv(ce.must(t, 200, "GET", "/api/v2/conversations/calls/"+id, ce.token(t, pSupervisor), nil).obj(t))
}

// leg finds the switch leg of a participant (legs carry the participant id
// as a tag), or of the customer (the inbound leg from that number).
func (ce *callEnv) leg(t *testing.T, p map[string]any) string {
	t.Helper()
	id, _ := p["id"].(string)
	for _, l := range ce.sw.Legs() {
		if l.Tags["participantId"] == id {
			return l.ID
		}
	}
	if p["purpose"] == "customer" {
		ani := strings.TrimPrefix(fmt.Sprint(p["ani"]), "tel:")
		for _, l := range ce.sw.Legs() {
			if l.Inbound && l.From == ani {
				return l.ID
			}
		}
	}
	t.Fatalf("no live leg for participant %v (%v)", id, p["purpose"])
	return ""
}

// conv is a conversation body (REST or event).
type conv map[string]any

func (c conv) parts() []map[string]any {
	raw, _ := c["participants"].([]any)
	out := make([]map[string]any, len(raw))
	for i, p := range raw {
		out[i], _ = p.(map[string]any)
	}
	return out
}

// part returns the newest participant with a purpose (and user, if given).
func (c conv) part(purpose, userID string) map[string]any {
	var found map[string]any
	for _, p := range c.parts() {
		u, _ := p["user"].(map[string]any)
		if p["purpose"] == purpose && (userID == "" || (u != nil && u["id"] == userID)) {
			found = p
		}
	}
	return found
}

// state is the newest participant's state for a purpose ("" if none).
func (c conv) state(purpose, userID string) string {
	if p := c.part(purpose, userID); p != nil {
		s, _ := p["state"].(string)
		return s
	}
	return ""
}

func (c conv) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "conversation %v (%v):", c["id"], c["state"])
	for _, p := range c.parts() {
		fmt.Fprintf(&b, " [%v %v", p["purpose"], p["state"])
		if u, ok := p["user"].(map[string]any); ok {
			fmt.Fprintf(&b, " user=%.8s", u["id"])
		}
		if p["held"] == true {
			b.WriteString(" held")
		}
		if p["afterCallWork"] == true {
			b.WriteString(" acw")
		}
		if d, ok := p["disconnectType"]; ok {
			fmt.Fprintf(&b, " %v", d)
		}
		b.WriteString("]")
	}
	return b.String()
}

// sock is a notification socket and what it received.
type sock struct {
	t *testing.T
	*sockState
}

type sockState struct {
	c       *websocket.Conn
	events  []sockEvent // everything received, in order
	pending []sockEvent // received and not yet taken by until
}

// in is the socket for use in subtest t.
func (s *sock) in(t *testing.T) *sock { return &sock{t: t, sockState: s.sockState} }

type sockEvent struct {
	topic string
	body  map[string]any
}

// socket opens a notification channel for who with topics and connects.
func (ce *callEnv) socket(t *testing.T, who string, topics ...string) *sock {
	t.Helper()
	tok := ce.token(t, who)
	ch := ce.must(t, 200, "POST", "/api/v2/notifications/channels", tok, nil).obj(t)
	id, _ := ch["id"].(string)
	for _, s := range ce.must(t, 200, "PUT", "/api/v2/notifications/channels/"+id+"/subscriptions", tok, topicsBody(topics...)).entities(t) {
		if s["state"] != "Permitted" {
			t.Fatalf("subscription %v", s)
		}
	}
	c := wsDial(t, ch["connectUri"].(string))
	wsPing(t, c)
	return &sock{t: t, sockState: &sockState{c: c}}
}

// until returns the first event not yet taken that matches, reading more
// from the socket as needed. Events that do not match stay for later calls:
// the socket delivers in order, and each wait takes the next one it wants.
func (s *sock) until(what string, match func(ev sockEvent) bool) sockEvent {
	s.t.Helper()
	for i, ev := range s.pending {
		if match(ev) {
			s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
			return ev
		}
	}
	deadline := time.Now().Add(wsWait)
	for time.Now().Before(deadline) {
		m := wsNextOrNil(s.t, s.c, time.Until(deadline))
		if m == nil {
			break
		}
		body, _ := m["eventBody"].(map[string]any)
		ev := sockEvent{topic: fmt.Sprint(m["topicName"]), body: body}
		s.events = append(s.events, ev)
		if match(ev) {
			return ev
		}
		s.pending = append(s.pending, ev)
	}
	var seen []string
	for _, ev := range s.events {
		seen = append(seen, ev.topic+" "+conv(ev.body).String())
	}
	s.t.Fatalf("socket: no event %s; received:\n  %s", what, strings.Join(seen, "\n  "))
	return sockEvent{}
}

// wsNextOrNil reads the next message that is not a heartbeat, or nil after d.
func wsNextOrNil(t *testing.T, c *websocket.Conn, d time.Duration) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			t.Fatalf("reading the notification socket: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("non-JSON message %q", b)
		}
		if wsMeta(m) != "WebSocket Heartbeat" {
			return m
		}
	}
}

// conv waits for an event about conversation id on a topic ending in
// suffix whose body satisfies ok.
func (s *sock) conv(id, suffix string, ok func(c conv) bool) conv {
	s.t.Helper()
	var last conv
	ev := s.until("on "+suffix+" for "+id, func(ev sockEvent) bool {
		if !strings.HasSuffix(ev.topic, suffix) || ev.body["id"] != id {
			return false
		}
		last = conv(ev.body)
		return ok(last)
	})
	return conv(ev.body)
}

// status waits for a routing status event of user with status.
func (s *sock) status(userID, status string) {
	s.t.Helper()
	s.until("routing status "+status, func(ev sockEvent) bool {
		rs, _ := ev.body["routingStatus"].(map[string]any)
		return ev.topic == "v2.users."+userID+".routingStatus" && rs["status"] == status
	})
}

// statuses lists the routing statuses of user received so far, in order.
func (s *sock) statuses(userID string) []string {
	var out []string
	for _, ev := range s.events {
		if ev.topic == "v2.users."+userID+".routingStatus" {
			rs, _ := ev.body["routingStatus"].(map[string]any)
			out = append(out, fmt.Sprint(rs["status"]))
		}
	}
	return out
}

// userTopics are the topics an agent's softphone listens to.
func userTopics(id string) []string {
	return []string{"v2.users." + id + ".conversations", "v2.users." + id + ".routingStatus", "v2.users." + id + ".presence", "v2.users." + id + ".station"}
}

func partPath(convID string, p map[string]any) string {
	return "/api/v2/conversations/calls/" + convID + "/participants/" + p["id"].(string)
}
