package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/demo"
)

// BenchmarkScreenPopToSocket measures what the agent waits for (the issue's
// target: under 50 ms p99 on loopback, excluding CRM latency): on the demo
// (built-in CRM, real clock), a demo contact calls Ventas where agent1 is
// the only agent on queue; agent1 answers through the API, and the time
// from the answer PATCH returning to the v2.users.{id}.crm.screenpop
// message arriving on agent1's notification WebSocket is one sample
// (conversation.OnAgentConnected → screen-pop worker → builtin search →
// outbox → NATS → notification hub → WebSocket). Between samples agent1
// hangs up and wraps up. ns/op is the whole cycle (inject, ring, answer,
// pop, hang up, wrap-up); the latency is reported as p50/p95/p99/max-ms,
// and commit-p50/p99-ms is the part up to the pop's event committing to the
// outbox (search and call data done; the rest is relay, NATS, hub, socket).
//
//	go test ./internal/api -run XXX -bench ScreenPopToSocket -benchtime 200x
func BenchmarkScreenPopToSocket(b *testing.B) {
	a := apptest.Start(b, apptest.Options{RateLimit: 100000})
	pb := &popBench{b: b, base: a.URL(), hc: &http.Client{Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	ctx := context.Background()
	admin := benchToken(b, pb.base)
	agent := pb.login("agent1")

	var a1, wrapCode string
	for _, u := range pb.entities("/api/v2/users?pageSize=100", admin) {
		if u["username"] == "agent1" {
			a1, _ = u["id"].(string)
		}
	}
	for _, w := range pb.entities("/api/v2/routing/wrapupcodes?pageSize=500", admin) {
		if w["name"] == "Venta - Cerrada" {
			wrapCode, _ = w["id"].(string)
		}
	}
	if a1 == "" || wrapCode == "" {
		b.Fatalf("agent1 %q, wrap-up code %q", a1, wrapCode)
	}
	lists, _, err := a.Contacts.ListLists(ctx, "Base Demo", "", contact.Page{Limit: 1})
	if err != nil || len(lists) != 1 {
		b.Fatalf("demo list: %v %v", lists, err)
	}
	cs, _, err := a.Contacts.ListContacts(ctx, lists[0].ID, "", "", contact.Page{Limit: 50})
	if err != nil || len(cs) == 0 {
		b.Fatalf("demo contacts: %v", err)
	}

	popTopic := "v2.users." + a1 + ".crm.screenpop"
	convTopic := "v2.users." + a1 + ".conversations"
	// When the screen pop's event commits (the worker's part done; the
	// rest is outbox relay → NATS → notification hub → WebSocket).
	var mu sync.Mutex
	committed := map[string]time.Time{}
	a.Outbox.OnCommit(func(ev bus.Event) {
		if ev.Topic != popTopic {
			return
		}
		at := time.Now()
		var p struct {
			ConversationID string `json:"conversationId"`
		}
		_ = json.Unmarshal(ev.Body, &p)
		mu.Lock()
		committed[p.ConversationID] = at
		mu.Unlock()
	})
	evs := pb.socket(agent, convTopic, popTopic)
	pb.call(200, "POST", "/api/v2/users/"+a1+"/station", agent, map[string]any{"stationName": "1001", "password": "device"})

	lat := make([]time.Duration, 0, b.N)
	toCommit := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pb.call(200, "PATCH", "/api/v2/users/"+a1+"/presences/purecloud", agent, onQueueBody())
		caller := cs[i%len(cs)].FirstPhone()
		cid, _ := pb.call(200, "POST", "/api/v2/simulation/calls", admin, map[string]any{"to": "Ventas", "from": caller})["conversationId"].(string)
		c := conv(pb.next(evs, "agent1 alerting", func(e popEvent) bool {
			return e.topic == convTopic && e.body["id"] == cid && conv(e.body).state("agent", a1) == "alerting"
		}).body)
		part := partPath(cid, c.part("agent", a1))

		pb.call(202, "PATCH", part, agent, map[string]any{"state": "connected"})
		answered := time.Now()
		pop := pb.next(evs, "the screen pop", func(e popEvent) bool {
			return e.topic == popTopic && e.body["conversationId"] == cid
		})
		lat = append(lat, pop.at.Sub(answered))
		mu.Lock()
		toCommit = append(toCommit, committed[cid].Sub(answered))
		mu.Unlock()
		if rec, _ := pop.body["record"].(map[string]any); rec == nil || rec["id"] != cs[i%len(cs)].ID {
			b.Fatalf("screen pop for %s found %v, want contact %s", caller, pop.body["record"], cs[i%len(cs)].ID)
		}

		pb.call(202, "PATCH", part, agent, map[string]any{"state": "disconnected"})
		pb.next(evs, "agent1 disconnected", func(e popEvent) bool {
			return e.topic == convTopic && e.body["id"] == cid && conv(e.body).state("agent", a1) == "disconnected"
		})
		pb.call(202, "PATCH", part, agent, map[string]any{"wrapup": map[string]any{"code": wrapCode}})
		pb.next(evs, "agent1 wrapped up", func(e popEvent) bool {
			p := conv(e.body).part("agent", a1)
			return e.topic == convTopic && e.body["id"] == cid && p != nil && p["wrapup"] != nil && p["afterCallWork"] != true
		})
	}
	b.StopTimer()
	b.ReportMetric(quantileMs(lat, 0.50), "p50-ms")
	b.ReportMetric(quantileMs(lat, 0.95), "p95-ms")
	b.ReportMetric(quantileMs(lat, 0.99), "p99-ms")
	b.ReportMetric(quantileMs(lat, 1), "max-ms")
	b.ReportMetric(quantileMs(toCommit, 0.50), "commit-p50-ms")
	b.ReportMetric(quantileMs(toCommit, 0.99), "commit-p99-ms")
}

// quantileMs is the nearest-rank quantile q of ds in milliseconds.
func quantileMs(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max(0, min(int(math.Ceil(q*float64(len(s))))-1, len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

// popBench is a minimal API and WebSocket client for benchmarks (the test
// helpers take a *testing.T).
type popBench struct {
	b    *testing.B
	base string
	hc   *http.Client
}

type popEvent struct {
	topic string
	body  map[string]any
	at    time.Time // when the message was read off the socket
}

// call sends a request and fails unless the status is want.
func (pb *popBench) call(want int, method, path, token string, body any) map[string]any {
	pb.b.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, pb.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := pb.hc.Do(req)
	if err != nil {
		pb.b.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		pb.b.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, raw, want)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func (pb *popBench) entities(path, token string) []map[string]any {
	pb.b.Helper()
	var out []map[string]any
	raw, _ := pb.call(200, "GET", path, token, nil)["entities"].([]any)
	for _, e := range raw {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

// login logs a demo person in as the web console does (code + PKCE).
func (pb *popBench) login(username string) string {
	pb.b.Helper()
	password := ""
	for _, l := range demo.Logins {
		if l.Username == username {
			password = l.Password
		}
	}
	v := strings.Repeat("bench-verifier-", 5)
	sum := sha256.Sum256([]byte(v))
	form := url.Values{"response_type": {"code"}, "client_id": {webClientID}, "redirect_uri": {pb.base + "/ui/"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "state": {"x"},
		"username": {username}, "password": {password}}
	res, err := pb.hc.PostForm(pb.base+"/oauth/authorize", form)
	if err != nil {
		pb.b.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusSeeOther || loc.Query().Get("code") == "" {
		pb.b.Fatalf("login of %s: %d %v", username, res.StatusCode, loc)
	}
	res, err = pb.hc.PostForm(pb.base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"code_verifier": {v}, "client_id": {webClientID}, "redirect_uri": {pb.base + "/ui/"}})
	if err != nil {
		pb.b.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		pb.b.Fatalf("token of %s: %d %v", username, res.StatusCode, err)
	}
	return tok.AccessToken
}

// socket opens a notification channel on topics and returns its messages
// (heartbeats left out), each stamped when read.
func (pb *popBench) socket(token string, topics ...string) <-chan popEvent {
	pb.b.Helper()
	ch := pb.call(200, "POST", "/api/v2/notifications/channels", token, nil)
	id, _ := ch["id"].(string)
	pb.call(200, "PUT", "/api/v2/notifications/channels/"+id+"/subscriptions", token, topicsBody(topics...))
	ctx, cancel := context.WithCancel(context.Background())
	c, _, err := websocket.Dial(ctx, fmt.Sprint(ch["connectUri"]), nil)
	if err != nil {
		cancel()
		pb.b.Fatal(err)
	}
	c.SetReadLimit(1 << 22)
	pb.b.Cleanup(func() { cancel(); c.CloseNow() })
	out := make(chan popEvent, 4096)
	go func() {
		defer close(out)
		for {
			_, raw, err := c.Read(ctx)
			at := time.Now()
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(raw, &m) != nil || wsMeta(m) == "WebSocket Heartbeat" {
				continue
			}
			body, _ := m["eventBody"].(map[string]any)
			out <- popEvent{topic: fmt.Sprint(m["topicName"]), body: body, at: at}
		}
	}()
	// A pong says the socket is attached to its channel.
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"message":"ping"}`)); err != nil {
		pb.b.Fatal(err)
	}
	pb.next(out, "pong", func(e popEvent) bool { return e.topic == "channel.metadata" && e.body["message"] == "pong" })
	return out
}

// next returns the first event from evs that matches (others are dropped).
func (pb *popBench) next(evs <-chan popEvent, what string, match func(popEvent) bool) popEvent {
	pb.b.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-evs:
			if !ok {
				pb.b.Fatalf("socket closed waiting for %s", what)
			}
			if match(e) {
				return e
			}
		case <-deadline:
			pb.b.Fatalf("no %s within 10 s", what)
		}
	}
}
