package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/centralita/centralita/internal/app/apptest"
)

var channelIDRE = regexp.MustCompile(`^streaming-\d+-[a-z0-9]+$`)

// wsWait bounds every wait on a notification socket.
const wsWait = 10 * time.Second

func wsDial(t *testing.T, uri string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, uri, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", uri, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func wsSend(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// wsNext reads the next message that is not a heartbeat.
func wsNext(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
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

func wsMeta(m map[string]any) string {
	if m["topicName"] != "channel.metadata" {
		return ""
	}
	body, _ := m["eventBody"].(map[string]any)
	s, _ := body["message"].(string)
	return s
}

// wsPing checks the manual health check; when it answers, the socket is
// attached to its channel.
func wsPing(t *testing.T, c *websocket.Conn) {
	t.Helper()
	wsSend(t, c, map[string]string{"message": "ping"})
	if m := wsNext(t, c); wsMeta(m) != "pong" {
		t.Fatalf("ping answered with %v", m)
	}
}

// wsClosed reads until the socket closes and returns the close frame.
func wsClosed(t *testing.T, c *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("socket ended without a close frame: %v", err)
			}
			return ce
		}
	}
}

func topicsBody(names ...string) []map[string]string {
	out := make([]map[string]string, len(names))
	for i, n := range names {
		out[i] = map[string]string{"id": n}
	}
	return out
}

func TestNotificationsEndToEnd(t *testing.T) {
	start := time.Now()
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	sup := e.token(t, pSupervisor)
	ventas := e.findID(t, "/api/v2/routing/queues", "Ventas")
	agent4 := e.userID(t, "agent4")
	topic := "v2.routing.queues." + ventas + ".users"

	r := e.must(t, 200, "POST", "/api/v2/notifications/channels", sup, nil)
	ch := r.obj(t)
	id, _ := ch["id"].(string)
	if !channelIDRE.MatchString(id) {
		t.Fatalf("channel id %q, want streaming-<n>-<random>", id)
	}
	if want := "ws://" + e.app.Addr() + "/channels/" + id; ch["connectUri"] != want {
		t.Errorf("connectUri %v, want %s", ch["connectUri"], want)
	}
	exp, _ := ch["expires"].(string)
	if !dateRE.MatchString(exp) {
		t.Errorf("expires %q is not a platform date", exp)
	} else if at, _ := time.Parse(time.RFC3339, exp); at.Before(start.Add(24*time.Hour-time.Minute)) || at.After(time.Now().Add(24*time.Hour+time.Minute)) {
		t.Errorf("expires %s, want 24 h from now", exp)
	}

	c := wsDial(t, ch["connectUri"].(string))
	wsPing(t, c)
	r = e.must(t, 200, "PUT", "/api/v2/notifications/channels/"+id+"/subscriptions?ignoreErrors=false", sup, topicsBody(topic))
	ents := r.entities(t)
	if len(ents) != 1 || ents[0]["id"] != topic || ents[0]["state"] != "Permitted" || ents[0]["selfUri"] == nil {
		t.Fatalf("subscriptions answer %s", r)
	}

	// A change made through the API reaches the socket: directory → outbox → JetStream → hub.
	r = e.send(t, "POST", "/api/v2/routing/queues/"+ventas+"/members", sup, []map[string]string{{"id": agent4}}, "ININ-Correlation-Id", "corr-notify-e2e")
	if r.status != 204 {
		t.Fatalf("adding a member: %s", r)
	}
	m := wsNext(t, c)
	if m["topicName"] != topic || m["version"] != "2" {
		t.Fatalf("socket got %v, want an event on %s with version \"2\"", m, topic)
	}
	if md, _ := m["metadata"].(map[string]any); md["CorrelationId"] != "corr-notify-e2e" {
		t.Errorf("metadata %v, want the request's correlation id", m["metadata"])
	}
	if body, _ := m["eventBody"].(map[string]any); body["id"] != ventas {
		t.Errorf("eventBody %v", m["eventBody"])
	}

	t.Run("subscribe over the socket", func(t *testing.T) {
		me := e.userID(t, "supervisor")
		wsSend(t, c, map[string]any{"message": "subscribe", "topics": []string{"v2.users." + me + "?presence&routingStatus"}, "correlationId": "sub-1"})
		m := wsNext(t, c)
		if m["result"] != "200" || m["status"] != "subscribed" || m["correlationId"] != "sub-1" {
			t.Fatalf("answer %v; result must be the string \"200\"", m)
		}
		ents := e.must(t, 200, "GET", "/api/v2/notifications/channels/"+id+"/subscriptions", sup, nil).entities(t)
		if len(ents) != 3 || ents[1]["id"] != "v2.users."+me+".presence" || ents[2]["id"] != "v2.users."+me+".routingStatus" {
			t.Errorf("subscriptions %v", ents)
		}
		wsSend(t, c, map[string]any{"message": "subscribe", "topics": []string{"v2.no.such.topic"}, "correlationId": "sub-2"})
		if m := wsNext(t, c); m["result"] != "400" || m["status"] != "error" || m["message"] == nil {
			t.Errorf("bad subscribe answered %v", m)
		}
	})

	t.Run("HEAD and listing", func(t *testing.T) {
		e.must(t, 200, "HEAD", "/api/v2/notifications/channels/"+id, sup, nil)
		e.must(t, 404, "HEAD", "/api/v2/notifications/channels/streaming-0-nosuchchannel", sup, nil)
		e.must(t, 404, "HEAD", "/api/v2/notifications/channels/"+id, e.token(t, pAgent), nil) // not the owner
		for _, q := range []string{"", "?includechannels=token", "?includechannels=oauthclient"} {
			ents := e.must(t, 200, "GET", "/api/v2/notifications/channels"+q, sup, nil).entities(t)
			found := false
			for _, en := range ents {
				found = found || en["id"] == id && en["connectUri"] != nil && en["expires"] != nil
			}
			if !found {
				t.Errorf("GET channels%s does not list %s: %v", q, id, ents)
			}
		}
		if ents := e.must(t, 200, "GET", "/api/v2/notifications/channels", e.token(t, pAgent), nil).entities(t); len(ents) != 0 {
			t.Errorf("the agent sees channels %v", ents)
		}
	})

	t.Run("only the owner touches a channel", func(t *testing.T) {
		other := e.token(t, pAdminCC)
		for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
			var body any
			if method == "POST" || method == "PUT" {
				body = topicsBody(topic)
			}
			errorBody(t, e.send(t, method, "/api/v2/notifications/channels/"+id+"/subscriptions", other, body), 404, "not.found")
		}
		ents := e.must(t, 200, "GET", "/api/v2/notifications/channels/"+id+"/subscriptions", sup, nil).entities(t)
		if len(ents) != 3 {
			t.Errorf("another caller changed the subscriptions: %v", ents)
		}
	})

	t.Run("a second socket closes the first", func(t *testing.T) {
		second := wsDial(t, ch["connectUri"].(string))
		wsPing(t, second)
		if ce := wsClosed(t, c); !strings.Contains(ce.Reason, "another WebSocket") {
			t.Errorf("first socket closed with %d %q", ce.Code, ce.Reason)
		}
		wsPing(t, second)
		e.must(t, 204, "DELETE", "/api/v2/notifications/channels/"+id+"/subscriptions", sup, nil)
		if ents := e.must(t, 200, "GET", "/api/v2/notifications/channels/"+id+"/subscriptions", sup, nil).entities(t); len(ents) != 0 {
			t.Errorf("after DELETE: %v", ents)
		}
	})

	t.Run("unknown channel socket is closed with a reason", func(t *testing.T) {
		base := strings.TrimSuffix(ch["connectUri"].(string), id)
		ce := wsClosed(t, wsDial(t, base+"streaming-0-nosuchchannel"))
		if ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "unknown notification channel") {
			t.Errorf("closed with %d %q", ce.Code, ce.Reason)
		}
	})

	t.Run("1,001 topics is 400", func(t *testing.T) {
		var names []string
		for i := range 1001 {
			names = append(names, fmt.Sprintf("v2.routing.queues.q%04d.users", i))
		}
		m := errorBody(t, e.send(t, "PUT", "/api/v2/notifications/channels/"+id+"/subscriptions", sup, topicsBody(names...)), 400, "bad.request")
		if !strings.Contains(m["message"].(string), "1000") {
			t.Errorf("message %q does not give the limit", m["message"])
		}
		e.must(t, 200, "PUT", "/api/v2/notifications/channels/"+id+"/subscriptions", sup, topicsBody(names[:1000]...))
	})

	t.Run("agent and another user's presence", func(t *testing.T) {
		ag := e.token(t, pAgent)
		own := e.userID(t, "agent1")
		otherTopic := "v2.users." + e.userID(t, "agent2") + ".presence"
		ach := e.must(t, 200, "POST", "/api/v2/notifications/channels", ag, nil).obj(t)["id"].(string)
		path := "/api/v2/notifications/channels/" + ach + "/subscriptions"
		m := errorBody(t, e.send(t, "POST", path+"?ignoreErrors=false", ag, topicsBody("v2.users."+own+".presence", otherTopic)), 403, "not.authorized")
		if !strings.Contains(m["message"].(string), otherTopic) {
			t.Errorf("403 message %q does not name the topic", m["message"])
		}
		errorBody(t, e.send(t, "POST", path, ag, topicsBody("v2.routing.queues."+ventas+".users")), 403, "not.authorized")
		r := e.must(t, 200, "POST", path+"?ignoreErrors=true", ag, topicsBody("v2.users."+own+".presence", otherTopic))
		ents := r.entities(t)
		if len(ents) != 2 || ents[0]["state"] != "Permitted" || ents[1]["id"] != otherTopic || ents[1]["state"] != "Rejected" || ents[1]["rejectionReason"] == nil {
			t.Errorf("ignoreErrors answer %s", r)
		}
		if ents := e.must(t, 200, "GET", path, ag, nil).entities(t); len(ents) != 1 {
			t.Errorf("stored %v, want only the own topic", ents)
		}
		errorBody(t, e.send(t, "POST", path, ag, topicsBody("v2.no.such.topic")), 400, "bad.request")
	})

	t.Run("the 21st channel evicts the least recently used", func(t *testing.T) {
		tok := e.token(t, "agent3")
		var ids []string
		for range 20 {
			ids = append(ids, e.must(t, 200, "POST", "/api/v2/notifications/channels", tok, nil).obj(t)["id"].(string))
		}
		e.must(t, 200, "HEAD", "/api/v2/notifications/channels/"+ids[0], tok, nil) // a use: #2 is now the oldest
		e.must(t, 200, "POST", "/api/v2/notifications/channels", tok, nil)
		e.must(t, 404, "HEAD", "/api/v2/notifications/channels/"+ids[1], tok, nil)
		e.must(t, 200, "HEAD", "/api/v2/notifications/channels/"+ids[0], tok, nil)
		if ents := e.must(t, 200, "GET", "/api/v2/notifications/channels", tok, nil).entities(t); len(ents) != 20 {
			t.Errorf("%d channels listed, want 20", len(ents))
		}
	})

	t.Run("echoed ChannelTopic fields are accepted", func(t *testing.T) {
		r := e.must(t, 200, "PUT", "/api/v2/notifications/channels/"+id+"/subscriptions", sup,
			[]map[string]any{{"id": topic, "state": "Permitted", "selfUri": "/x", "missingPermissions": []string{}}})
		if ents := r.entities(t); len(ents) != 1 || ents[0]["id"] != topic {
			t.Errorf("answer %s", r)
		}
	})

	t.Run("wss behind TLS", func(t *testing.T) {
		r := e.send(t, "POST", "/api/v2/notifications/channels", sup, nil, "X-Forwarded-Proto", "https")
		if u, _ := r.obj(t)["connectUri"].(string); !strings.HasPrefix(u, "wss://"+e.app.Addr()+"/channels/streaming-") {
			t.Errorf("connectUri %q behind TLS", u)
		}
	})

	t.Run("available topics", func(t *testing.T) {
		ents := e.must(t, 200, "GET", "/api/v2/notifications/availabletopics?expand=schema&includePreview=true", e.token(t, pAgent), nil).entities(t)
		byID := map[string]map[string]any{}
		for _, en := range ents {
			byID[en["id"].(string)] = en
		}
		for _, want := range []string{"v2.users.{id}.presence", "v2.users.{id}.routingStatus", "v2.routing.queues.{id}.users", "v2.conversations.calls.{id}"} {
			en := byID[want]
			if en == nil || en["description"] == "" {
				t.Errorf("topic %s missing or undescribed: %v", want, en)
				continue
			}
			if _, ok := en["requiresPermissions"].([]any); !ok {
				t.Errorf("%s requiresPermissions %v", want, en["requiresPermissions"])
			}
		}
		if s, _ := byID["v2.routing.queues.{id}.users"]["schema"].(map[string]any); s["type"] != "object" {
			t.Errorf("queue users schema %v", s)
		}
	})

	t.Run("authentication", func(t *testing.T) {
		errorBody(t, e.send(t, "POST", "/api/v2/notifications/channels", "", nil), 401, "authentication.required")
	})

	// Last: shutting the program down tells open sockets, then closes them.
	last := wsDial(t, e.must(t, 200, "POST", "/api/v2/notifications/channels", sup, nil).obj(t)["connectUri"].(string))
	wsPing(t, last)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wsWait)
		defer cancel()
		done <- e.app.Shutdown(ctx)
	}()
	if m := wsNext(t, last); m["topicName"] != "v2.system.socket_closing" {
		t.Errorf("on shutdown the socket got %v, want v2.system.socket_closing", m)
	}
	if ce := wsClosed(t, last); ce.Code != websocket.StatusGoingAway {
		t.Errorf("on shutdown the socket closed with %d %q", ce.Code, ce.Reason)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(wsWait):
		t.Error("shutdown did not finish")
	}
}
