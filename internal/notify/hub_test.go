package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
)

// wait bounds every wait on a channel or a socket.
const wait = 5 * time.Second

var (
	agentP      = auth.Principal{ClientID: "centralita-web", UserID: "u-agent", Roles: []auth.Role{auth.Agent}, Family: "fam-agent", TokenHash: "t1"}
	agent2P     = auth.Principal{ClientID: "centralita-web", UserID: "u-agent2", Roles: []auth.Role{auth.Agent}, Family: "fam-agent2", TokenHash: "t2"}
	superP      = auth.Principal{ClientID: "centralita-web", UserID: "u-super", Roles: []auth.Role{auth.Supervisor}, Family: "fam-super", TokenHash: "t3"}
	ccAgentP    = auth.Principal{ClientID: "cc-agent", Roles: []auth.Role{auth.Agent}, Family: "fam-cc-agent", TokenHash: "t4"}
	ccSuperP    = auth.Principal{ClientID: "cc-super", Roles: []auth.Role{auth.Supervisor}, Family: "fam-cc-super", TokenHash: "t5"}
	t0          = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	channelIDRE = regexp.MustCompile(`^streaming-\d+-[a-z2-7]{32}$`)
)

func newTestHub(t *testing.T, o Options) (*Hub, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(t0)
	if o.Clock == nil {
		o.Clock = fc
	}
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	h := New(o)
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, fc
}

func mustCreate(t *testing.T, h *Hub, p auth.Principal) Channel {
	t.Helper()
	ch, err := h.CreateChannel(p)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func mustSubscribe(t *testing.T, h *Hub, p auth.Principal, id string, topics ...string) []TopicState {
	t.Helper()
	ts, err := h.Subscribe(context.Background(), p, id, topics, Add, false)
	if err != nil {
		t.Fatalf("subscribe %v: %v", topics, err)
	}
	return ts
}

func kindOf(err error) problem.Kind {
	if ps := problem.All(err); len(ps) > 0 {
		return ps[0].Kind
	}
	return 0
}

// fakeConn stands in for a WebSocket: it records writes and the close; a
// blocking one holds every Write until released.
type fakeConn struct {
	writes  chan []byte
	entered chan struct{}
	release chan struct{} // nil: never blocks
	closed  chan [2]string
}

func newFakeConn(blocking bool) *fakeConn {
	f := &fakeConn{writes: make(chan []byte, 10000), entered: make(chan struct{}, 10000), closed: make(chan [2]string, 1)}
	if blocking {
		f.release = make(chan struct{})
	}
	return f
}

func (f *fakeConn) Write(ctx context.Context, msg []byte) error {
	select {
	case f.entered <- struct{}{}:
	default:
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.writes <- msg
	return nil
}

func (f *fakeConn) Close(code closeCode, reason string) error {
	f.closed <- [2]string{fmt.Sprint(int(code)), reason}
	return nil
}

// attachFake opens a fake socket on channel id, as ServeWebSocket would.
func attachFake(t *testing.T, h *Hub, id string, blocking bool) *fakeConn {
	t.Helper()
	f := newFakeConn(blocking)
	s := newSocket(id, f, h.queueSize)
	old, _, reason := h.attach(id, s)
	if reason != "" {
		t.Fatalf("attach %s: %s", id, reason)
	}
	if old != nil {
		old.stop(closeNormal, ReasonReplaced, nil)
	}
	go func() {
		s.writeLoop()
		h.detach(s)
		h.sockets.Done()
	}()
	return f
}

func recvWrite(t *testing.T, f *fakeConn) map[string]any {
	t.Helper()
	select {
	case b := <-f.writes:
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("socket got non-JSON %q", b)
		}
		return m
	case <-time.After(wait):
		t.Fatal("no message on the socket")
	}
	return nil
}

func recvClose(t *testing.T, f *fakeConn) (code, reason string) {
	t.Helper()
	select {
	case c := <-f.closed:
		return c[0], c[1]
	case <-time.After(wait):
		t.Fatal("socket not closed")
	}
	return "", ""
}

func event(topic, id string) bus.Event {
	return bus.Event{ID: id, Topic: topic, Version: "2", CorrelationID: "corr-" + id, Body: json.RawMessage(`{"n":"` + id + `"}`)}
}

func TestCreateAndListChannels(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	a := mustCreate(t, h, agentP)
	if !channelIDRE.MatchString(a.ID) {
		t.Errorf("channel id %q, want streaming-<n>-<random>", a.ID)
	}
	if !a.Expires.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("expires %v, want 24 h after creation", a.Expires)
	}
	b := mustCreate(t, h, agentP)
	if a.ID == b.ID {
		t.Fatal("two channels share an id")
	}
	// Another session of the same person through the same client.
	other := agentP
	other.Family, other.TokenHash = "fam-other", "t9"
	c := mustCreate(t, h, other)
	cc := mustCreate(t, h, ccAgentP)

	ids := func(chs []Channel) []string {
		var out []string
		for _, ch := range chs {
			out = append(out, ch.ID)
		}
		return out
	}
	if got := ids(h.Channels(agentP, ScopeToken)); fmt.Sprint(got) != fmt.Sprint([]string{a.ID, b.ID}) {
		t.Errorf("token scope %v, want %v", got, []string{a.ID, b.ID})
	}
	if got := ids(h.Channels(agentP, ScopeClient)); fmt.Sprint(got) != fmt.Sprint([]string{a.ID, b.ID, c.ID}) {
		t.Errorf("client scope %v, want %v", got, []string{a.ID, b.ID, c.ID})
	}
	if got := ids(h.Channels(ccAgentP, ScopeToken)); fmt.Sprint(got) != fmt.Sprint([]string{cc.ID}) {
		t.Errorf("client-credentials channels %v", got)
	}
	// Only the owner sees a channel.
	if _, err := h.Channel(agent2P, a.ID); kindOf(err) != problem.NotFound {
		t.Errorf("another user's channel: %v, want NotFound", err)
	}
	if _, err := h.Subscriptions(superP, a.ID); kindOf(err) != problem.NotFound {
		t.Errorf("a supervisor reading another's channel: %v, want NotFound", err)
	}
	if _, err := h.Channel(agentP, "streaming-0-nope"); kindOf(err) != problem.NotFound {
		t.Errorf("unknown channel: %v, want NotFound", err)
	}
	if _, err := h.Channel(agentP, a.ID); err != nil {
		t.Errorf("own channel: %v", err)
	}
}

func TestChannelLimitEvictsLeastRecentlyUsed(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	bystander := mustCreate(t, h, agent2P)
	var chs []Channel
	for range MaxChannelsPerOwner {
		chs = append(chs, mustCreate(t, h, agentP))
	}
	// chs[0] has a socket and is the least recently used; after it, the
	// others are used in the order 2, 1, 3, 4, ... 20.
	f0 := attachFake(t, h, chs[0].ID, false)
	for _, i := range append([]int{2, 1}, func() (r []int) {
		for i := 3; i < MaxChannelsPerOwner; i++ {
			r = append(r, i)
		}
		return r
	}()...) {
		if _, err := h.Subscriptions(agentP, chs[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(t, h, agentP)
	if _, err := h.Channel(agentP, chs[2].ID); kindOf(err) != problem.NotFound {
		t.Errorf("the least recently used channel without a socket (#3) survived: %v", err)
	}
	for _, i := range []int{0, 1, 3, 19} {
		if _, err := h.Channel(agentP, chs[i].ID); err != nil {
			t.Errorf("channel #%d was evicted: %v", i+1, err)
		}
	}
	if n := len(h.Channels(agentP, ScopeClient)); n != MaxChannelsPerOwner {
		t.Errorf("owner holds %d channels, want %d", n, MaxChannelsPerOwner)
	}
	if _, err := h.Channel(agent2P, bystander.ID); err != nil {
		t.Errorf("another owner's channel was evicted: %v", err)
	}

	// With a socket on every channel, the least recently used goes and its
	// socket is closed with the reason.
	all := h.Channels(agentP, ScopeClient)
	fakes := map[string]*fakeConn{chs[0].ID: f0}
	for _, ch := range all[1:] {
		fakes[ch.ID] = attachFake(t, h, ch.ID, false)
	}
	// chs[0]'s socket was attached first of all: least recently used.
	mustCreate(t, h, agentP)
	if _, err := h.Channel(agentP, chs[0].ID); kindOf(err) != problem.NotFound {
		t.Errorf("the least recently used channel (all with sockets) survived: %v", err)
	}
	if _, reason := recvClose(t, f0); reason != ReasonEvicted {
		t.Errorf("evicted socket closed with %q, want %q", reason, ReasonEvicted)
	}
}

func TestTopicLimit(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	ch := mustCreate(t, h, superP)
	topics := func(from, n int) []string {
		var out []string
		for i := from; i < from+n; i++ {
			out = append(out, fmt.Sprintf("v2.routing.queues.q%04d.users", i))
		}
		return out
	}
	if _, err := h.Subscribe(context.Background(), superP, ch.ID, topics(0, 1001), Replace, false); kindOf(err) != problem.Invalid {
		t.Fatalf("1,001 topics: %v, want Invalid", err)
	}
	if _, err := h.Subscribe(context.Background(), superP, ch.ID, topics(0, 1001), Replace, true); kindOf(err) != problem.Invalid {
		t.Fatalf("1,001 topics with ignoreErrors: %v, want Invalid", err)
	}
	ts, err := h.Subscribe(context.Background(), superP, ch.ID, topics(0, 1000), Replace, false)
	if err != nil || len(ts) != 1000 {
		t.Fatalf("1,000 topics: %d, %v", len(ts), err)
	}
	// Adding one more goes over; adding one already there does not.
	if _, err := h.Subscribe(context.Background(), superP, ch.ID, topics(1000, 1), Add, false); kindOf(err) != problem.Invalid {
		t.Fatalf("1,000 + 1 topics: %v, want Invalid", err)
	}
	if _, err := h.Subscribe(context.Background(), superP, ch.ID, topics(999, 1), Add, false); err != nil {
		t.Fatalf("re-adding a topic: %v", err)
	}
	// Combined topics count once expanded.
	var combined []string
	for i := range 501 {
		combined = append(combined, fmt.Sprintf("v2.users.u%04d?presence&routingStatus", i))
	}
	if _, err := h.Subscribe(context.Background(), superP, ch.ID, combined, Replace, false); kindOf(err) != problem.Invalid {
		t.Fatalf("501 combined topics = 1,002: %v, want Invalid", err)
	}
	got, _ := h.Subscriptions(superP, ch.ID)
	if len(got) != 1000 {
		t.Errorf("a refused request changed the subscriptions: %d topics", len(got))
	}
}

func TestCombinedTopics(t *testing.T) {
	out, bad := ExpandTopics([]string{"v2.users.u1?presence&routingStatus&conversations.calls", "v2.users.u1.presence", "v2.x?", "v2.y?a&&b"})
	want := []string{"v2.users.u1.presence", "v2.users.u1.routingStatus", "v2.users.u1.conversations.calls"}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Errorf("expanded %v, want %v", out, want)
	}
	if len(bad) != 2 || bad["v2.x?"] == "" || bad["v2.y?a&&b"] == "" {
		t.Errorf("malformed combined topics: %v", bad)
	}
	long := "v2.users.u1?" + strings.Repeat("presence&", 22) + "presence"
	if len(long) <= MaxCombinedTopicLength {
		t.Fatal("test topic too short")
	}
	if _, bad := ExpandTopics([]string{long}); bad[long] == "" {
		t.Errorf("a %d-character combined topic was accepted", len(long))
	}

	h, _ := newTestHub(t, Options{})
	ch := mustCreate(t, h, agentP)
	ts := mustSubscribe(t, h, agentP, ch.ID, "v2.users.u-agent?presence&routingStatus")
	if len(ts) != 2 || ts[0].ID != "v2.users.u-agent.presence" || ts[1].ID != "v2.users.u-agent.routingStatus" || ts[0].State != StatePermitted {
		t.Errorf("subscriptions %+v", ts)
	}
	if _, err := h.Subscribe(context.Background(), agentP, ch.ID, []string{long}, Add, false); kindOf(err) != problem.Invalid {
		t.Errorf("long combined topic: %v, want Invalid", err)
	}
	f := attachFake(t, h, ch.ID, false)
	h.Deliver(event("v2.users.u-agent.routingStatus", "e1"))
	if m := recvWrite(t, f); m["topicName"] != "v2.users.u-agent.routingStatus" {
		t.Errorf("event under %v, want the individual topic name", m["topicName"])
	}
}

type participants map[string]bool // "conversation/user"

func (p participants) IsParticipant(_ context.Context, conv, user string) (bool, error) {
	if conv == "broken" {
		return false, errors.New("store down")
	}
	return p[conv+"/"+user], nil
}

func TestPermissionRules(t *testing.T) {
	cases := []struct {
		who   string
		p     auth.Principal
		topic string
		pc    ParticipantChecker
		ok    bool
	}{
		{"agent, own presence", agentP, "v2.users.u-agent.presence", nil, true},
		{"agent, own calls", agentP, "v2.users.u-agent.conversations.calls", nil, true},
		{"agent, another's presence", agentP, "v2.users.u-agent2.presence", nil, false},
		{"supervisor, another's presence", superP, "v2.users.u-agent.presence", nil, true},
		{"agent client, a user's presence", ccAgentP, "v2.users.u-agent.presence", nil, false},
		{"agent client, its own id as user", ccAgentP, "v2.users.cc-agent.presence", nil, false},
		{"supervisor client, a user's presence", ccSuperP, "v2.users.u-agent.activity", nil, true},
		{"agent, queue members", agentP, "v2.routing.queues.q1.users", nil, false},
		{"supervisor, queue members", superP, "v2.routing.queues.q1.users", nil, true},
		{"supervisor client, queue calls", ccSuperP, "v2.routing.queues.q1.conversations.calls", nil, true},
		{"agent, conversation, no checker", agentP, "v2.conversations.c1", nil, false},
		{"agent, conversation, participant", agentP, "v2.conversations.c1", participants{"c1/u-agent": true}, true},
		{"agent, call, participant", agentP, "v2.conversations.calls.c1", participants{"c1/u-agent": true}, true},
		{"agent, conversation, not a participant", agentP, "v2.conversations.c2", participants{"c1/u-agent": true}, false},
		{"agent client, conversation", ccAgentP, "v2.conversations.c1", participants{"c1/cc-agent": true}, false},
		{"supervisor, conversation", superP, "v2.conversations.calls.c9", nil, true},
	}
	for _, c := range cases {
		t.Run(c.who, func(t *testing.T) {
			h, _ := newTestHub(t, Options{Participants: c.pc})
			ch := mustCreate(t, h, c.p)
			_, err := h.Subscribe(context.Background(), c.p, ch.ID, []string{c.topic}, Add, false)
			if c.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.ok {
				if kindOf(err) != problem.Forbidden {
					t.Fatalf("got %v, want Forbidden", err)
				}
				if !strings.Contains(err.Error(), c.topic) {
					t.Errorf("error %q does not name the topic", err)
				}
			}
		})
	}

	h, _ := newTestHub(t, Options{})
	ch := mustCreate(t, h, agentP)
	t.Run("ignoreErrors lists rejected topics and applies the rest", func(t *testing.T) {
		ts, err := h.Subscribe(context.Background(), agentP, ch.ID,
			[]string{"v2.users.u-agent.presence", "v2.users.u-agent2.presence", "v2.nothing.here"}, Replace, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 3 || ts[0].State != StatePermitted || ts[1].State != StateRejected || ts[2].State != StateRejected ||
			ts[1].ID != "v2.users.u-agent2.presence" || ts[1].RejectionReason == "" || ts[2].ID != "v2.nothing.here" {
			t.Fatalf("answer %+v", ts)
		}
		if got, _ := h.Subscriptions(agentP, ch.ID); len(got) != 1 {
			t.Errorf("stored %+v, want only the permitted topic", got)
		}
	})
	t.Run("a refused request changes nothing", func(t *testing.T) {
		_, err := h.Subscribe(context.Background(), agentP, ch.ID, []string{"v2.users.u-agent.routingStatus", "v2.users.u-agent2.presence"}, Add, false)
		if kindOf(err) != problem.Forbidden {
			t.Fatalf("got %v", err)
		}
		if got, _ := h.Subscriptions(agentP, ch.ID); len(got) != 1 {
			t.Errorf("stored %+v after a refused request", got)
		}
	})
	t.Run("unknown topic is invalid", func(t *testing.T) {
		for _, topic := range []string{"v2.nothing.here", "v2.users.*.presence", "v2.users.>", "", "v2.users.u-agent.presence.extra"} {
			if _, err := h.Subscribe(context.Background(), agentP, ch.ID, []string{topic}, Add, false); kindOf(err) != problem.Invalid {
				t.Errorf("%q: got %v, want Invalid", topic, err)
			}
		}
	})
	t.Run("a failing participant check is an error, not a refusal", func(t *testing.T) {
		h.SetParticipantChecker(participants{})
		defer h.SetParticipantChecker(nil)
		_, err := h.Subscribe(context.Background(), agentP, ch.ID, []string{"v2.conversations.broken"}, Add, false)
		if err == nil || len(problem.All(err)) != 0 {
			t.Errorf("got %v, want a plain error", err)
		}
	})
}

func TestRegisterTopics(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	ch := mustCreate(t, h, agentP)
	topic := "v2.users.u-agent.conversations.chats"
	if _, err := h.Subscribe(context.Background(), agentP, ch.ID, []string{topic}, Add, false); kindOf(err) != problem.Invalid {
		t.Fatalf("before registering: %v", err)
	}
	h.Register(Topic{Template: "v2.users.{id}.conversations.chats", Description: "Chats.", Rule: SelfOrSupervisor})
	mustSubscribe(t, h, agentP, ch.ID, topic)
	found := false
	for _, tp := range h.Topics() {
		found = found || tp.Template == "v2.users.{id}.conversations.chats"
	}
	if !found {
		t.Error("registered topic not listed")
	}
	// Registering again replaces (e.g. to add a schema).
	h.Register(Topic{Template: "v2.users.{id}.conversations.chats", Description: "Chats v2.", Rule: Supervisor})
	if _, err := h.Subscribe(context.Background(), agentP, ch.ID, []string{topic}, Add, false); kindOf(err) != problem.Forbidden {
		t.Errorf("after replacing the rule: %v", err)
	}
	for _, bad := range []Topic{
		{Template: "users.{id}", Rule: Anyone},
		{Template: "v2.users.{id}.{id}", Rule: Anyone},
		{Template: "v2.users.*", Rule: Anyone},
		{Template: "v2.users.x", Rule: SelfOrSupervisor},
		{Template: "v2.users.{id}", Rule: 0},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", bad)
				}
			}()
			h.Register(bad)
		}()
	}
	want := []string{"v2.users.{id}.presence", "v2.users.{id}.routingStatus", "v2.users.{id}.activity", "v2.users.{id}.conversations",
		"v2.users.{id}.conversations.calls", "v2.users.{id}.station", "v2.routing.queues.{id}.users", "v2.routing.queues.{id}.conversations",
		"v2.routing.queues.{id}.conversations.calls", "v2.conversations.{id}", "v2.conversations.calls.{id}"}
	have := map[string]bool{}
	for _, tp := range h.Topics() {
		have[tp.Template] = tp.Description != ""
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("default topic %s missing or undescribed", w)
		}
	}
}

func TestSlowSocketDropsWithoutBlockingOthers(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, _ := newTestHub(t, Options{QueueSize: 4, Registerer: reg})
	slowCh := mustCreate(t, h, superP)
	fastCh := mustCreate(t, h, ccSuperP)
	topic := "v2.routing.queues.q1.users"
	mustSubscribe(t, h, superP, slowCh.ID, topic)
	mustSubscribe(t, h, ccSuperP, fastCh.ID, topic)
	slow := attachFake(t, h, slowCh.ID, true)
	fast := attachFake(t, h, fastCh.ID, false)

	const n = 12
	for i := range n {
		h.Deliver(event(topic, fmt.Sprint("e", i))) // returns at once: it never waits for a socket
		if m := recvWrite(t, fast); m["eventBody"].(map[string]any)["n"] != fmt.Sprint("e", i) {
			t.Fatalf("fast socket got %v, want e%d", m, i)
		}
		if i == 0 {
			select { // the slow writer holds e0 in a write that does not end
			case <-slow.entered:
			case <-time.After(wait):
				t.Fatal("slow socket never started writing")
			}
		}
	}
	// e0 is in the stuck write, e1..e4 fill the queue of 4, e5..e11 drop.
	if st := h.Stats(); st.Dropped != n-1-4 {
		t.Errorf("dropped %d, want %d", st.Dropped, n-1-4)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var metric float64 = -1
	for _, mf := range mfs {
		if mf.GetName() == "centralita_notifications_dropped_total" {
			metric = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if metric != n-1-4 {
		t.Errorf("centralita_notifications_dropped_total = %v, want %d", metric, n-1-4)
	}
	close(slow.release)
	for i := range 5 {
		if m := recvWrite(t, slow); m["eventBody"].(map[string]any)["n"] != fmt.Sprint("e", i) {
			t.Errorf("slow socket message %d is %v", i, m)
		}
	}
	select {
	case m := <-slow.writes:
		t.Errorf("slow socket got a dropped message: %s", m)
	default:
	}
}

func TestDeliverOnlySubscribedAndOnce(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	a := mustCreate(t, h, superP)
	b := mustCreate(t, h, superP)
	mustSubscribe(t, h, superP, a.ID, "v2.routing.queues.q1.users")
	mustSubscribe(t, h, superP, b.ID, "v2.routing.queues.q2.users")
	fa, fb := attachFake(t, h, a.ID, false), attachFake(t, h, b.ID, false)
	h.Deliver(event("v2.routing.queues.q2.users", "x1"))
	h.Deliver(event("v2.routing.queues.q1.users", "x2"))
	h.Deliver(event("v2.routing.queues.q1.users", "x2")) // a republished copy
	h.Deliver(event("v2.routing.queues.q1.users", "x3"))
	m := recvWrite(t, fa)
	if m["topicName"] != "v2.routing.queues.q1.users" || m["version"] != "2" {
		t.Errorf("socket a got %v", m)
	}
	if md, _ := m["metadata"].(map[string]any); md["CorrelationId"] != "corr-x2" {
		t.Errorf("metadata %v", m["metadata"])
	}
	if m := recvWrite(t, fa); m["eventBody"].(map[string]any)["n"] != "x3" {
		t.Errorf("second message on a is %v, want x3 (x2 once)", m)
	}
	if m := recvWrite(t, fb); m["eventBody"].(map[string]any)["n"] != "x1" {
		t.Errorf("socket b got %v", m)
	}
	// After DELETE, nothing more.
	if err := h.DeleteSubscriptions(superP, a.ID); err != nil {
		t.Fatal(err)
	}
	mustSubscribe(t, h, superP, a.ID, "v2.routing.queues.q3.users")
	h.Deliver(event("v2.routing.queues.q1.users", "x4"))
	h.Deliver(event("v2.routing.queues.q3.users", "x5"))
	if m := recvWrite(t, fa); m["eventBody"].(map[string]any)["n"] != "x5" {
		t.Errorf("after deleting subscriptions a got %v, want x5", m)
	}
}

func TestExpiry(t *testing.T) {
	h, fc := newTestHub(t, Options{})
	a := mustCreate(t, h, agentP)
	b := mustCreate(t, h, agentP)
	fa := attachFake(t, h, a.ID, false)
	fc.Advance(23 * time.Hour)
	mustSubscribe(t, h, agentP, b.ID, "v2.users.u-agent.presence") // renews b
	fc.Advance(time.Hour)
	if _, err := h.Channel(agentP, a.ID); kindOf(err) != problem.NotFound {
		t.Errorf("channel alive 24 h after creation: %v", err)
	}
	if _, reason := recvClose(t, fa); reason != ReasonExpired {
		t.Errorf("expired socket closed with %q", reason)
	}
	ch, err := h.Channel(agentP, b.ID)
	if err != nil {
		t.Fatalf("resubscribed channel expired: %v", err)
	}
	if !ch.Expires.Equal(t0.Add(47 * time.Hour)) {
		t.Errorf("renewed expiry %v, want 24 h after the subscription", ch.Expires)
	}
	fc.Advance(23 * time.Hour)
	if _, err := h.Channel(agentP, b.ID); kindOf(err) != problem.NotFound {
		t.Errorf("channel alive after its renewed lifetime: %v", err)
	}
	if st := h.Stats(); st.Channels != 0 {
		t.Errorf("%d channels left", st.Channels)
	}
}

// --- real WebSockets ---

func wsServer(t *testing.T, h *Hub) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeWebSocket(w, r, strings.TrimPrefix(r.URL.Path, "/channels/"))
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server on %s", srv.URL)
	}
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dial(t *testing.T, base, id string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, base+"/channels/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func writeJSON(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading the socket: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("non-JSON message %q", b)
	}
	return m
}

// readClose reads until the socket closes and returns the close status.
func readClose(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string, []map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var before []map[string]any
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("socket ended without a close frame: %v", err)
			}
			return ce.Code, ce.Reason, before
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		before = append(before, m)
	}
}

// ready pings and waits for the pong: the socket is attached.
func ready(t *testing.T, c *websocket.Conn) {
	t.Helper()
	writeJSON(t, c, map[string]string{"message": "ping"})
	if m := readJSON(t, c); metaMessage(m) != "pong" {
		t.Fatalf("ping answered with %v", m)
	}
}

func metaMessage(m map[string]any) string {
	if m["topicName"] != "channel.metadata" {
		return ""
	}
	b, _ := m["eventBody"].(map[string]any)
	s, _ := b["message"].(string)
	return s
}

func TestHeartbeatFollowsTheClock(t *testing.T) {
	h, fc := newTestHub(t, Options{})
	ch := mustCreate(t, h, agentP)
	c := dial(t, wsServer(t, h), ch.ID)
	ready(t, c)
	fc.Advance(HeartbeatInterval - time.Second)
	ready(t, c) // the next message is the pong: no heartbeat before 30 s
	fc.Advance(time.Second)
	if m := readJSON(t, c); metaMessage(m) != "WebSocket Heartbeat" {
		t.Fatalf("at 30 s got %v, want the heartbeat", m)
	}
	fc.Advance(HeartbeatInterval)
	if m := readJSON(t, c); metaMessage(m) != "WebSocket Heartbeat" {
		t.Fatalf("at 60 s got %v, want the heartbeat", m)
	}
}

func TestSocketProtocol(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	ch := mustCreate(t, h, agentP)
	c := dial(t, wsServer(t, h), ch.ID)
	ready(t, c)

	writeJSON(t, c, map[string]any{"message": "subscribe", "topics": []string{"v2.users.u-agent?presence&routingStatus"}, "correlationId": "c-1"})
	m := readJSON(t, c)
	if m["result"] != "200" || m["status"] != "subscribed" || m["correlationId"] != "c-1" {
		t.Fatalf("subscribe answered %v; result must be the string \"200\"", m)
	}
	if ts, _ := h.Subscriptions(agentP, ch.ID); len(ts) != 2 {
		t.Errorf("subscriptions after socket subscribe: %+v", ts)
	}
	writeJSON(t, c, map[string]any{"message": "subscribe", "topics": []string{"v2.users.u-agent2.presence"}, "correlationId": "c-2"})
	m = readJSON(t, c)
	if m["result"] != "400" || m["status"] != "error" || m["correlationId"] != "c-2" || !strings.Contains(fmt.Sprint(m["message"]), "v2.users.u-agent2.presence") {
		t.Fatalf("forbidden subscribe answered %v", m)
	}
	writeJSON(t, c, map[string]any{"message": "dance"})
	if m := readJSON(t, c); m["result"] != "400" {
		t.Errorf("unknown message answered %v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c.Write(ctx, websocket.MessageText, []byte("not json"))
	if m := readJSON(t, c); m["result"] != "400" {
		t.Errorf("non-JSON answered %v", m)
	}

	h.Deliver(event("v2.users.u-agent.presence", "p1"))
	if m := readJSON(t, c); m["topicName"] != "v2.users.u-agent.presence" || m["version"] != "2" {
		t.Errorf("event %v", m)
	}
	writeJSON(t, c, map[string]any{"message": "unsubscribe", "topics": []string{"v2.users.u-agent.presence"}, "correlationId": "c-3"})
	if m := readJSON(t, c); m["result"] != "200" || m["status"] != "unsubscribed" {
		t.Errorf("unsubscribe answered %v", m)
	}
	h.Deliver(event("v2.users.u-agent.presence", "p2"))
	h.Deliver(event("v2.users.u-agent.routingStatus", "p3"))
	if m := readJSON(t, c); m["topicName"] != "v2.users.u-agent.routingStatus" {
		t.Errorf("after unsubscribing got %v", m)
	}
}

func TestSecondSocketClosesTheFirst(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	ch := mustCreate(t, h, superP)
	mustSubscribe(t, h, superP, ch.ID, "v2.routing.queues.q1.users")
	base := wsServer(t, h)
	first := dial(t, base, ch.ID)
	ready(t, first)
	second := dial(t, base, ch.ID)
	ready(t, second)
	if code, reason, _ := readClose(t, first); code != websocket.StatusNormalClosure || reason != ReasonReplaced {
		t.Errorf("first socket closed with %d %q", code, reason)
	}
	h.Deliver(event("v2.routing.queues.q1.users", "s1"))
	if m := readJSON(t, second); m["topicName"] != "v2.routing.queues.q1.users" {
		t.Errorf("second socket got %v", m)
	}
	if st := h.Stats(); st.Sockets != 1 {
		t.Errorf("%d sockets open, want 1", st.Sockets)
	}
}

func TestUnknownChannelIsClosed(t *testing.T) {
	h, fc := newTestHub(t, Options{})
	base := wsServer(t, h)
	c := dial(t, base, "streaming-0-nosuchchannel")
	if code, reason, _ := readClose(t, c); code != websocket.StatusPolicyViolation || reason != ReasonUnknownChannel {
		t.Errorf("closed with %d %q", code, reason)
	}
	// An expired channel is unknown too, and expiry closes an open socket.
	ch := mustCreate(t, h, agentP)
	live := dial(t, base, ch.ID)
	ready(t, live)
	fc.Advance(ChannelLifetime)
	if code, reason, _ := readClose(t, live); code != websocket.StatusNormalClosure || reason != ReasonExpired {
		t.Errorf("expired socket closed with %d %q", code, reason)
	}
	c = dial(t, base, ch.ID)
	if _, reason, _ := readClose(t, c); reason != ReasonUnknownChannel {
		t.Errorf("expired channel closed with %q", reason)
	}
}

func TestShutdownSendsSocketClosing(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	ch := mustCreate(t, h, agentP)
	c := dial(t, wsServer(t, h), ch.ID)
	ready(t, c)
	closed := make(chan struct{})
	go func() {
		h.Close()
		close(closed)
	}()
	code, _, before := readClose(t, c)
	if code != websocket.StatusGoingAway {
		t.Errorf("closed with %d, want going away", code)
	}
	if len(before) == 0 || before[len(before)-1]["topicName"] != SocketClosingTopic {
		t.Errorf("before closing got %v, want a %s event", before, SocketClosingTopic)
	}
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("Close did not return")
	}
	// After Close, sockets are refused.
	if st := h.Stats(); st.Sockets != 0 {
		t.Errorf("%d sockets after Close", st.Sockets)
	}
}

func TestDeliveryFromTheBus(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := bus.Open(ctx, "", t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	h, _ := newTestHub(t, Options{Conn: b.Conn()})
	ch := mustCreate(t, h, superP)
	mustSubscribe(t, h, superP, ch.ID, "v2.routing.queues.q1.users")
	c := dial(t, wsServer(t, h), ch.ID)
	ready(t, c)
	for _, topic := range []string{"v2.routing.queues.q2.users", "v2.routing.queues.q1.users"} {
		ev, err := bus.NewEvent(bus.WithCorrelationID(ctx, "corr-bus"), t0, topic, map[string]string{"id": "q"})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(ctx, ev); err != nil { // stored in JetStream, seen by core subscribers
			t.Fatal(err)
		}
	}
	m := readJSON(t, c)
	if m["topicName"] != "v2.routing.queues.q1.users" || m["version"] != "2" {
		t.Fatalf("got %v", m)
	}
	if body, _ := m["eventBody"].(map[string]any); body["id"] != "q" {
		t.Errorf("eventBody %v", m["eventBody"])
	}
	if md, _ := m["metadata"].(map[string]any); md["CorrelationId"] != "corr-bus" {
		t.Errorf("metadata %v", m["metadata"])
	}
}
