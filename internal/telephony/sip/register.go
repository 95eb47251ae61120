package sip

// Trunk registration (RFC 3261 section 10): a trunk with Register binds the
// switch's own SIP address with its carrier, so that the carrier knows
// where to send the trunk's calls. One goroutine per registering trunk owns
// its binding (Call-ID, CSeq) and sends every REGISTER through the switch's
// client, from the socket the switch listens on; it publishes its state for
// Registrations under registrations.mu.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Registration states (Registration.State).
const (
	RegRegistering = "registering" // the first REGISTER is on its way
	RegRegistered  = "registered"  // the carrier holds our binding
	RegFailed      = "failed"      // the last attempt failed; another follows at Next
)

// DefaultRegisterExpires is the binding time asked for when a trunk gives
// no RegisterExpires.
const DefaultRegisterExpires = time.Hour

const (
	// A failed attempt is retried after regRetryMin, doubling up to
	// regRetryMax: a carrier that is down or refuses us is not flooded.
	regRetryMin = 5 * time.Second
	regRetryMax = 5 * time.Minute
	// regTimeout bounds one attempt (a challenge and its answer); sipgo
	// gives up a transaction after 32 s (Timer F) anyway.
	regTimeout = 30 * time.Second
	// unregisterTimeout bounds the un-REGISTER of a removed trunk and of
	// each trunk on Close: best effort, the binding lapses on its own.
	unregisterTimeout  = 2 * time.Second
	maxRegisterExpires = 24 * time.Hour
)

// Registration is a trunk's registration with its carrier as the switch
// last saw it. It never holds a secret.
type Registration struct {
	State     string    // RegRegistering, RegRegistered or RegFailed
	Expires   time.Time // registered: when the binding lapses unless refreshed
	Next      time.Time // when the next REGISTER goes (a refresh or a retry)
	LastError string    // failed: why the last attempt failed
}

// registrations are the running registration loops, by trunk name.
type registrations struct {
	mu     sync.Mutex
	loops  map[string]*regLoop
	last   map[string]*regLoop // the latest loop of each binding (regLoop.key), stopped or not
	closed bool
	wg     sync.WaitGroup
}

// regLoop is one trunk's registration: its goroutine (runRegistration)
// owns the binding fields; state is shared under registrations.mu.
type regLoop struct {
	trunk  Trunk
	ctx    context.Context
	cancel context.CancelFunc // stops the loop, which then un-REGISTERs
	done   chan struct{}      // closed when the goroutine has returned

	state Registration // under registrations.mu

	callID  string // the same for every REGISTER of the binding (RFC 3261 10.2.4)
	fromTag string
	cseq    uint32
	expires int // seconds asked for: RegisterExpires, or the carrier's Min-Expires after a 423
}

// key names the binding at the carrier: two loops with the same key must
// not overlap, or an old loop's un-REGISTER would remove the new binding.
func (l *regLoop) key() string { return l.trunk.Username + "@" + l.trunk.Address }

// sameRegistration reports whether a and b register alike (a change of
// anything else needs no new REGISTER).
func sameRegistration(a, b *Trunk) bool {
	return a.Address == b.Address && a.Username == b.Username && a.Password == b.Password &&
		a.RegisterExpires == b.RegisterExpires && a.Transport == b.Transport
}

// syncRegistrations starts, restarts and stops registration loops to match
// trunks (prepared). Needs s.regs.mu.
func (s *Switch) syncRegistrations(trunks []Trunk) {
	r := &s.regs
	if r.closed {
		return
	}
	if r.loops == nil {
		r.loops, r.last = map[string]*regLoop{}, map[string]*regLoop{}
	}
	want := map[string]*Trunk{}
	for i := range trunks {
		if trunks[i].Register {
			want[trunks[i].Name] = &trunks[i]
		}
	}
	for name, l := range r.loops {
		if t := want[name]; t == nil || !sameRegistration(t, &l.trunk) {
			l.cancel() // it un-REGISTERs on its way out
			delete(r.loops, name)
		}
	}
	for name, t := range want {
		if r.loops[name] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		l := &regLoop{trunk: *t, ctx: ctx, cancel: cancel, done: make(chan struct{}),
			state:  Registration{State: RegRegistering},
			callID: randomHex(16), fromTag: randomHex(8), cseq: 1, expires: int(t.RegisterExpires / time.Second)}
		var after <-chan struct{}
		if prev := r.last[l.key()]; prev != nil {
			after = prev.done
		}
		r.last[l.key()] = l
		r.loops[name] = l
		r.wg.Add(1)
		go s.runRegistration(l, after)
	}
	for k, l := range r.last { // forget the loops that have finished
		select {
		case <-l.done:
			delete(r.last, k)
		default:
		}
	}
}

// stopRegistrations stops every loop and waits for their un-REGISTERs
// (each bounded by unregisterTimeout). Later syncs start nothing.
func (s *Switch) stopRegistrations() {
	r := &s.regs
	r.mu.Lock()
	r.closed = true
	for _, l := range r.loops {
		l.cancel()
	}
	r.loops = nil
	r.mu.Unlock()
	r.wg.Wait()
}

// Registrations returns the state of every registering trunk, by name.
func (s *Switch) Registrations() map[string]Registration {
	r := &s.regs
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Registration, len(r.loops))
	for name, l := range r.loops {
		out[name] = l.state
	}
	return out
}

// setRegistration publishes l's state, logging changes (not every refresh).
func (s *Switch) setRegistration(l *regLoop, st Registration) {
	r := &s.regs
	r.mu.Lock()
	prev := l.state
	l.state = st
	r.mu.Unlock()
	switch {
	case st.State == RegRegistered && prev.State != RegRegistered:
		s.log.Info("sip trunk registered", "trunk", l.trunk.Name, "registrar", l.trunk.Address, "user", l.trunk.Username,
			"expires", st.Expires)
	case st.State == RegFailed && (prev.State != RegFailed || prev.LastError != st.LastError):
		s.log.Warn("sip trunk registration failed", "trunk", l.trunk.Name, "registrar", l.trunk.Address, "user", l.trunk.Username,
			"err", st.LastError, "retry", st.Next)
	}
}

// runRegistration registers l's trunk until l is stopped: it refreshes the
// binding halfway through the time granted, retries a failure with a
// growing delay, and un-REGISTERs at the end if the carrier may hold a
// binding. after, when not nil, is the previous loop of the same binding:
// its un-REGISTER must go first.
func (s *Switch) runRegistration(l *regLoop, after <-chan struct{}) {
	defer s.regs.wg.Done()
	defer close(l.done)
	if after != nil {
		<-after // bounded: that loop was stopped
	}
	bound := false // a REGISTER of ours was accepted: the carrier may hold the binding
	retry := regRetryMin
	for l.ctx.Err() == nil {
		granted, err := s.register(l)
		if l.ctx.Err() != nil {
			break
		}
		now := s.opt.Clock.Now()
		var st Registration
		var wait time.Duration
		if err != nil {
			wait, retry = retry, min(2*retry, regRetryMax)
			st = Registration{State: RegFailed, LastError: err.Error(), Next: now.Add(wait)}
		} else {
			bound, retry = true, regRetryMin
			// Halfway: a lost refresh still leaves time for retries
			// before the binding lapses.
			wait = max(granted/2, time.Second)
			st = Registration{State: RegRegistered, Expires: now.Add(granted), Next: now.Add(wait)}
		}
		// The timer is armed before the state shows, so that whoever sees
		// the state (a test driving a fake clock) can move time past it.
		wake := make(chan struct{})
		timer := s.opt.Clock.AfterFunc(wait, func() { close(wake) })
		s.setRegistration(l, st)
		select {
		case <-wake:
		case <-l.ctx.Done():
			timer.Stop()
		}
	}
	if bound {
		s.unregister(l)
	}
}

// unregister removes our binding (Expires: 0 for our Contact only: other
// bindings of the account, another node's say, stay).
func (s *Switch) unregister(l *regLoop) {
	ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
	defer cancel()
	res, err := s.sendRegister(ctx, l, 0)
	switch {
	case err != nil:
		s.log.Warn("sip trunk un-REGISTER got no answer; the binding lapses on its own", "trunk", l.trunk.Name, "err", err)
	case !res.IsSuccess():
		s.log.Warn("sip trunk un-REGISTER refused; the binding lapses on its own", "trunk", l.trunk.Name,
			"status", res.StatusCode, "reason", res.Reason)
	default:
		s.log.Info("sip trunk unregistered", "trunk", l.trunk.Name, "registrar", l.trunk.Address)
	}
}

// register sends one REGISTER asking for l.expires seconds (answering a
// digest challenge, and a 423 with the carrier's Min-Expires, which later
// refreshes ask for too) and returns the time granted.
func (s *Switch) register(l *regLoop) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(l.ctx, regTimeout)
	defer cancel()
	for tooBrief := false; ; tooBrief = true {
		res, err := s.sendRegister(ctx, l, l.expires)
		if errors.Is(err, errNoTLS) {
			return 0, fmt.Errorf("REGISTER to %s: %w", l.trunk.Address, err)
		}
		if err != nil {
			return 0, fmt.Errorf("REGISTER to %s: no answer: %v", l.trunk.Address, tlsHint(err))
		}
		if res.StatusCode == sip.StatusIntervalToBrief && !tooBrief {
			// RFC 3261 10.2.8: ask again for at least Min-Expires.
			if h := res.GetHeader("Min-Expires"); h != nil {
				n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
				if err == nil && n > l.expires && time.Duration(n)*time.Second <= maxRegisterExpires {
					l.expires = n
					continue
				}
			}
		}
		if !res.IsSuccess() {
			return 0, refusal(&l.trunk, res)
		}
		granted := grantedExpires(res, s.regContact(l), l.expires)
		if granted <= 0 {
			return 0, fmt.Errorf("REGISTER to %s: the carrier answered %d %s but granted no time", l.trunk.Address, res.StatusCode, res.Reason)
		}
		return time.Duration(granted) * time.Second, nil
	}
}

// refusal explains a failure status to an administrator.
func refusal(t *Trunk, res *sip.Response) error {
	status := fmt.Sprintf("%d %s", res.StatusCode, res.Reason)
	switch res.StatusCode {
	case sip.StatusUnauthorized, sip.StatusProxyAuthRequired, sip.StatusForbidden:
		if t.Password == "" {
			return fmt.Errorf("REGISTER to %s: the carrier answered %s and the trunk has no password", t.Address, status)
		}
		return fmt.Errorf("REGISTER to %s: the carrier refused user %q (%s): check the username and password", t.Address, t.Username, status)
	}
	return fmt.Errorf("REGISTER to %s: the carrier answered %s", t.Address, status)
}

// regContact is where the carrier is to send the trunk's calls: the
// switch's own SIP address (the TLS one, ;transport=tls, for a TLS trunk),
// with the trunk's user (so that its INVITEs can be told apart: see
// dialled).
func (s *Switch) regContact(l *regLoop) sip.Uri {
	if l.trunk.tls && s.tls != nil {
		return s.contactURI(l.trunk.Username, TransportTLS, s.tls.port)
	}
	return s.contactURI(l.trunk.Username, TransportUDP, 0)
}

// sendRegister sends a REGISTER of l's binding and answers a 401 or 407
// once with the trunk's credentials.
func (s *Switch) sendRegister(ctx context.Context, l *regLoop, expires int) (*sip.Response, error) {
	t := &l.trunk
	client := s.client
	if t.tls {
		if s.tls == nil {
			return nil, errNoTLS
		}
		client = s.tls.client
	}
	req := sip.NewRequest(sip.REGISTER, t.uri(""))
	aor := sip.Uri{Scheme: "sip", User: t.Username, Host: t.host}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", l.fromTag)
	callID := sip.CallIDHeader(l.callID)
	l.cseq++
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: l.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: s.regContact(l)})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY"))
	if t.tls {
		req.SetTransport("TLS")
	}
	res, err := client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) && t.Password != "" {
		// DoDigestAuth sends req again with the credentials and the next CSeq.
		res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: t.Username, Password: t.Password})
		l.cseq = req.CSeq().SeqNo
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// grantedExpires reads the seconds a 2xx to our REGISTER grants: our
// Contact's expires parameter (RFC 3261 10.3 step 8), else the Expires
// header, else what we asked for. A carrier that rewrites our Contact (its
// view of our address) and lists only that one is taken at its word.
func grantedExpires(res *sip.Response, contact sip.Uri, asked int) int {
	var contacts []*sip.ContactHeader
	for _, h := range res.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok {
			contacts = append(contacts, c)
		}
	}
	for _, c := range contacts {
		if len(contacts) == 1 || sameContact(c.Address, contact) {
			if v, ok := c.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					return n
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			return n
		}
	}
	return asked
}

func sameContact(a, b sip.Uri) bool {
	port := func(p int) int {
		if p == 0 {
			return defaultSIPPort
		}
		return p
	}
	return a.User == b.User && sameHost(a.Host, b.Host) && port(a.Port) == port(b.Port)
}

// errNoRegisterUser: Register without a Username has no address of record.
var errNoRegisterUser = errors.New("a trunk with Register needs a Username (the address of record is Username@Address)")
