// Package browserphone makes the softphone page an agent's phone when the
// SIP switch runs: it implements the switch's sip.BrowserPhones with one
// webrtc.Endpoint per call, signalled over the agent's notifications
// WebSocket.
//
// The page registers its station, like a SIP phone sends REGISTER: the
// message names the station the agent is logged into, which must be a
// "webrtc" station; the registration lasts RegistrationTTL and the page
// renews it every minute. A call to a registered station makes a server
// offer, delivered to the agent on the topic v2.users.{id}.phone; the page
// acknowledges it ("ringing": the switch reports Ringing), and when the
// agent answers (through the API: the switch's AnswerPhone sends "pickup")
// it sends its SDP answer; once ICE and DTLS connect, the switch reports
// Answered. Either side hangs up with a "hangup" message.
//
// Server → page (eventBody of v2.users.{id}.phone):
//
//	{"type":"offer","callId":"sip-7","sdp":"v=0…","from":"+34600111222","callerName":"…","station":"web1","conversationId":"…","pickup":false}
//	{"type":"pickup","callId":"sip-7"}           answer now (the agent answered through the API)
//	{"type":"hangup","callId":"sip-7","cause":"normal"}
//
// Page → server (client message {"message":"phone","correlationId":"…","body":{…}}):
//
//	{"type":"register","station":"web1"}      also re-sends the offers still ringing
//	{"type":"unregister"}
//	{"type":"ringing","callId":"sip-7"}
//	{"type":"answer","callId":"sip-7","sdp":"v=0…"}
//	{"type":"reject","callId":"sip-7"}
//	{"type":"hangup","callId":"sip-7"}
//
// Only the agent the call rings for may act on it; anything else gets an
// error reply naming what was wrong. DTMF travels in the media (RFC 4733,
// the page's RTCDTMFSender), not in messages.
package browserphone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/sip"
	"github.com/centralita/centralita/internal/telephony/webrtc"
)

// TopicTemplate is the notification topic of a user's browser phone.
const TopicTemplate = "v2.users.{id}.phone"

// Topic is TopicTemplate for user.
func Topic(user string) string { return "v2.users." + user + ".phone" }

// Message is the name of the page's client messages on the WebSocket.
const Message = "phone"

// DefaultRegistrationTTL is how long a page's registration lasts unless
// renewed.
const DefaultRegistrationTTL = 2 * time.Minute

// offerTimeout bounds making an offer (ICE gathering of host candidates).
const offerTimeout = 10 * time.Second

// Stations finds stations by name (the directory).
type Stations interface {
	GetStationByName(ctx context.Context, name string) (directory.Station, error)
}

// Sessions tells which station an agent is logged into.
type Sessions interface {
	StationOf(userID string) (string, bool)
}

// Publisher delivers an event to the notification sockets subscribed to
// its topic (notify.Hub.Deliver: straight to this node's sockets, neither
// stored nor replayed — an SDP offer is only worth anything now).
type Publisher interface {
	Deliver(ev bus.Event)
}

// Options configure Phones.
type Options struct {
	API             *webrtc.API // required
	Stations        Stations    // required
	Sessions        Sessions    // required
	Events          Publisher   // required
	Clock           clock.Clock
	Log             *slog.Logger
	RegistrationTTL time.Duration // default DefaultRegistrationTTL
}

// Phones is the registry of browser phones and their calls. One mutex
// guards the registrations and the calls; nothing blocks while holding it
// (events are delivered to non-blocking socket queues).
type Phones struct {
	opt Options
	log *slog.Logger

	mu    sync.Mutex
	regs  map[string]registration // by station name
	calls map[string]*call        // by leg id
}

type registration struct {
	user    string
	expires time.Time
}

var _ sip.BrowserPhones = (*Phones)(nil)

// New makes Phones.
func New(opt Options) (*Phones, error) {
	if opt.API == nil || opt.Stations == nil || opt.Sessions == nil || opt.Events == nil {
		return nil, errors.New("browserphone: API, Stations, Sessions and Events are required")
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.RegistrationTTL <= 0 {
		opt.RegistrationTTL = DefaultRegistrationTTL
	}
	return &Phones{opt: opt, log: opt.Log.With("component", "browserphone"),
		regs: map[string]registration{}, calls: map[string]*call{}}, nil
}

// callState is where a call is.
type callState int

const (
	ringing   callState = iota
	answering           // the page's answer is applied, media connecting
	answered
	ended
)

// call is one call offered to a page.
type call struct {
	p       *Phones
	leg     string
	station string
	user    string
	bc      sip.BrowserCall
	ep      atomic.Pointer[webrtc.Endpoint] // the media now

	// under p.mu
	state  callState
	offer  string // once made
	pickup bool   // the platform asked the page to answer
	gen    int    // generation of ep (each endpoint's callbacks carry theirs)
	// A page reloaded mid-call gets a new offer (resume): its endpoint
	// takes over from ep once connected.
	resuming      bool
	next          *webrtc.Endpoint
	nextGen       int
	nextOffer     string
	nextAnswering bool
}

// ------------------------------------------------ the switch's side --

// Has reports whether a page is registered for station, with its agent
// still logged into it.
func (p *Phones) Has(station string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.registeredLocked(station)
	return ok
}

func (p *Phones) registeredLocked(station string) (string, bool) {
	r, ok := p.regs[station]
	if !ok {
		return "", false
	}
	if !p.opt.Clock.Now().Before(r.expires) {
		delete(p.regs, station)
		return "", false
	}
	if st, ok := p.opt.Sessions.StationOf(r.user); !ok || st != station {
		delete(p.regs, station) // the agent logged out or moved
		return "", false
	}
	return r.user, true
}

// Ring offers bc to the page registered for station. The endpoint and its
// offer are made in the background.
func (p *Phones) Ring(station string, bc sip.BrowserCall) (sip.BrowserLeg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	user, ok := p.registeredLocked(station)
	if !ok {
		return nil, fmt.Errorf("%w: station %s has no registered page", sip.ErrNotBrowser, station)
	}
	if _, dup := p.calls[bc.Leg]; dup {
		return nil, fmt.Errorf("browserphone: leg %s already rings", bc.Leg)
	}
	c := &call{p: p, leg: bc.Leg, station: station, user: user, bc: bc}
	p.calls[c.leg] = c
	go c.start()
	return c, nil
}

// newEndpoint makes an endpoint of generation gen.
func (c *call) newEndpoint(gen int) (*webrtc.Endpoint, error) {
	return c.p.opt.API.NewEndpoint(webrtc.Options{OnRTP: c.bc.FromBrowser, OnState: func(s webrtc.State) { c.onState(gen, s) }})
}

// start makes the endpoint and the offer, then tells the page.
func (c *call) start() {
	ep, err := c.newEndpoint(0)
	if err != nil {
		c.p.log.Error("browser phone: no endpoint", "leg", c.leg, "err", err)
		c.fail(telephony.CauseFailed)
		return
	}
	c.ep.Store(ep)
	ctx, cancel := context.WithTimeout(context.Background(), offerTimeout)
	sdp, err := ep.Offer(ctx)
	cancel()
	if err != nil {
		c.p.log.Error("browser phone: no offer", "leg", c.leg, "err", err)
		c.fail(telephony.CauseFailed)
		return
	}
	c.p.mu.Lock()
	if c.state == ended {
		c.p.mu.Unlock()
		go ep.Close()
		return
	}
	c.offer = sdp
	ev := c.offerEventLocked()
	c.p.mu.Unlock()
	c.p.deliver(c.user, ev)
}

func (c *call) offerEventLocked() map[string]any {
	return map[string]any{"type": "offer", "callId": c.leg, "sdp": c.offer, "from": c.bc.From,
		"callerName": c.bc.CallerName, "station": c.station, "conversationId": c.bc.Tags["conversationId"], "pickup": c.pickup}
}

// resume offers an answered call again to a page that reloaded: a new
// endpoint, answered at once (pickup), that takes over the media when it
// connects. The old one keeps the call until then.
func (c *call) resume() {
	c.p.mu.Lock()
	if c.state != answered || c.resuming {
		c.p.mu.Unlock()
		return
	}
	c.resuming = true
	gen := c.gen + 1
	c.p.mu.Unlock()
	ep, err := c.newEndpoint(gen)
	var sdp string
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), offerTimeout)
		sdp, err = ep.Offer(ctx)
		cancel()
	}
	c.p.mu.Lock()
	if err != nil || c.state != answered {
		c.resuming = false
		c.p.mu.Unlock()
		if ep != nil {
			go ep.Close()
		}
		if err != nil {
			c.p.log.Warn("browser phone: no offer to resume the call", "leg", c.leg, "err", err)
		}
		return
	}
	if c.next != nil {
		go c.next.Close()
	}
	c.next, c.nextGen, c.nextOffer, c.nextAnswering = ep, gen, sdp, false
	ev := c.offerEventLocked()
	ev["sdp"], ev["pickup"], ev["resume"] = sdp, true, true
	c.resuming = false
	c.p.mu.Unlock()
	c.p.deliver(c.user, ev)
}

// onState follows the connection of the endpoint of generation gen.
func (c *call) onState(gen int, s webrtc.State) {
	switch s {
	case webrtc.StateConnected:
		c.p.mu.Lock()
		if gen == c.gen && c.state == answering {
			c.state = answered
			c.p.mu.Unlock()
			c.bc.Answered()
			return
		}
		if c.next != nil && gen == c.nextGen && c.state == answered { // a resumed page took over
			old := c.ep.Swap(c.next)
			c.gen, c.next = gen, nil
			c.p.mu.Unlock()
			c.p.log.Info("browser phone: call resumed on a reloaded page", "leg", c.leg, "station", c.station)
			if old != nil {
				go old.Close()
			}
			return
		}
		c.p.mu.Unlock()
	case webrtc.StateFailed:
		c.p.mu.Lock()
		if c.next != nil && gen == c.nextGen { // the resume failed; the call stays as it was
			next := c.next
			c.next = nil
			c.p.mu.Unlock()
			go next.Close()
			return
		}
		current := gen == c.gen
		c.p.mu.Unlock()
		if current {
			c.p.log.Warn("browser phone: media failed", "leg", c.leg, "station", c.station)
			c.fail(telephony.CauseFailed)
		}
	}
}

// fail ends the call from our side: the page hears of it, the switch gets
// Ended with cause.
func (c *call) fail(cause string) {
	if c.finish(cause, true) {
		c.bc.Ended(cause)
	}
}

// finish marks the call ended, tells the page when tell is set, and closes
// the endpoint. It reports whether this call did it.
func (c *call) finish(cause string, tell bool) bool {
	c.p.mu.Lock()
	if c.state == ended {
		c.p.mu.Unlock()
		return false
	}
	c.state = ended
	if c.p.calls[c.leg] == c {
		delete(c.p.calls, c.leg)
	}
	next := c.next
	c.next = nil
	c.p.mu.Unlock()
	if tell {
		c.p.deliver(c.user, map[string]any{"type": "hangup", "callId": c.leg, "cause": cause})
	}
	for _, ep := range []*webrtc.Endpoint{c.ep.Load(), next} {
		if ep != nil {
			go ep.Close()
		}
	}
	return true
}

// WriteRTP sends a packet to the browser (dropped until its media is up).
func (c *call) WriteRTP(pkt []byte) error {
	if ep := c.ep.Load(); ep != nil {
		return ep.WriteRTP(pkt)
	}
	return nil
}

// Hangup: the switch ended the leg; the page is told.
func (c *call) Hangup() { c.finish(telephony.CauseNormal, true) }

// Answer asks the page ringing for leg to answer.
func (p *Phones) Answer(leg string) error {
	p.mu.Lock()
	c := p.calls[leg]
	if c == nil {
		p.mu.Unlock()
		return sip.ErrNotBrowser
	}
	if c.state != ringing || c.pickup {
		p.mu.Unlock()
		return nil
	}
	c.pickup = true
	user, ready := c.user, c.offer != ""
	p.mu.Unlock()
	if ready { // otherwise the offer carries pickup:true
		p.deliver(user, map[string]any{"type": "pickup", "callId": leg})
	}
	return nil
}

func (p *Phones) deliver(user string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		p.log.Error("browser phone: event not encodable", "err", err)
		return
	}
	p.opt.Events.Deliver(bus.Event{ID: uuid.NewString(), Topic: Topic(user), Time: p.opt.Clock.Now().UTC().Truncate(time.Millisecond),
		Version: "2", Body: b})
}

// ------------------------------------------------ the page's side --

// Request is a message from the page (the "body" of a "phone" client
// message).
type Request struct {
	Type    string `json:"type"`
	Station string `json:"station,omitempty"`
	CallID  string `json:"callId,omitempty"`
	SDP     string `json:"sdp,omitempty"`
	// Fresh marks a page's first register since it loaded: its answered
	// calls are offered again (the reload dropped their media).
	Fresh bool `json:"fresh,omitempty"`
}

// Handle serves one message from principal pr's page; it is a
// notify.ClientHandler.
func (p *Phones) Handle(ctx context.Context, pr auth.Principal, body json.RawMessage) error {
	if !pr.IsUser() {
		return problem.Forbiddenf("browser phone messages come from an agent's own page (a person's token), not from a client application")
	}
	var r Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if len(bytes.TrimSpace(body)) == 0 {
		return problem.Invalidf("body", `missing: a phone message carries a body such as {"type":"register","station":"1001"}`)
	}
	if err := dec.Decode(&r); err != nil {
		return problem.Invalidf("body", `a phone message body is a JSON object such as {"type":"register","station":"1001"}: %v`, err)
	}
	switch r.Type {
	case "register":
		return p.register(ctx, pr.UserID, r.Station, r.Fresh)
	case "unregister":
		p.unregister(pr.UserID)
		return nil
	case "ringing", "answer", "reject", "hangup":
		return p.callMessage(pr.UserID, r)
	case "":
		return problem.Invalidf("type", "missing: one of register, unregister, ringing, answer, reject, hangup")
	}
	return problem.Invalidf("type", "unknown phone message type %q: expected register, unregister, ringing, answer, reject or hangup", r.Type)
}

func (p *Phones) register(ctx context.Context, user, station string, fresh bool) error {
	station = strings.TrimSpace(station)
	if station == "" {
		return problem.Invalidf("station", "name the station (device) this page is the phone of")
	}
	st, err := p.opt.Stations.GetStationByName(ctx, station)
	if err != nil {
		if len(problem.All(err)) > 0 {
			return problem.Invalidf("station", "there is no station named %q", station)
		}
		return err
	}
	if st.Type != directory.StationWebRTC {
		return problem.Coded(problem.Conflict, "station.not.webrtc", "station", "station %s is a %s device, not a browser phone (type webrtc)", st.Name, st.Type)
	}
	if cur, ok := p.opt.Sessions.StationOf(user); !ok || cur != st.Name {
		return problem.Coded(problem.Conflict, "station.not.logged.in", "station", "log into station %s first: a page is the phone of its agent's own station", st.Name)
	}
	p.mu.Lock()
	for name, r := range p.regs {
		if r.user == user && name != st.Name {
			delete(p.regs, name)
		}
	}
	p.regs[st.Name] = registration{user: user, expires: p.opt.Clock.Now().Add(p.opt.RegistrationTTL)}
	// A reloaded page gets the calls still ringing for it, and its calls
	// in progress back.
	var again []map[string]any
	var resume []*call
	for _, c := range p.calls {
		switch {
		case c.user != user:
		case c.state == ringing && c.offer != "":
			again = append(again, c.offerEventLocked())
		case c.state == answered && fresh:
			resume = append(resume, c)
		}
	}
	p.mu.Unlock()
	for _, ev := range again {
		p.deliver(user, ev)
	}
	for _, c := range resume {
		go c.resume()
	}
	return nil
}

func (p *Phones) unregister(user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, r := range p.regs {
		if r.user == user {
			delete(p.regs, name)
		}
	}
}

func (p *Phones) callMessage(user string, r Request) error {
	if r.CallID == "" {
		return problem.Invalidf("callId", "missing: the callId of the offer")
	}
	p.mu.Lock()
	c := p.calls[r.CallID]
	if c == nil || c.user != user {
		p.mu.Unlock()
		return problem.NotFoundf("no call %s rings for you (it ended, or it is someone else's)", r.CallID)
	}
	state := c.state
	switch r.Type {
	case "ringing":
		p.mu.Unlock()
		if state == ringing {
			c.bc.Ringing()
		}
		return nil
	case "answer":
		if state == answered && c.next != nil && !c.nextAnswering { // the answer to a resume offer
			c.nextAnswering = true
			next := c.next
			p.mu.Unlock()
			if err := next.Accept(r.SDP); err != nil {
				p.mu.Lock()
				if c.next == next {
					c.next = nil
				}
				p.mu.Unlock()
				go next.Close()
				return problem.Invalidf("sdp", "%v", err)
			}
			return nil
		}
		if state != ringing {
			p.mu.Unlock()
			return problem.Coded(problem.Conflict, "call.answered", "callId", "call %s is already answered", r.CallID)
		}
		ep := c.ep.Load()
		if ep == nil || c.offer == "" {
			p.mu.Unlock()
			return problem.Coded(problem.Conflict, "call.no.offer", "callId", "call %s has no offer yet: answer the offer event", r.CallID)
		}
		c.state = answering
		p.mu.Unlock()
		if err := ep.Accept(r.SDP); err != nil {
			c.fail(telephony.CauseFailed)
			return problem.Invalidf("sdp", "%v", err)
		}
		return nil
	case "reject":
		p.mu.Unlock()
		if state != ringing {
			return problem.Coded(problem.Conflict, "call.answered", "callId", "call %s is answered: hang it up instead", r.CallID)
		}
		if c.finish(telephony.CauseRejected, false) {
			c.bc.Ended(telephony.CauseRejected)
		}
		return nil
	default: // hangup
		p.mu.Unlock()
		cause := telephony.CauseNormal
		if state == ringing {
			cause = telephony.CauseRejected
		}
		if c.finish(cause, false) {
			c.bc.Ended(cause)
		}
		return nil
	}
}
