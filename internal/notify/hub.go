// Package notify delivers live notifications over WebSockets, shaped like
// the Genesys Cloud notification service: a caller creates a channel, picks
// topics for it and opens one WebSocket to it; events published on the bus
// under those topic names are pushed to the socket as they happen. Delivery
// is lossy by design: nothing is queued for a closed socket and nothing is
// replayed; clients fill gaps with REST calls.
//
// Concurrency: Hub.mu guards every channel, the owner and topic indexes and
// each channel's socket pointer; nothing blocks or does I/O while holding
// it (sending to a socket is a non-blocking push onto its bounded queue).
// The topic registry has its own lock, never held together with Hub.mu.
// Each open socket owns two goroutines: the HTTP handler's, which reads
// client messages, and a writer, the only one that writes to the
// connection. Bus messages arrive on the NATS subscription's goroutine.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
)

// Limits of the platform (§8.4 of the platform API reference).
const (
	// ChannelLifetime: a channel expires this long after it was created or
	// its subscriptions were last set (resubscribing keeps it alive).
	ChannelLifetime = 24 * time.Hour
	// MaxChannelsPerOwner: creating one more evicts the least recently used.
	MaxChannelsPerOwner = 20
	// MaxTopicsPerChannel: more is a 400.
	MaxTopicsPerChannel = 1000
	// HeartbeatInterval between heartbeats on every open socket.
	HeartbeatInterval = 30 * time.Second
	// DefaultQueueSize is the per-socket send queue; a full queue drops.
	DefaultQueueSize = 256
	// Subject is the core NATS subject the hub listens on.
	Subject = "events.v2.>"
)

// Topic states in subscription answers.
const (
	StatePermitted = "Permitted"
	StateRejected  = "Rejected"
)

// Options configure a Hub.
type Options struct {
	// Conn is the bus connection; nil means no bus (tests deliver by hand).
	Conn  *nats.Conn
	Clock clock.Clock
	Log   *slog.Logger
	// Registerer, when set, receives the hub's metrics.
	Registerer prometheus.Registerer
	// QueueSize per socket; 0 means DefaultQueueSize.
	QueueSize int
	// Participants answers the participant rule; nil means supervisors only.
	Participants ParticipantChecker
}

// Hub owns the channels, their subscriptions and their sockets.
type Hub struct {
	conn      *nats.Conn
	clock     clock.Clock
	log       *slog.Logger
	queueSize int
	topics    registry

	mu           sync.Mutex
	channels     map[string]*channel          // by id
	owners       map[string]map[*channel]bool // owner → channels
	index        map[string]map[*channel]bool // topic name → subscribed channels
	participants ParticipantChecker
	handlers     map[string]ClientHandler // client messages beyond ping/subscribe (socket.go)
	nextID       uint64
	useSeq       uint64 // orders uses exactly, whatever the clock says
	recent       map[string]bool
	recentRing   []string
	recentPos    int
	sub          *nats.Subscription
	beat         clock.Timer
	started      bool
	closed       bool
	sockets      sync.WaitGroup // one per attached socket handler
	closing      chan struct{}  // closed when Close begins
	closeDone    chan struct{}  // closed when Close has finished

	delivered, dropped atomic.Uint64
	mDelivered         prometheus.Counter
	mDropped           prometheus.Counter
}

type channel struct {
	id        string
	n         uint64 // creation order
	owner     string // user id, or the client id for client-credentials tokens
	clientID  string
	tokenKey  string // session family (stable across refreshes), else token hash
	principal auth.Principal
	created   time.Time
	expires   time.Time
	lastUsed  time.Time
	used      uint64
	topics    []string // in subscription order
	sock      *socket
	timer     clock.Timer
}

// Channel describes a channel.
type Channel struct {
	ID        string
	Owner     string
	ClientID  string
	Created   time.Time
	Expires   time.Time
	LastUsed  time.Time
	Connected bool
}

// TopicState is one topic of a subscription answer.
type TopicState struct {
	ID                 string
	State              string // StatePermitted or StateRejected
	RejectionReason    string
	MissingPermissions []string
}

// Scope selects the channels Channels lists.
type Scope int

const (
	// ScopeToken: channels created in the caller's session (token family).
	ScopeToken Scope = iota
	// ScopeClient: the owner's channels created through the caller's OAuth client.
	ScopeClient
)

// New builds a hub with the default topics. Call Start to listen on the bus
// and beat, Close to stop.
func New(o Options) *Hub {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	h := &Hub{
		conn: o.Conn, clock: o.Clock, log: o.Log, queueSize: o.QueueSize, participants: o.Participants,
		channels: map[string]*channel{}, owners: map[string]map[*channel]bool{}, index: map[string]map[*channel]bool{},
		recent: map[string]bool{}, recentRing: make([]string, 1024),
		closing: make(chan struct{}), closeDone: make(chan struct{}),
		mDelivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "centralita_notifications_delivered_total",
			Help: "Notification messages queued to WebSockets."}),
		mDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "centralita_notifications_dropped_total",
			Help: "Notification messages dropped because a WebSocket's send queue was full (slow client)."}),
	}
	h.topics.register(DefaultTopics...)
	if o.Registerer != nil {
		o.Registerer.MustRegister(h.mDelivered, h.mDropped,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centralita_notification_channels", Help: "Notification channels."},
				func() float64 { return float64(h.Stats().Channels) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centralita_notification_sockets", Help: "Open notification WebSockets."},
				func() float64 { return float64(h.Stats().Sockets) }))
	}
	return h
}

// Register adds topics to the registry, or replaces those with the same
// template. It panics on a malformed template or an unknown rule, like
// http.HandleFunc on a bad pattern: registration is wiring, done at start.
func (h *Hub) Register(ts ...Topic) { h.topics.register(ts...) }

// Topics lists the registry, sorted by template.
func (h *Hub) Topics() []Topic { return h.topics.list() }

// SetParticipantChecker sets (or clears, with nil) the participant rule's
// oracle; the conversation layer calls it once built.
func (h *Hub) SetParticipantChecker(pc ParticipantChecker) {
	h.mu.Lock()
	h.participants = pc
	h.mu.Unlock()
}

// Stats are counters for tests and metrics.
type Stats struct {
	Channels, Sockets  int
	Delivered, Dropped uint64
}

// Stats reports the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	st := Stats{Channels: len(h.channels)}
	for _, ch := range h.channels {
		if ch.sock != nil {
			st.Sockets++
		}
	}
	h.mu.Unlock()
	st.Delivered, st.Dropped = h.delivered.Load(), h.dropped.Load()
	return st
}

// Start subscribes to the bus and starts the heartbeat. The hub closes
// itself when ctx ends; Close may also be called directly.
func (h *Hub) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.started || h.closed {
		h.mu.Unlock()
		return errors.New("notify: hub already started or closed")
	}
	h.started = true
	h.beat = h.clock.AfterFunc(HeartbeatInterval, h.heartbeat)
	h.mu.Unlock()
	if h.conn != nil {
		sub, err := h.conn.Subscribe(Subject, h.onMessage)
		if err != nil {
			h.Close()
			return fmt.Errorf("notify: subscribe %s: %w", Subject, err)
		}
		// Make sure the server has the subscription before Start returns,
		// so events published afterwards reach it.
		if err := h.conn.FlushTimeout(10 * time.Second); err != nil {
			sub.Unsubscribe()
			h.Close()
			return fmt.Errorf("notify: subscribe %s: %w", Subject, err)
		}
		h.mu.Lock()
		h.sub = sub
		h.mu.Unlock()
	}
	go func() {
		select {
		case <-ctx.Done():
			h.Close()
		case <-h.closing:
		}
	}()
	return nil
}

// Close tells every open socket the server is going away (an event on
// v2.system.socket_closing), closes them, stops listening and waits until
// every socket is gone. It is idempotent; later calls wait for the first.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.closeDone
		return
	}
	h.closed = true
	close(h.closing)
	if h.beat != nil {
		h.beat.Stop()
	}
	sub := h.sub
	h.sub = nil
	var socks []*socket
	for _, ch := range h.channels {
		if ch.timer != nil {
			ch.timer.Stop()
		}
		if ch.sock != nil {
			socks = append(socks, ch.sock)
		}
	}
	h.mu.Unlock()
	if sub != nil {
		sub.Unsubscribe()
	}
	for _, s := range socks {
		s.stop(closeGoingAway, "server shutting down", closingMessage(s.channelID))
	}
	h.sockets.Wait()
	close(h.closeDone)
}

// OwnerOf is the principal that owns the channels p creates: the person,
// or the OAuth client when the token acts for no person.
func OwnerOf(p auth.Principal) string {
	if p.IsUser() {
		return p.UserID
	}
	return p.ClientID
}

func tokenKey(p auth.Principal) string {
	if p.Family != "" {
		return p.Family
	}
	return p.TokenHash
}

// CreateChannel makes a channel for p. When p's owner already has
// MaxChannelsPerOwner, the least recently used one goes, preferring one
// with no open socket.
func (h *Hub) CreateChannel(p auth.Principal) (Channel, error) {
	owner := OwnerOf(p)
	if owner == "" {
		return Channel{}, problem.Invalidf("", "the caller has neither a user nor a client id")
	}
	random, err := randomID()
	if err != nil {
		return Channel{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.Now()
	for ch := range h.owners[owner] {
		if !now.Before(ch.expires) {
			h.removeLocked(ch, closeNormal, ReasonExpired)
		}
	}
	for len(h.owners[owner]) >= MaxChannelsPerOwner {
		victim := h.evictionVictimLocked(owner)
		h.log.Debug("notification channel evicted", "channel", victim.id, "owner", owner)
		h.removeLocked(victim, closeNormal, ReasonEvicted)
	}
	h.nextID++
	ch := &channel{
		id: fmt.Sprintf("streaming-%d-%s", h.nextID, random), n: h.nextID, owner: owner, clientID: p.ClientID, tokenKey: tokenKey(p),
		principal: p, created: now, expires: now.Add(ChannelLifetime),
	}
	h.touchLocked(ch, now)
	h.channels[ch.id] = ch
	if h.owners[owner] == nil {
		h.owners[owner] = map[*channel]bool{}
	}
	h.owners[owner][ch] = true
	h.armExpiryLocked(ch, now)
	h.log.Debug("notification channel created", "channel", ch.id, "owner", owner)
	return ch.view(), nil
}

// evictionVictimLocked picks the least recently used channel of owner,
// among those without a socket when there are any.
func (h *Hub) evictionVictimLocked(owner string) *channel {
	var best *channel
	for ch := range h.owners[owner] {
		switch {
		case best == nil:
			best = ch
		case (ch.sock == nil) != (best.sock == nil):
			if ch.sock == nil {
				best = ch
			}
		case ch.used < best.used:
			best = ch
		}
	}
	return best
}

func randomID() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

func (h *Hub) touchLocked(ch *channel, now time.Time) {
	h.useSeq++
	ch.used = h.useSeq
	ch.lastUsed = now
}

// armExpiryLocked sets the channel's timer for its expiry; when it fires
// early (the channel was renewed meanwhile) it sets itself again.
func (h *Hub) armExpiryLocked(ch *channel, now time.Time) {
	if ch.timer != nil {
		return
	}
	ch.timer = h.clock.AfterFunc(ch.expires.Sub(now), func() { h.expiryDue(ch) })
}

func (h *Hub) expiryDue(ch *channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch.timer = nil
	if h.closed || h.channels[ch.id] != ch {
		return
	}
	now := h.clock.Now()
	if now.Before(ch.expires) {
		h.armExpiryLocked(ch, now)
		return
	}
	h.log.Debug("notification channel expired", "channel", ch.id, "owner", ch.owner)
	h.removeLocked(ch, closeNormal, ReasonExpired)
}

// removeLocked forgets a channel and closes its socket with the reason.
func (h *Hub) removeLocked(ch *channel, code closeCode, reason string) {
	delete(h.channels, ch.id)
	if os := h.owners[ch.owner]; os != nil {
		delete(os, ch)
		if len(os) == 0 {
			delete(h.owners, ch.owner)
		}
	}
	h.setTopicsLocked(ch, nil)
	if ch.timer != nil {
		ch.timer.Stop()
		ch.timer = nil
	}
	if ch.sock != nil {
		ch.sock.stop(code, reason, nil)
		ch.sock = nil
	}
}

// setTopicsLocked replaces the channel's topics and keeps the index right.
func (h *Hub) setTopicsLocked(ch *channel, topics []string) {
	for _, t := range ch.topics {
		if set := h.index[t]; set != nil {
			delete(set, ch)
			if len(set) == 0 {
				delete(h.index, t)
			}
		}
	}
	ch.topics = topics
	for _, t := range topics {
		if h.index[t] == nil {
			h.index[t] = map[*channel]bool{}
		}
		h.index[t][ch] = true
	}
}

func (ch *channel) view() Channel {
	return Channel{ID: ch.id, Owner: ch.owner, ClientID: ch.clientID, Created: ch.created, Expires: ch.expires,
		LastUsed: ch.lastUsed, Connected: ch.sock != nil}
}

// liveLocked returns the channel if it exists and has not expired
// (removing it when it has).
func (h *Hub) liveLocked(id string) *channel {
	ch := h.channels[id]
	if ch == nil {
		return nil
	}
	if !h.clock.Now().Before(ch.expires) {
		h.removeLocked(ch, closeNormal, ReasonExpired)
		return nil
	}
	return ch
}

// ownedLocked returns p's live channel id, or a NotFound problem: other
// callers' channels do not exist for p.
func (h *Hub) ownedLocked(p auth.Principal, id string) (*channel, error) {
	ch := h.liveLocked(id)
	if ch == nil || ch.owner != OwnerOf(p) {
		return nil, problem.NotFoundf("no notification channel %s: it expired, was evicted or is not yours", id)
	}
	return ch, nil
}

// Channels lists p's channels in the scope, oldest first.
func (h *Hub) Channels(p auth.Principal, scope Scope) []Channel {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.Now()
	var chs []*channel
	for ch := range h.owners[OwnerOf(p)] {
		if !now.Before(ch.expires) {
			continue
		}
		if scope == ScopeClient && ch.clientID != p.ClientID || scope == ScopeToken && ch.tokenKey != tokenKey(p) {
			continue
		}
		chs = append(chs, ch)
	}
	sort.Slice(chs, func(i, j int) bool { return chs[i].n < chs[j].n })
	out := make([]Channel, len(chs))
	for i, ch := range chs {
		out[i] = ch.view()
	}
	return out
}

// Channel returns p's channel id (NotFound when it is not p's or is gone).
// It counts as a use.
func (h *Hub) Channel(p auth.Principal, id string) (Channel, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, err := h.ownedLocked(p, id)
	if err != nil {
		return Channel{}, err
	}
	h.touchLocked(ch, h.clock.Now())
	return ch.view(), nil
}

// Subscriptions lists the topics of p's channel id.
func (h *Hub) Subscriptions(p auth.Principal, id string) ([]TopicState, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, err := h.ownedLocked(p, id)
	if err != nil {
		return nil, err
	}
	ch.principal = p
	h.touchLocked(ch, h.clock.Now())
	return permitted(ch.topics), nil
}

func permitted(topics []string) []TopicState {
	out := make([]TopicState, len(topics))
	for i, t := range topics {
		out[i] = TopicState{ID: t, State: StatePermitted}
	}
	return out
}

// DeleteSubscriptions removes every topic of p's channel id.
func (h *Hub) DeleteSubscriptions(p auth.Principal, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, err := h.ownedLocked(p, id)
	if err != nil {
		return err
	}
	ch.principal = p
	h.touchLocked(ch, h.clock.Now())
	h.setTopicsLocked(ch, nil)
	return nil
}

// Mode says how Subscribe treats the channel's current topics.
type Mode int

const (
	Add     Mode = iota // add to the current topics (POST)
	Replace             // replace them (PUT)
)

// maxProblems bounds how many rejected topics an error lists.
const maxProblems = 20

// Subscribe adds (or replaces) topics of p's channel id. names may hold
// combined topics. Unknown or malformed topics are an Invalid problem and
// topics p may not have a Forbidden one, unless ignoreErrors: then they
// are answered as Rejected and the rest applies. More than
// MaxTopicsPerChannel topics on the channel is Invalid whatever
// ignoreErrors says. Setting topics renews the channel's lifetime. The
// answer lists the channel's topics followed by the rejected ones.
func (h *Hub) Subscribe(ctx context.Context, p auth.Principal, id string, names []string, mode Mode, ignoreErrors bool) ([]TopicState, error) {
	h.mu.Lock()
	ch, err := h.ownedLocked(p, id)
	if err == nil {
		ch.principal = p
		h.touchLocked(ch, h.clock.Now())
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return h.subscribe(ctx, p, id, names, mode, ignoreErrors)
}

func (h *Hub) subscribe(ctx context.Context, p auth.Principal, id string, names []string, mode Mode, ignoreErrors bool) ([]TopicState, error) {
	expanded, bad := ExpandTopics(names)
	if len(expanded) > MaxTopicsPerChannel {
		return nil, problem.Invalidf("", "a channel holds at most %d topics; the request names %d", MaxTopicsPerChannel, len(expanded))
	}
	h.mu.Lock()
	pc := h.participants
	h.mu.Unlock()

	var accepted []string
	var rejected []TopicState
	var invalid, forbidden []error
	for _, n := range names {
		if reason, ok := bad[n]; ok {
			rejected = append(rejected, TopicState{ID: n, State: StateRejected, RejectionReason: reason})
			invalid = append(invalid, problem.Invalidf("", "topic %s: %s", n, reason))
		}
	}
	for _, n := range expanded {
		t, pid, ok := h.topics.match(n)
		if !ok {
			reason := "unknown topic: see GET /api/v2/notifications/availabletopics"
			rejected = append(rejected, TopicState{ID: n, State: StateRejected, RejectionReason: reason})
			invalid = append(invalid, problem.Invalidf("", "topic %s: %s", n, reason))
			continue
		}
		ok, err := allowed(ctx, t, pid, p, pc)
		if err != nil {
			return nil, fmt.Errorf("checking topic %s: %w", n, err)
		}
		if !ok {
			reason := "only " + t.Rule.String() + " may subscribe to this topic"
			rejected = append(rejected, TopicState{ID: n, State: StateRejected, RejectionReason: reason, MissingPermissions: missing(t.Rule)})
			forbidden = append(forbidden, problem.Forbiddenf("not allowed to subscribe to %s: %s", n, reason))
			continue
		}
		accepted = append(accepted, n)
	}
	if !ignoreErrors {
		if len(invalid) > 0 {
			return nil, joinCapped(invalid, problem.Invalid)
		}
		if len(forbidden) > 0 {
			return nil, joinCapped(forbidden, problem.Forbidden)
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	ch, err := h.ownedLocked(p, id)
	if err != nil {
		return nil, err
	}
	var next []string
	if mode == Add {
		next = append(next, ch.topics...)
		have := make(map[string]bool, len(ch.topics))
		for _, t := range ch.topics {
			have[t] = true
		}
		for _, t := range accepted {
			if !have[t] {
				next = append(next, t)
				have[t] = true
			}
		}
	} else {
		next = accepted
	}
	if len(next) > MaxTopicsPerChannel {
		return nil, problem.Invalidf("", "a channel holds at most %d topics; this would make %d", MaxTopicsPerChannel, len(next))
	}
	h.setTopicsLocked(ch, next)
	now := h.clock.Now()
	ch.expires = now.Add(ChannelLifetime)
	h.touchLocked(ch, now)
	return append(permitted(next), rejected...), nil
}

func missing(r Rule) []string {
	if r == Anyone {
		return nil
	}
	return []string{string(auth.Supervisor)}
}

func joinCapped(errs []error, kind problem.Kind) error {
	if len(errs) > maxProblems {
		n := len(errs) - maxProblems
		errs = append(errs[:maxProblems:maxProblems], &problem.Problem{Kind: kind, Message: fmt.Sprintf("and %d more", n)})
	}
	return errors.Join(errs...)
}

// unsubscribe removes topics (combined ones expanded) from channel id.
func (h *Hub) unsubscribe(id string, names []string) error {
	expanded, bad := ExpandTopics(names)
	for n, reason := range bad {
		return problem.Invalidf("", "topic %s: %s", n, reason)
	}
	drop := map[string]bool{}
	for _, n := range expanded {
		drop[n] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.liveLocked(id)
	if ch == nil {
		return problem.NotFoundf("no notification channel %s", id)
	}
	var next []string
	for _, t := range ch.topics {
		if !drop[t] {
			next = append(next, t)
		}
	}
	h.setTopicsLocked(ch, next)
	h.touchLocked(ch, h.clock.Now())
	return nil
}

// heartbeat queues a heartbeat on every open socket, then sets itself again.
func (h *Hub) heartbeat() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	socks := h.socketsLocked()
	h.beat = h.clock.AfterFunc(HeartbeatInterval, h.heartbeat)
	h.mu.Unlock()
	for _, s := range socks {
		h.push(s, heartbeatMessage)
	}
}

func (h *Hub) socketsLocked() []*socket {
	var out []*socket
	for _, ch := range h.channels {
		if ch.sock != nil {
			out = append(out, ch.sock)
		}
	}
	return out
}

// push queues msg on s without blocking, counting what a full queue drops.
func (h *Hub) push(s *socket, msg []byte) {
	switch s.send(msg) {
	case sent:
		h.delivered.Add(1)
		h.mDelivered.Inc()
	case full:
		h.dropped.Add(1)
		h.mDropped.Inc()
	}
}

// envelope is what a socket receives for an event.
type envelope struct {
	TopicName string          `json:"topicName"`
	Version   string          `json:"version"`
	EventBody json.RawMessage `json:"eventBody"`
	Metadata  metadata        `json:"metadata"`
}

type metadata struct {
	CorrelationID string `json:"CorrelationId"`
}

func (h *Hub) onMessage(m *nats.Msg) {
	var ev bus.Event
	if err := json.Unmarshal(m.Data, &ev); err != nil || ev.Topic == "" {
		h.log.Warn("notify: undecodable event dropped", "subject", m.Subject, "err", err)
		return
	}
	h.Deliver(ev)
}

// Deliver sends ev to every open socket whose channel subscribes to its
// topic. An event id seen recently is delivered once (the outbox relay may
// republish after a crash).
func (h *Hub) Deliver(ev bus.Event) {
	h.mu.Lock()
	if ev.ID != "" {
		if h.recent[ev.ID] {
			h.mu.Unlock()
			return
		}
		if old := h.recentRing[h.recentPos]; old != "" {
			delete(h.recent, old)
		}
		h.recentRing[h.recentPos] = ev.ID
		h.recentPos = (h.recentPos + 1) % len(h.recentRing)
		h.recent[ev.ID] = true
	}
	var socks []*socket
	for ch := range h.index[ev.Topic] {
		if ch.sock != nil {
			socks = append(socks, ch.sock)
		}
	}
	h.mu.Unlock()
	if len(socks) == 0 {
		return
	}
	body := ev.Body
	if len(body) == 0 {
		body = json.RawMessage("{}")
	}
	msg, err := json.Marshal(envelope{TopicName: ev.Topic, Version: "2", EventBody: body, Metadata: metadata{CorrelationID: ev.CorrelationID}})
	if err != nil {
		h.log.Warn("notify: event not encodable", "topic", ev.Topic, "event", ev.ID, "err", err)
		return
	}
	for _, s := range socks {
		h.push(s, msg)
	}
}
