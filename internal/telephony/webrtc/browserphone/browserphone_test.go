package browserphone

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
	"github.com/centralita/centralita/internal/telephony/sip"
	"github.com/centralita/centralita/internal/telephony/webrtc"
)

type stations map[string]string // name → type

func (s stations) GetStationByName(_ context.Context, name string) (directory.Station, error) {
	typ, ok := s[name]
	if !ok {
		return directory.Station{}, problem.NotFoundf("no station %s", name)
	}
	return directory.Station{Name: name, Type: typ}, nil
}

type sessions struct {
	mu sync.Mutex
	at map[string]string // user → station
}

func (s *sessions) StationOf(user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.at[user]
	return st, ok
}

func (s *sessions) set(user, station string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if station == "" {
		delete(s.at, user)
	} else {
		s.at[user] = station
	}
}

// inbox records delivered events.
type inbox struct {
	mu  sync.Mutex
	evs []bus.Event
}

func (i *inbox) Deliver(ev bus.Event) {
	i.mu.Lock()
	i.evs = append(i.evs, ev)
	i.mu.Unlock()
}

// next waits for the n-th event (0-based) of type typ on topic.
func (i *inbox) wait(t *testing.T, topic, typ string, n int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		i.mu.Lock()
		k := 0
		for _, ev := range i.evs {
			var body map[string]any
			if ev.Topic == topic && json.Unmarshal(ev.Body, &body) == nil && body["type"] == typ {
				if k == n {
					i.mu.Unlock()
					return body
				}
				k++
			}
		}
		i.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s event #%d on %s", typ, n, topic)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (i *inbox) count(topic, typ string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	k := 0
	for _, ev := range i.evs {
		var body map[string]any
		if ev.Topic == topic && json.Unmarshal(ev.Body, &body) == nil && body["type"] == typ {
			k++
		}
	}
	return k
}

// switchSide records what the phones report for one call.
type switchSide struct {
	mu       sync.Mutex
	ringing  int
	answered int
	ended    []string
	pcm      []int16
}

func (s *switchSide) call(leg string) sip.BrowserCall {
	return sip.BrowserCall{Leg: leg, From: "+34600111222", CallerName: "Ana", Tags: map[string]string{"conversationId": "conv-1"},
		Ringing:  func() { s.mu.Lock(); s.ringing++; s.mu.Unlock() },
		Answered: func() { s.mu.Lock(); s.answered++; s.mu.Unlock() },
		Ended:    func(c string) { s.mu.Lock(); s.ended = append(s.ended, c); s.mu.Unlock() },
		FromBrowser: func(pkt []byte) {
			if len(pkt) > 12 && pkt[1]&0x7f == 0 {
				s.mu.Lock()
				s.pcm = append(s.pcm, audio.DecodePCMU(nil, pkt[12:])...)
				s.mu.Unlock()
			}
		},
	}
}

func (s *switchSide) get() (ringing, answered int, ended []string, samples int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ringing, s.answered, append([]string(nil), s.ended...), len(s.pcm)
}

type fixture struct {
	p     *Phones
	clk   *clock.Fake
	sess  *sessions
	inbox *inbox
	api   *webrtc.API
}

func newFixture(t *testing.T) *fixture {
	api, err := webrtc.NewAPI(webrtc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clk: clock.NewFake(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)), sess: &sessions{at: map[string]string{}}, inbox: &inbox{}, api: api}
	f.p, err = New(Options{API: api, Stations: stations{"web1": directory.StationWebRTC, "web2": directory.StationWebRTC, "1001": directory.StationSIP},
		Sessions: f.sess, Events: f.inbox, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	ana  = auth.Principal{UserID: "ana"}
	bob  = auth.Principal{UserID: "bob"}
	bg   = context.Background()
	anaT = Topic("ana")
)

func msg(t *testing.T, v map[string]any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kindOf(err error) problem.Kind {
	if ps := problem.All(err); len(ps) > 0 {
		return ps[0].Kind
	}
	return 0
}

func TestRegisterRules(t *testing.T) {
	f := newFixture(t)
	f.sess.set("ana", "web1")
	cases := []struct {
		name string
		pr   auth.Principal
		body string
		kind problem.Kind
		text string
	}{
		{"client token", auth.Principal{ClientID: "app"}, `{"type":"register","station":"web1"}`, problem.Forbidden, "agent's own page"},
		{"empty", ana, ``, problem.Invalid, "missing"},
		{"not json", ana, `nope`, problem.Invalid, "JSON object"},
		{"unknown field", ana, `{"type":"register","station":"web1","x":1}`, problem.Invalid, `unknown field "x"`},
		{"no type", ana, `{}`, problem.Invalid, "missing"},
		{"bad type", ana, `{"type":"dial"}`, problem.Invalid, `unknown phone message type "dial"`},
		{"no station", ana, `{"type":"register"}`, problem.Invalid, "name the station"},
		{"unknown station", ana, `{"type":"register","station":"nope"}`, problem.Invalid, `no station named "nope"`},
		{"sip station", ana, `{"type":"register","station":"1001"}`, problem.Conflict, "sip device"},
		{"not logged in there", ana, `{"type":"register","station":"web2"}`, problem.Conflict, "log into station web2 first"},
		{"someone else's", bob, `{"type":"register","station":"web1"}`, problem.Conflict, "log into station web1 first"},
		{"no call id", ana, `{"type":"answer","sdp":"v=0"}`, problem.Invalid, "callId"},
		{"unknown call", ana, `{"type":"answer","callId":"sip-9","sdp":"v=0"}`, problem.NotFound, "no call sip-9"},
	}
	for _, c := range cases {
		err := f.p.Handle(bg, c.pr, json.RawMessage(c.body))
		if kindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v (kind %d), want kind %d with %q", c.name, err, kindOf(err), c.kind, c.text)
		}
	}
	if f.p.Has("web1") {
		t.Fatal("registered after only bad messages")
	}
	if err := f.p.Handle(bg, ana, json.RawMessage(`{"type":"register","station":"web1"}`)); err != nil {
		t.Fatal(err)
	}
	if !f.p.Has("web1") || f.p.Has("web2") || f.p.Has("1001") {
		t.Fatal("Has after register")
	}
	// Expiry, renewal, logout, unregister.
	f.clk.Advance(DefaultRegistrationTTL - time.Second)
	f.p.Handle(bg, ana, json.RawMessage(`{"type":"register","station":"web1"}`))
	f.clk.Advance(DefaultRegistrationTTL - time.Second)
	if !f.p.Has("web1") {
		t.Error("a renewed registration expired")
	}
	f.clk.Advance(2 * time.Second)
	if f.p.Has("web1") {
		t.Error("registration did not expire")
	}
	f.p.Handle(bg, ana, json.RawMessage(`{"type":"register","station":"web1"}`))
	f.sess.set("ana", "")
	if f.p.Has("web1") {
		t.Error("registered after the agent logged out of the station")
	}
	f.sess.set("ana", "web1")
	f.p.Handle(bg, ana, json.RawMessage(`{"type":"register","station":"web1"}`))
	f.p.Handle(bg, ana, json.RawMessage(`{"type":"unregister"}`))
	if f.p.Has("web1") {
		t.Error("registered after unregister")
	}
	if _, err := f.p.Ring("web1", sip.BrowserCall{Leg: "sip-1"}); !errors.Is(err, sip.ErrNotBrowser) {
		t.Errorf("Ring to an unregistered station: %v", err)
	}
}

// The whole exchange with a Go endpoint standing in for the page.
func TestCallFlow(t *testing.T) {
	f := newFixture(t)
	f.sess.set("ana", "web1")
	f.sess.set("bob", "web2")
	for _, pr := range []auth.Principal{ana, bob} {
		st, _ := f.sess.StationOf(pr.UserID)
		if err := f.p.Handle(bg, pr, msg(t, map[string]any{"type": "register", "station": st})); err != nil {
			t.Fatal(err)
		}
	}
	sw := &switchSide{}
	leg, err := f.p.Ring("web1", sw.call("sip-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Hangup()
	offer := f.inbox.wait(t, anaT, "offer", 0)
	if offer["callId"] != "sip-1" || offer["from"] != "+34600111222" || offer["callerName"] != "Ana" || offer["conversationId"] != "conv-1" ||
		!strings.Contains(offer["sdp"].(string), "PCMU/8000") {
		t.Fatalf("offer %v", offer)
	}
	if n := f.inbox.count(Topic("bob"), "offer"); n != 0 {
		t.Fatalf("bob got %d offers for ana's call", n)
	}

	// A reload: registering again re-sends the ringing offer.
	f.p.Handle(bg, ana, msg(t, map[string]any{"type": "register", "station": "web1"}))
	if again := f.inbox.wait(t, anaT, "offer", 1); again["sdp"] != offer["sdp"] {
		t.Error("re-sent offer differs")
	}

	// Bob may not touch ana's call.
	for _, typ := range []string{"ringing", "answer", "reject", "hangup"} {
		if err := f.p.Handle(bg, bob, msg(t, map[string]any{"type": typ, "callId": "sip-1", "sdp": "x"})); kindOf(err) != problem.NotFound {
			t.Errorf("bob %s: %v", typ, err)
		}
	}
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "ringing", "callId": "sip-1"})); err != nil {
		t.Fatal(err)
	}
	if err := f.p.Answer("sip-1"); err != nil {
		t.Fatal(err)
	}
	f.inbox.wait(t, anaT, "pickup", 0)
	if err := f.p.Answer("sip-404"); !errors.Is(err, sip.ErrNotBrowser) {
		t.Errorf("Answer(unknown) = %v", err)
	}

	// The page answers.
	var heard []int16
	var hmu sync.Mutex
	page, err := f.api.NewEndpoint(webrtc.Options{OnRTP: func(pkt []byte) {
		if pkt[1]&0x7f == 0 {
			hmu.Lock()
			heard = append(heard, audio.DecodePCMU(nil, pkt[12:])...)
			hmu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "answer", "callId": "sip-1", "sdp": "v=0 garbage"})); kindOf(err) != problem.Invalid {
		t.Errorf("a bad answer: %v", err)
	}
	// The bad answer failed that call; ring another.
	if _, _, ended, _ := sw.get(); len(ended) != 1 || ended[0] != telephony.CauseFailed {
		t.Fatalf("after a bad answer: ended %v", ended)
	}
	f.inbox.wait(t, anaT, "hangup", 0)
	sw = &switchSide{}
	leg, err = f.p.Ring("web1", sw.call("sip-2"))
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Hangup()
	offer = f.inbox.wait(t, anaT, "offer", 2)
	answer, err := page.Answer(ctx, offer["sdp"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "answer", "callId": "sip-2", "sdp": answer})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "answered", func() bool { _, a, _, _ := sw.get(); return a == 1 })
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "answer", "callId": "sip-2", "sdp": answer})); kindOf(err) != problem.Conflict {
		t.Errorf("answering twice: %v", err)
	}
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "reject", "callId": "sip-2"})); kindOf(err) != problem.Conflict {
		t.Errorf("rejecting an answered call: %v", err)
	}

	// Media both ways.
	var p1, p2 float64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 30; i++ {
		leg.WriteRTP(pkt(uint16(1000+i), uint32(i*160), 0x51, audio.EncodePCMU(nil, audio.Tone(440, 8000, 160, &p1))))
		page.WriteRTP(pkt(uint16(1000+i), uint32(i*160), 0x52, audio.EncodePCMU(nil, audio.Tone(1000, 8000, 160, &p2))))
		<-tick.C
	}
	waitFor(t, "audio both ways", func() bool {
		hmu.Lock()
		n := len(heard)
		hmu.Unlock()
		_, _, _, m := sw.get()
		return n >= 3200 && m >= 3200
	})
	hmu.Lock()
	if got := audio.Dominant(heard, 440, 1000); got != 440 {
		t.Errorf("page heard %v Hz", got)
	}
	hmu.Unlock()
	sw.mu.Lock()
	if got := audio.Dominant(sw.pcm, 440, 1000); got != 1000 {
		t.Errorf("switch got %v Hz", got)
	}
	sw.mu.Unlock()

	// The page hangs up: Ended(normal), once.
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "hangup", "callId": "sip-2"})); err != nil {
		t.Fatal(err)
	}
	leg.Hangup() // the switch's echo of it: no event for the page
	if _, _, ended, _ := sw.get(); len(ended) != 1 || ended[0] != telephony.CauseNormal {
		t.Errorf("ended %v", ended)
	}
	time.Sleep(50 * time.Millisecond)
	if n := f.inbox.count(anaT, "hangup"); n != 1 {
		t.Errorf("%d hangup events, want only the failed call's", n)
	}
}

// The switch hanging up and the page declining.
func TestHangupAndReject(t *testing.T) {
	f := newFixture(t)
	f.sess.set("ana", "web1")
	f.p.Handle(bg, ana, msg(t, map[string]any{"type": "register", "station": "web1"}))
	sw := &switchSide{}
	leg, err := f.p.Ring("web1", sw.call("sip-1"))
	if err != nil {
		t.Fatal(err)
	}
	f.inbox.wait(t, anaT, "offer", 0)
	leg.Hangup()
	if ev := f.inbox.wait(t, anaT, "hangup", 0); ev["callId"] != "sip-1" {
		t.Errorf("hangup event %v", ev)
	}
	if _, _, ended, _ := sw.get(); len(ended) != 0 {
		t.Errorf("the switch's own hangup came back as Ended %v", ended)
	}
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "answer", "callId": "sip-1", "sdp": "v=0"})); kindOf(err) != problem.NotFound {
		t.Errorf("answering a call that ended: %v", err)
	}

	sw = &switchSide{}
	if _, err := f.p.Ring("web1", sw.call("sip-2")); err != nil {
		t.Fatal(err)
	}
	f.inbox.wait(t, anaT, "offer", 1)
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "reject", "callId": "sip-2"})); err != nil {
		t.Fatal(err)
	}
	if _, _, ended, _ := sw.get(); len(ended) != 1 || ended[0] != telephony.CauseRejected {
		t.Errorf("ended %v", ended)
	}
}

func pkt(seq uint16, ts, ssrc uint32, payload []byte) []byte {
	p := make([]byte, 12+len(payload))
	p[0], p[1] = 0x80, 0
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	copy(p[12:], payload)
	return p
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FuzzHandle: whatever a page sends, Handle answers with nil or a problem
// (never a panic, never an unclassified error), and a message that is not
// a valid register never registers.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"type":"register","station":"web1"}`, `{"type":"unregister"}`, `{"type":"ringing","callId":"sip-1"}`,
		`{"type":"answer","callId":"sip-1","sdp":"v=0\r\n"}`, `{"type":"reject","callId":"sip-1"}`, `{"type":"hangup","callId":"sip-1"}`,
		`{"type":"register","station":"1001"}`, `{}`, `[]`, `null`, `"register"`, `{"type":7}`, `{"type":"register","station":"web1"} {"x":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t)
		fx.sess.set("ana", "web2") // logged in elsewhere: registering web1 must fail
		err := fx.p.Handle(bg, ana, body)
		if err != nil && len(problem.All(err)) == 0 {
			t.Fatalf("Handle(%q) = unclassified error %v", body, err)
		}
		if fx.p.Has("web1") || fx.p.Has("1001") {
			t.Fatalf("Handle(%q) registered a station the agent is not logged into", body)
		}
	})
}

// answerAs plays a page answering the n-th offer on ana's topic; it
// returns the page's endpoint and what it hears.
func answerAs(t *testing.T, f *fixture, n int) (*webrtc.Endpoint, *pcmHeard) {
	t.Helper()
	offer := f.inbox.wait(t, anaT, "offer", n)
	h := &pcmHeard{}
	page, err := f.api.NewEndpoint(webrtc.Options{OnRTP: h.add})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { page.Close() })
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	answer, err := page.Answer(ctx, offer["sdp"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.p.Handle(bg, ana, msg(t, map[string]any{"type": "answer", "callId": offer["callId"], "sdp": answer})); err != nil {
		t.Fatal(err)
	}
	return page, h
}

type pcmHeard struct {
	mu sync.Mutex
	n  int
}

func (h *pcmHeard) add(pkt []byte) {
	if len(pkt) > 12 && pkt[1]&0x7f == 0 {
		h.mu.Lock()
		h.n++
		h.mu.Unlock()
	}
}

func (h *pcmHeard) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// A page reloaded mid-call registers "fresh": the call is offered again
// (resume, pickup), and the new page's endpoint takes the media over; the
// call never ends. A periodic register does not re-offer.
func TestResumeAfterReload(t *testing.T) {
	f := newFixture(t)
	f.sess.set("ana", "web1")
	f.p.Handle(bg, ana, msg(t, map[string]any{"type": "register", "station": "web1", "fresh": true}))
	sw := &switchSide{}
	leg, err := f.p.Ring("web1", sw.call("sip-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Hangup()
	page1, heard1 := answerAs(t, f, 0)
	waitFor(t, "answered", func() bool { _, a, _, _ := sw.get(); return a == 1 })
	seq := 0
	send := func(n int) {
		for i := 0; i < n; i++ {
			leg.WriteRTP(pkt(uint16(seq), uint32(seq*160), 0x51, make([]byte, 160)))
			seq++
			time.Sleep(5 * time.Millisecond)
		}
	}
	send(10)
	waitFor(t, "the first page hears", func() bool { return heard1.count() >= 5 })

	f.p.Handle(bg, ana, msg(t, map[string]any{"type": "register", "station": "web1"})) // the minute's renewal
	time.Sleep(100 * time.Millisecond)
	if n := f.inbox.count(anaT, "offer"); n != 1 {
		t.Fatalf("a renewal re-offered the call (%d offers)", n)
	}

	page1.Close() // the reload
	f.p.Handle(bg, ana, msg(t, map[string]any{"type": "register", "station": "web1", "fresh": true}))
	again := f.inbox.wait(t, anaT, "offer", 1)
	if again["callId"] != "sip-1" || again["pickup"] != true || again["resume"] != true {
		t.Fatalf("resume offer %v", again)
	}
	_, heard2 := answerAs(t, f, 1)
	waitFor(t, "the new page hears", func() bool {
		send(2)
		return heard2.count() >= 5
	})
	if _, answered, ended, _ := sw.get(); answered != 1 || len(ended) != 0 {
		t.Errorf("the switch saw answered=%d ended=%v across the reload", answered, ended)
	}
}
