// The registrar: stations (agent devices) REGISTER with digest
// authentication against the directory's SIP passwords, and the switch finds
// where to reach a station with Lookup. Bindings live in memory and expire
// on the injected clock.

package sip

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
)

// Credentials gives the registrar a station's SIP password in clear.
// *directory.Service satisfies it. An unknown station is an error that is,
// or wraps, ErrUnknownStation or a problem.NotFound.
type Credentials interface {
	StationPassword(ctx context.Context, name string) (string, error)
}

// ErrUnknownStation may be returned by a Credentials for a station that does not exist.
var ErrUnknownStation = errors.New("sip: unknown station")

// Defaults of Config.
const (
	DefaultRealm      = "centralita"
	DefaultMinExpires = 60 * time.Second
	DefaultMaxExpires = 3600 * time.Second
	DefaultNonceTTL   = 5 * time.Minute
	DefaultMaxContact = 10
)

// Config configures a Registrar. Only Credentials is required.
type Config struct {
	Credentials Credentials
	Clock       clock.Clock  // default clock.Real{}
	Logger      *slog.Logger // default slog.Default()
	Realm       string       // default "centralita"
	// MinExpires: shorter registrations get 423 Interval Too Brief.
	MinExpires time.Duration
	// MaxExpires: longer registrations are granted this long; also the
	// default when the request names no expiry.
	MaxExpires time.Duration
	// NonceTTL: how long a nonce is accepted; an older one is answered
	// with a fresh challenge marked stale.
	NonceTTL time.Duration
	// MaxContacts per station (default 10); more get 403.
	MaxContacts int
}

// Contact is one place where a station can be reached.
type Contact struct {
	URI     string    // the Contact URI the device registered, e.g. sip:1001@127.0.0.1:5062
	Source  string    // host:port the REGISTER came from (where to send for NATed devices)
	Expires time.Time // when the binding lapses unless refreshed
	CallID  string
	CSeq    uint32

	// Transport is what the REGISTER came over, "UDP" or "TLS": the
	// station is called over it (a TLS one through the connection it
	// registered on: see tls.go).
	Transport string
}

type binding struct {
	Contact
	timer clock.Timer
}

// Registrar is a SIP registrar with digest authentication.
type Registrar struct {
	cfg      Config
	log      *slog.Logger
	nonceKey []byte

	mu       sync.Mutex
	bindings map[string][]*binding // station → bindings in registration order

	ua   *sipgo.UserAgent
	conn net.PacketConn
	done chan struct{}
}

// New returns a registrar; attach it to a sipgo server with Attach, or let
// it serve its own UDP socket with ListenUDP.
func New(cfg Config) (*Registrar, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("sip: registrar needs Credentials")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = DefaultMinExpires
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = DefaultMaxExpires
	}
	if cfg.MaxExpires < cfg.MinExpires {
		return nil, errors.New("sip: MaxExpires below MinExpires")
	}
	if cfg.NonceTTL <= 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.MaxContacts <= 0 {
		cfg.MaxContacts = DefaultMaxContact
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return &Registrar{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "sip.registrar"),
		nonceKey: key,
		bindings: map[string][]*binding{},
	}, nil
}

// Attach installs the REGISTER and OPTIONS handlers on srv.
func (r *Registrar) Attach(srv *sipgo.Server) {
	srv.OnRegister(r.handleRegister)
	srv.OnOptions(r.handleOptions)
}

// ListenUDP binds addr (e.g. "127.0.0.1:0") and serves REGISTER and OPTIONS
// on it until Close. It returns once the socket is bound.
func (r *Registrar) ListenUDP(addr string) error {
	if r.ua != nil {
		return errors.New("sip: registrar already listening")
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("centralita"))
	if err != nil {
		return err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(r.log))
	if err != nil {
		ua.Close()
		return err
	}
	r.Attach(srv)
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		ua.Close()
		return fmt.Errorf("sip: listen %s: %w", addr, err)
	}
	r.ua, r.conn, r.done = ua, conn, make(chan struct{})
	go func() {
		defer close(r.done)
		_ = srv.ServeUDP(conn)
	}()
	return nil
}

// Addr is the bound UDP address after ListenUDP.
func (r *Registrar) Addr() net.Addr {
	if r.conn == nil {
		return nil
	}
	return r.conn.LocalAddr()
}

// Close stops serving (if ListenUDP was used) and drops every binding.
func (r *Registrar) Close() error {
	var err error
	if r.conn != nil {
		err = r.conn.Close()
		<-r.done
		r.ua.Close()
		r.conn = nil
	}
	r.mu.Lock()
	for _, bs := range r.bindings {
		for _, b := range bs {
			b.timer.Stop()
		}
	}
	r.bindings = map[string][]*binding{}
	r.mu.Unlock()
	return err
}

// Lookup returns the station's current contacts, oldest registration first.
func (r *Registrar) Lookup(station string) []Contact {
	now := r.cfg.Clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Contact
	for _, b := range r.bindings[station] {
		if b.Expires.After(now) {
			out = append(out, b.Contact)
		}
	}
	return out
}

// ------------------------------------------------------------------ SIP --

func (r *Registrar) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := newResponse(req, sip.StatusOK, "OK")
	res.AppendHeader(sip.NewHeader("Allow", "REGISTER, OPTIONS"))
	r.respond(tx, res)
}

func (r *Registrar) respond(tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		r.log.Warn("sip response not sent", "status", res.StatusCode, "err", err)
	}
}

func newResponse(req *sip.Request, code int, reason string) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if to := res.To(); to != nil {
		if _, ok := to.Params.Get("tag"); !ok {
			if to.Params == nil {
				to.Params = sip.NewParams()
			}
			to.Params.Add("tag", randomHex(8))
		}
	}
	return res
}

func (r *Registrar) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	to, cseq, callID := req.To(), req.CSeq(), req.CallID()
	if to == nil || cseq == nil || callID == nil || to.Address.User == "" {
		r.respond(tx, newResponse(req, sip.StatusBadRequest, "Bad Request"))
		return
	}
	station := to.Address.User
	source := req.Source()

	ok, code, reason, stale := r.authenticate(req, station, source)
	if !ok {
		if code == sip.StatusUnauthorized {
			r.challenge(req, tx, stale)
			return
		}
		r.respond(tx, newResponse(req, code, reason))
		return
	}

	// Parse the requested changes before touching any binding.
	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			r.respond(tx, newResponse(req, sip.StatusBadRequest, "Bad Expires"))
			return
		}
		headerExpires = int(v)
	}
	var contacts []*sip.ContactHeader
	wildcard := false
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			r.respond(tx, newResponse(req, sip.StatusBadRequest, "Bad Contact"))
			return
		}
		if c.Address.Wildcard {
			wildcard = true
		}
		contacts = append(contacts, c)
	}
	now := r.cfg.Clock.Now()
	if wildcard {
		if len(contacts) != 1 || headerExpires != 0 {
			r.respond(tx, newResponse(req, sip.StatusBadRequest, "Wildcard Contact needs Expires: 0 alone"))
			return
		}
		r.mu.Lock()
		r.removeAll(station)
		r.mu.Unlock()
		r.log.Info("sip unregistered all", "station", station, "source", source)
		r.respondBindings(req, tx, station, now)
		return
	}

	type change struct {
		uri     string
		expires int // seconds; 0 removes
	}
	changes := make([]change, 0, len(contacts))
	minS, maxS := int(r.cfg.MinExpires/time.Second), int(r.cfg.MaxExpires/time.Second)
	for _, c := range contacts {
		exp := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				r.respond(tx, newResponse(req, sip.StatusBadRequest, "Bad Contact expires"))
				return
			}
			exp = int(n)
		}
		if exp < 0 {
			exp = maxS
		}
		if exp > 0 && exp < minS {
			res := newResponse(req, sip.StatusIntervalToBrief, "Interval Too Brief")
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(minS)))
			r.respond(tx, res)
			return
		}
		if exp > maxS {
			exp = maxS
		}
		changes = append(changes, change{uri: c.Address.String(), expires: exp})
	}

	r.mu.Lock()
	// RFC 3261 10.3 step 7: a same-Call-ID request with an older CSeq is out of order.
	for _, ch := range changes {
		if b := r.find(station, ch.uri); b != nil && b.CallID == callID.Value() && cseq.SeqNo <= b.CSeq {
			r.mu.Unlock()
			r.respond(tx, newResponse(req, sip.StatusInternalServerError, "Out of order REGISTER"))
			return
		}
	}
	added := 0
	for _, ch := range changes {
		if ch.expires > 0 && r.find(station, ch.uri) == nil {
			added++
		}
	}
	if len(r.bindings[station])+added > r.cfg.MaxContacts {
		r.mu.Unlock()
		r.log.Warn("sip digest auth refused: too many contacts", "station", station, "source", source)
		r.respond(tx, newResponse(req, sip.StatusForbidden, "Too Many Contacts"))
		return
	}
	for _, ch := range changes {
		if ch.expires == 0 {
			r.remove(station, ch.uri)
			continue
		}
		r.upsert(station, Contact{
			URI:     ch.uri,
			Source:  source,
			Expires: now.Add(time.Duration(ch.expires) * time.Second),
			CallID:  callID.Value(),
			CSeq:    cseq.SeqNo,

			Transport: strings.ToUpper(req.Transport()),
		}, time.Duration(ch.expires)*time.Second)
	}
	r.mu.Unlock()
	if len(changes) > 0 {
		r.log.Info("sip registered", "station", station, "source", source, "contacts", len(r.Lookup(station)))
	}
	r.respondBindings(req, tx, station, now)
}

// respondBindings answers 200 OK listing the station's current contacts.
func (r *Registrar) respondBindings(req *sip.Request, tx sip.ServerTransaction, station string, now time.Time) {
	res := newResponse(req, sip.StatusOK, "OK")
	for _, c := range r.Lookup(station) {
		var uri sip.Uri
		if err := sip.ParseUri(c.URI, &uri); err != nil {
			continue
		}
		secs := int((c.Expires.Sub(now) + time.Second - 1) / time.Second)
		params := sip.NewParams()
		params.Add("expires", strconv.Itoa(secs))
		res.AppendHeader(&sip.ContactHeader{Address: uri, Params: params})
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	r.respond(tx, res)
}

// find, upsert, remove and removeAll need r.mu held.
func (r *Registrar) find(station, uri string) *binding {
	for _, b := range r.bindings[station] {
		if b.URI == uri {
			return b
		}
	}
	return nil
}

func (r *Registrar) upsert(station string, c Contact, ttl time.Duration) {
	b := r.find(station, c.URI)
	if b == nil {
		b = &binding{}
		r.bindings[station] = append(r.bindings[station], b)
	} else {
		b.timer.Stop()
	}
	b.Contact = c
	b.timer = r.cfg.Clock.AfterFunc(ttl, func() { r.expire(station, b) })
}

// expire drops b if it is still the binding that timed out (not refreshed since).
func (r *Registrar) expire(station string, b *binding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b.Expires.After(r.cfg.Clock.Now()) {
		return
	}
	bs := r.bindings[station]
	for i, x := range bs {
		if x == b {
			r.bindings[station] = append(bs[:i:i], bs[i+1:]...)
			r.log.Info("sip registration expired", "station", station, "contact", b.URI)
			break
		}
	}
	if len(r.bindings[station]) == 0 {
		delete(r.bindings, station)
	}
}

func (r *Registrar) remove(station, uri string) {
	bs := r.bindings[station]
	for i, b := range bs {
		if b.URI == uri {
			b.timer.Stop()
			r.bindings[station] = append(bs[:i:i], bs[i+1:]...)
			break
		}
	}
	if len(r.bindings[station]) == 0 {
		delete(r.bindings, station)
	}
}

func (r *Registrar) removeAll(station string) {
	for _, b := range r.bindings[station] {
		b.timer.Stop()
	}
	delete(r.bindings, station)
}

// ----------------------------------------------------------- digest auth --

// authenticate checks the Authorization header. It returns ok, or the
// status to answer: 401 (challenge; stale when the nonce merely aged), 403
// (unknown station, wrong password, mismatched user) or 500.
func (r *Registrar) authenticate(req *sip.Request, station, source string) (ok bool, code int, reason string, stale bool) {
	h := req.GetHeader("Authorization")
	if h == nil {
		return false, sip.StatusUnauthorized, "", false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		r.log.Warn("sip digest auth refused: malformed Authorization", "station", station, "source", source)
		return false, sip.StatusBadRequest, "Bad Authorization", false
	}
	if cred.Realm != r.cfg.Realm {
		return false, sip.StatusUnauthorized, "", false
	}
	switch valid, aged := r.checkNonce(cred.Nonce); {
	case aged:
		return false, sip.StatusUnauthorized, "", true
	case !valid:
		return false, sip.StatusUnauthorized, "", false
	}
	if cred.Username != station {
		r.log.Warn("sip digest auth refused: user does not match address of record", "station", station, "user", cred.Username, "source", source)
		return false, sip.StatusForbidden, "Forbidden", false
	}
	if a := strings.ToUpper(cred.Algorithm); a != "" && a != "MD5" {
		return false, sip.StatusUnauthorized, "", false
	}
	if cred.QOP != "" && cred.QOP != "auth" {
		return false, sip.StatusUnauthorized, "", false
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	password, err := r.cfg.Credentials.StationPassword(ctx, station)
	cancel()
	if err != nil {
		if isNotFound(err) {
			r.log.Warn("sip digest auth refused: unknown station", "station", station, "source", source)
			return false, sip.StatusForbidden, "Forbidden", false
		}
		r.log.Error("sip register: credentials lookup failed", "station", station, "err", err)
		return false, sip.StatusInternalServerError, "Server Internal Error", false
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
		if cred.Cnonce == "" || cred.Nc <= 0 {
			return false, sip.StatusBadRequest, "Bad Authorization", false
		}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method:   req.Method.String(),
		URI:      cred.URI,
		Username: station,
		Password: password,
		Cnonce:   cred.Cnonce,
		Count:    cred.Nc,
	})
	if err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(strings.ToLower(cred.Response))) != 1 {
		r.log.Warn("sip digest auth refused: wrong password", "station", station, "source", source)
		return false, sip.StatusForbidden, "Forbidden", false
	}
	return true, 0, "", false
}

func isNotFound(err error) bool {
	if errors.Is(err, ErrUnknownStation) {
		return true
	}
	var p *problem.Problem
	return errors.As(err, &p) && p.Kind == problem.NotFound
}

func (r *Registrar) challenge(req *sip.Request, tx sip.ServerTransaction, stale bool) {
	chal := digest.Challenge{
		Realm:     r.cfg.Realm,
		Nonce:     r.newNonce(),
		Algorithm: "MD5",
		QOP:       []string{"auth"},
		Stale:     stale,
	}
	res := newResponse(req, sip.StatusUnauthorized, "Unauthorized")
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
	r.respond(tx, res)
}

// Nonces are stateless: 8 bytes of issue time (clock nanoseconds) and an
// HMAC of it under a per-process key, hex encoded. No memory is spent on
// challenges, and any nonce not issued by this process is unknown.
func (r *Registrar) newNonce() string {
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(r.cfg.Clock.Now().UnixNano()))
	return hex.EncodeToString(ts[:]) + hex.EncodeToString(r.nonceMAC(ts[:]))
}

func (r *Registrar) nonceMAC(ts []byte) []byte {
	m := hmac.New(sha256.New, r.nonceKey)
	m.Write(ts)
	return m.Sum(nil)[:16]
}

// checkNonce reports whether the nonce is ours and fresh, or ours and aged.
func (r *Registrar) checkNonce(nonce string) (valid, aged bool) {
	raw, err := hex.DecodeString(nonce)
	if err != nil || len(raw) != 8+16 {
		return false, false
	}
	if !hmac.Equal(raw[8:], r.nonceMAC(raw[:8])) {
		return false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	age := r.cfg.Clock.Now().Sub(issued)
	if age < 0 || age > r.cfg.NonceTTL {
		return false, true
	}
	return true, false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Stations lists the stations with at least one current binding, sorted.
func (r *Registrar) Stations() []string {
	now := r.cfg.Clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for s, bs := range r.bindings {
		for _, b := range bs {
			if b.Expires.After(now) {
				out = append(out, s)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}
