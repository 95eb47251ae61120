package sip

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/nyaruka/phonenumbers"

	"github.com/centralita/centralita/internal/telephony"
)

// Trunk is a SIP trunk: a carrier or PBX that connects the switch to the
// telephone network. Calls to "tel:" numbers and bare numbers go out
// through it; if Inbound, calls from it come in as customer calls.
type Trunk struct {
	// Name identifies the trunk in logs and in OriginateRequest.Tags["trunk"].
	Name string
	// Address is the trunk's SIP address, "host:port" or "host" (port
	// 5060, 5061 over TLS). Outbound INVITEs go there.
	Address string
	// Transport is TransportUDP ("" too) or TransportTLS: over TLS the
	// switch connects to Address and verifies the carrier's certificate
	// for Address's host (against Options.TLS.RootCAs, else the system's
	// roots), and takes the trunk's calls only over TLS, from any port of
	// its host (a TLS connection's source port is the carrier's choice).
	// A UDP trunk's calls are taken over UDP only. TLS needs the switch's
	// TLSListen: without it the trunk's calls and REGISTERs fail (errNoTLS).
	Transport string
	// Username and Password answer the trunk's digest challenges (401 or
	// 407) to our INVITEs. Empty Password: challenges fail the call.
	Username, Password string
	// Country (ISO 3166 alpha-2, e.g. "ES") reads national numbers:
	// outbound numbers are sent in E.164 ("+34911234567"), read with it
	// when they have no "+"; inbound caller and dialled numbers are
	// turned into E.164 with it. Empty: outbound numbers need a "+", and
	// inbound numbers without one are passed on as sent.
	Country string
	// CallerID is the number sent in From and P-Asserted-Identity when
	// the OriginateRequest has none. Empty: the call is anonymous.
	CallerID string
	// DIDs are the numbers the trunk brings in (read like outbound
	// numbers). An inbound INVITE to another number gets 404. Empty: any.
	DIDs []string
	// Inbound accepts INVITEs from the trunk as customer calls: from
	// exactly Address when it has a port, from any port of its host when
	// it has none (carriers often send from several ports). INVITEs from
	// other sources than inbound trunks and registered devices get 403.
	// The source is compared with Address's host as written: give an IP
	// address for an inbound trunk (host names are not resolved).
	Inbound bool
	// Register makes the switch REGISTER with the trunk (register.go):
	// Request-URI sip:Address, address of record sip:Username@Address's
	// host, Contact sip:Username@ the switch's own SIP address, digest
	// with Username/Password, asking for RegisterExpires (0: an hour) and
	// refreshing halfway through the time granted. The carrier then sends
	// its calls to that Contact: they are accepted from Address as for
	// Inbound, and the number dialled is the To header's (see dialled).
	Register        bool
	RegisterExpires time.Duration
	// SRTP encrypts the audio of calls out through the trunk (srtp.go):
	// our INVITE offers RTP/SAVP with an SDES key (a=crypto, RFC 4568) and
	// the carrier must answer SRTP, or the call ends (Hangup failed). It
	// needs Transport TLS: the key travels in the SDP, which anyone on the
	// path reads over UDP. Calls in from the trunk are encrypted when the
	// carrier offers SRTP, whatever this says.
	SRTP bool

	host string
	port int             // 0: none given (5060 or 5061 outbound, any port inbound)
	tls  bool            // Transport is TransportTLS
	dids map[string]bool // normalized DIDs
}

const defaultSIPPort = 5060

// prepareTrunks checks trunks and fills their parsed fields.
func prepareTrunks(in []Trunk) ([]Trunk, error) {
	out := make([]Trunk, len(in))
	names := map[string]bool{}
	bindings := map[string]string{} // Username@Address of registering trunks → trunk name
	for i, t := range in {
		where := fmt.Sprintf("sip: trunk %d (%q)", i, t.Name)
		if t.Name == "" {
			return nil, fmt.Errorf("%s: needs a Name", where)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("%s: Name used twice", where)
		}
		names[t.Name] = true
		host, port, err := splitHostPort(t.Address)
		if err != nil {
			return nil, fmt.Errorf("%s: Address %q: %v", where, t.Address, err)
		}
		t.host, t.port = host, port
		switch strings.ToLower(t.Transport) {
		case "", TransportUDP:
			t.Transport = TransportUDP
		case TransportTLS:
			t.Transport, t.tls = TransportTLS, true
		default:
			return nil, fmt.Errorf("%s: Transport %q is not udp or tls", where, t.Transport)
		}
		if t.SRTP && !t.tls {
			return nil, fmt.Errorf("%s: SRTP needs Transport tls (over UDP the SDP shows its keys)", where)
		}
		if t.Register {
			if t.Username == "" {
				return nil, fmt.Errorf("%s: %w", where, errNoRegisterUser)
			}
			if t.RegisterExpires == 0 {
				t.RegisterExpires = DefaultRegisterExpires
			}
			if t.RegisterExpires < time.Second || t.RegisterExpires > maxRegisterExpires {
				return nil, fmt.Errorf("%s: RegisterExpires %v is not 1 s to 24 h", where, t.RegisterExpires)
			}
			// Two loops on one binding would undo each other's un-REGISTER.
			b := t.Username + "@" + t.Address
			if other, dup := bindings[b]; dup {
				return nil, fmt.Errorf("%s: registers as %s like trunk %q", where, b, other)
			}
			bindings[b] = t.Name
		}
		t.Country = strings.ToUpper(t.Country)
		if t.Country != "" && phonenumbers.GetCountryCodeForRegion(t.Country) == 0 {
			return nil, fmt.Errorf("%s: Country %q is not an ISO 3166 region libphonenumber knows", where, t.Country)
		}
		if t.CallerID != "" {
			if _, ok := t.e164(t.CallerID); !ok {
				return nil, fmt.Errorf("%s: CallerID %q is not a number", where, t.CallerID)
			}
		}
		t.dids = map[string]bool{}
		for _, d := range t.DIDs {
			n, ok := t.e164(d)
			if !ok {
				return nil, fmt.Errorf("%s: DID %q is not a number", where, d)
			}
			t.dids[n] = true
		}
		t.DIDs = append([]string(nil), t.DIDs...)
		out[i] = t
	}
	return out, nil
}

// splitHostPort reads "host" or "host:port" (IPv6 in brackets).
func splitHostPort(addr string) (string, int, error) {
	if addr == "" {
		return "", 0, fmt.Errorf("empty")
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		if strings.ContainsAny(addr, "[]/ @;?") || strings.Count(addr, ":") == 1 {
			return "", 0, fmt.Errorf("want host or host:port")
		}
		return strings.Trim(addr, "[]"), 0, nil
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("want host or host:port")
	}
	return host, port, nil
}

// e164 normalizes a number with the trunk's country: E.164 when
// libphonenumber can read it (not necessarily a valid allocated number —
// short and service numbers go out too), false otherwise.
func (t *Trunk) e164(number string) (string, bool) {
	n, ok := cleanNumber(number)
	if !ok {
		return "", false
	}
	if !strings.HasPrefix(n, "+") && t.Country == "" {
		return "", false
	}
	pn, err := phonenumbers.Parse(n, t.Country)
	if err != nil {
		return "", false
	}
	return phonenumbers.Format(pn, phonenumbers.E164), true
}

// cleanNumber drops visual separators (space . - ( )) and reports whether
// what remains is an optional + and 1 to 20 digits (see isNumber).
func cleanNumber(s string) (string, bool) {
	if !isNumber(s) {
		return "", false
	}
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(" .-()", r) {
			return -1
		}
		return r
	}, s), true
}

// outboundAddr is where the trunk's INVITEs go.
func (t *Trunk) outboundAddr() (string, int) {
	switch {
	case t.port != 0:
		return t.host, t.port
	case t.tls:
		return t.host, DefaultTLSPort
	}
	return t.host, defaultSIPPort
}

// uri is sip:USER@ the trunk's outbound address, with ;transport=tls for
// a TLS trunk (what makes sipgo send it over TLS).
func (t *Trunk) uri(user string) sip.Uri {
	host, port := t.outboundAddr()
	u := sip.Uri{Scheme: "sip", User: user, Host: host, Port: port}
	if t.tls {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", TransportTLS)
	}
	return u
}

// sends reports whether an INVITE from src ("ip:port") over transport
// (sipgo's "UDP" or "TLS") comes from the trunk. A carrier we register
// with sends its calls too.
func (t *Trunk) sends(src, transport string) bool {
	if !t.Inbound && !t.Register {
		return false
	}
	if t.tls != isTLS(transport) {
		return false // a TLS trunk's host must not get in over UDP, which is forged easily
	}
	host, port, err := net.SplitHostPort(src)
	if err != nil {
		return false
	}
	if !sameHost(host, t.host) {
		return false
	}
	return t.tls || t.port == 0 || port == strconv.Itoa(t.port)
}

func sameHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	ia, ib := net.ParseIP(a), net.ParseIP(b)
	return ia != nil && ib != nil && ia.Equal(ib)
}

// inboundTrunk is the inbound trunk req comes from, or nil.
func (s *Switch) inboundTrunk(req *sip.Request) *Trunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inboundTrunkLocked(req)
}

// inboundTrunkLocked is inboundTrunk with s.mu held. SetTrunks replaces
// the slice, never changes it, so the *Trunk stays valid after unlocking.
func (s *Switch) inboundTrunkLocked(req *sip.Request) *Trunk {
	for i := range s.opt.Trunks {
		if s.opt.Trunks[i].sends(req.Source(), req.Transport()) {
			return &s.opt.Trunks[i]
		}
	}
	return nil
}

// dialled is the number an INVITE from trunk t (nil: from a station's
// device) dials: the Request-URI's user, or the To header's when the
// Request-URI has none or — the carrier of a registered trunk sends its
// calls to the Contact we registered, sip:Username@us — when it is the
// trunk's registration user.
func dialled(t *Trunk, req *sip.Request) string {
	user := req.Recipient.User
	if user == "" || (t != nil && t.Register && user == t.Username) {
		if to := req.To(); to != nil {
			return to.Address.User
		}
	}
	return user
}

// inboundNumbers turns the caller and dialled numbers of a call from a
// trunk into E.164 (with the trunk's country); anything that is not a
// number (a name, "anonymous" already removed) is passed on as sent.
// Calls from registered devices are left alone. Needs s.mu.
func (s *Switch) inboundNumbers(req *sip.Request, from, to string) (string, string) {
	t := s.inboundTrunkLocked(req)
	if t == nil {
		return from, to
	}
	if n, ok := t.e164(from); ok {
		from = n
	}
	if n, ok := t.e164(to); ok {
		to = n
	}
	return from, to
}

// didRefused reports whether an inbound INVITE from a trunk with DIDs
// dials a number the trunk does not bring in.
func (s *Switch) didRefused(req *sip.Request) bool {
	t := s.inboundTrunk(req)
	if t == nil || len(t.dids) == 0 {
		return false
	}
	n, ok := t.e164(dialled(t, req))
	return !ok || !t.dids[n]
}

// ------------------------------------------------------ destinations --

type destKind int

const (
	toStation destKind = iota
	toTrunk
	toURI
)

// dest is a parsed Originate / Transfer destination.
type dest struct {
	kind    destKind
	station string  // toStation
	number  string  // toTrunk: E.164
	trunk   *Trunk  // toTrunk
	uri     sip.Uri // toURI
}

// parseDest reads "station:NAME", "tel:NUMBER", a bare number or
// "sip:USER@HOST[:PORT]". tags["trunk"] picks the trunk for numbers (the
// first one otherwise).
func (s *Switch) parseDest(to string, tags map[string]string) (dest, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: %q: %s", telephony.ErrBadDestination, to, why)
	}
	switch {
	case strings.HasPrefix(to, telephony.StationPrefix):
		name := strings.TrimPrefix(to, telephony.StationPrefix)
		if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return dest{}, bad("no station name")
		}
		return dest{kind: toStation, station: name}, nil
	case strings.HasPrefix(to, "sips:"):
		return dest{}, fmt.Errorf("%w: %q: sips: URIs are not supported (use sip: with ;transport=tls)", telephony.ErrNotSupported, to)
	case strings.HasPrefix(to, "sip:"):
		var u sip.Uri
		if len(to) > 512 || sip.ParseUri(to, &u) != nil || u.Host == "" || u.Scheme != "sip" || u.Wildcard {
			return dest{}, bad("not a SIP URI")
		}
		if tp, _ := u.UriParams.Get("transport"); tp != "" && !strings.EqualFold(tp, TransportUDP) && !isTLS(tp) {
			return dest{}, fmt.Errorf("%w: %q: the switch speaks SIP over UDP and TLS only", telephony.ErrNotSupported, to)
		}
		return dest{kind: toURI, uri: u}, nil
	}
	raw := strings.TrimPrefix(to, telephony.TelPrefix)
	if _, ok := cleanNumber(raw); !ok {
		return dest{}, bad("not a number (an optional + and 1 to 20 digits)")
	}
	t, err := s.pickTrunk(tags)
	if err != nil {
		return dest{}, fmt.Errorf("%q: %w", to, err)
	}
	n, ok := t.e164(raw)
	if !ok {
		if t.Country == "" {
			return dest{}, bad("not an E.164 number and trunk " + t.Name + " has no Country to read it with")
		}
		return dest{}, bad("not a number of " + t.Country)
	}
	return dest{kind: toTrunk, number: n, trunk: t}, nil
}

func (s *Switch) pickTrunk(tags map[string]string) (*Trunk, error) {
	if name := tags["trunk"]; name != "" {
		for i := range s.opt.Trunks {
			if s.opt.Trunks[i].Name == name {
				return &s.opt.Trunks[i], nil
			}
		}
		return nil, fmt.Errorf("%w: no trunk named %q", telephony.ErrBadDestination, name)
	}
	if len(s.opt.Trunks) == 0 {
		return nil, fmt.Errorf("%w: no trunk configured for numbers", telephony.ErrNotSupported)
	}
	return &s.opt.Trunks[0], nil
}

// ---------------------------------------------------------- placing --

// dialReq is one outbound INVITE to place.
type dialReq struct {
	target   sip.Uri // Request-URI
	to       sip.Uri // To address
	from     sip.Uri // From address (our caller id)
	fromName string
	pai      string // P-Asserted-Identity value, "" for none
	user     string // digest credentials for challenges
	pass     string
	ring     time.Duration
	// tls sends the INVITE, and so the whole dialog, over TLS; dest, when
	// set, is where to (a TLS station: the connection it registered on).
	tls  bool
	dest string
	// srtp offers encrypted media (RTP/SAVP, srtp.go); with srtpRequired
	// a plain answer ends the call.
	srtp, srtpRequired bool
	// what the leg's Ringing event shows
	evFrom, evTo string
}

// transport is what d's INVITE goes over: whatever transport a Contact
// names, UDP is what we have besides TLS.
func (d dialReq) transport() string {
	if d.tls {
		return "TLS" // sipgo's name
	}
	return "UDP"
}

// place creates an outbound leg to d for req; origin is the leg a
// Transfer hands over (nil for Originate). Needs s.mu, which dial releases
// while the INVITE is sent.
func (s *Switch) place(d dest, req telephony.OriginateRequest, origin *leg) (*leg, error) {
	ring := req.RingTimeout
	if ring <= 0 {
		ring = DefaultRingTimeout
	}
	if l, ok, err := s.ringBrowser(d, req, origin); ok { // a browser station (browser.go)
		return l, err
	}
	switch d.kind {
	case toStation:
		from := req.From
		if from == "" {
			from = "centralita"
		}
		contacts := s.opt.Registrar.Lookup(d.station)
		var target sip.Uri
		if len(contacts) == 0 || sip.ParseUri(contacts[0].URI, &target) != nil {
			l := s.newLeg(false, "")
			l.state, l.from, l.to = stOriginated, from, req.To
			s.linkTransfer(l, origin)
			s.end(l, telephony.CauseFailed)
			return l, nil
		}
		dr := dialReq{
			target:   target,
			to:       sip.Uri{Scheme: "sip", User: d.station, Host: target.Host, Port: target.Port},
			from:     sip.Uri{Scheme: "sip", User: from, Host: s.ip, Port: s.port},
			fromName: req.CallerName, ring: ring, evFrom: from, evTo: req.To,
		}
		if isTLS(contacts[0].Transport) {
			// Through the connection it registered on: its Contact is
			// seldom a place we can connect to (tls.go). The SDP is
			// private there, so we offer SRTP; a phone that answers in the
			// clear is still taken (srtp.go).
			dr.tls, dr.dest = true, contacts[0].Source
			dr.srtp = true
		}
		return s.dial(dr, origin)
	case toTrunk:
		t := d.trunk
		host, _ := t.outboundAddr()
		target := t.uri(d.number)
		caller := req.From
		if n, ok := t.e164(caller); ok {
			caller = n
		}
		if caller == "" {
			caller = t.CallerID
			if n, ok := t.e164(caller); ok {
				caller = n
			}
		}
		dr := dialReq{target: target, to: sip.Uri{Scheme: "sip", User: target.User, Host: target.Host, Port: target.Port},
			fromName: req.CallerName, user: t.Username, pass: t.Password, ring: ring, tls: t.tls, evFrom: req.From, evTo: req.To,
			srtp: t.SRTP, srtpRequired: t.SRTP}
		if dr.user == "" {
			dr.user = caller
		}
		if caller == "" {
			// RFC 3323: an anonymous From; the trunk learns nothing.
			dr.from = sip.Uri{Scheme: "sip", User: "anonymous", Host: "anonymous.invalid"}
			dr.fromName = "Anonymous"
		} else {
			dr.from = sip.Uri{Scheme: "sip", User: caller, Host: host}
			dr.pai = (&sip.Uri{Scheme: "sip", User: caller, Host: host}).String()
			dr.pai = "<" + dr.pai + ">"
		}
		return s.dial(dr, origin)
	default: // toURI
		from := req.From
		if from == "" {
			from = "centralita"
		}
		target := d.uri
		dr := dialReq{target: target, to: sip.Uri{Scheme: "sip", User: target.User, Host: target.Host, Port: target.Port},
			from:     sip.Uri{Scheme: "sip", User: from, Host: s.ip, Port: s.port},
			fromName: req.CallerName, ring: ring, evFrom: req.From, evTo: req.To}
		if tp, _ := target.UriParams.Get("transport"); isTLS(tp) {
			dr.tls = true
		}
		// A URI at a trunk's host answers its challenges with the trunk's credentials.
		for i := range s.opt.Trunks {
			if t := &s.opt.Trunks[i]; t.Password != "" && sameHost(t.host, target.Host) {
				dr.user, dr.pass = t.Username, t.Password
				break
			}
		}
		return s.dial(dr, origin)
	}
}

// dialResolveTimeout bounds how long sending an INVITE may take to resolve
// its destination's host name and, to a TLS peer not yet connected, to
// connect (a carrier that never finishes the handshake gets no longer).
const dialResolveTimeout = 2 * time.Second

// dial sends the INVITE and starts waiting for the answer. Needs s.mu, and
// releases it while the INVITE is sent: a caller must not count on what it
// read before the call still holding after it.
//
// Sending may resolve a host name (a sip: URI, a trunk's Address, the
// Contact a phone registered) and, to a TLS peer not yet connected,
// connect and do the handshake: seconds for a slow DNS server or carrier,
// during which every other call would wait if s.mu were held. So the leg
// is made first, as it would be right after its INVITE went out (no
// dialog, no Call-ID yet): the only thing that can happen to it meanwhile
// is its end — Hangup, Close, or the cancelled transfer it was placed for
// — and cancelWait then stops the sending. s.mu is released for
// WriteInvite and taken again to attach the dialog. (Resolving and
// connecting ahead of WriteInvite, outside the lock, would leave it
// connecting again under the lock when the connection drops between the
// two; and the leg would have nothing to be cancelled by.)
//
// A failure to send is the call never placed: the leg goes without an
// event and dial returns the error, as when the INVITE was sent under the
// lock. A leg that ended while its INVITE was being sent already has its
// Hangup: dial returns it with no error, and what was sent is cancelled
// like any leg hung up before its answer.
func (s *Switch) dial(d dialReq, origin *leg) (*leg, error) {
	if d.tls && s.tls == nil {
		return nil, fmt.Errorf("sip: invite %s: %w", d.target.String(), errNoTLS)
	}
	dua := s.duaFor(d.transport())
	med, err := newRTPLeg(&s.pool, s.ip)
	if err != nil {
		return nil, err
	}
	if d.srtp {
		if err := med.setCrypto(offerCrypto()); err != nil {
			med.Close()
			return nil, err
		}
	}
	inv := s.newInvite(d, med)

	l := s.newLeg(false, "")
	l.state, l.med, l.from, l.to = stOriginated, med, d.evFrom, d.evTo
	l.sig.authUser, l.sig.authPass = d.user, d.pass
	l.srtpRequired = d.srtpRequired
	if d.srtp && !d.srtpRequired {
		l.plainRetry = &d // a phone that refuses SRTP with 488 is called again in plain RTP
	}
	s.linkTransfer(l, origin)
	dlg, live, err := s.sendInvite(l, dua, inv)
	if !live {
		return l, nil
	}
	if err != nil {
		s.dropDialing(l)
		return nil, fmt.Errorf("sip: invite %s: %w", d.target.String(), tlsHint(err))
	}
	l.timer = s.opt.Clock.AfterFunc(d.ring, func() {
		s.mu.Lock()
		if l.waitCause == "" {
			l.waitCause = telephony.CauseNoAnswer
		}
		cancel := l.cancelWait // the wait of the INVITE out now (a plain retry's, retryPlain)
		s.mu.Unlock()
		cancel()
	})
	s.awaitAnswer(l, dlg, inv)
	return l, nil
}

// sendInvite sends inv for l on dua with s.mu released (see dial) and
// reports whether l was still live when s.mu was taken again. A leg that
// ended meanwhile already has its Hangup: what was sent is cancelled like
// any leg hung up before its answer. When sending failed, l's media is
// closed. Needs s.mu.
func (s *Switch) sendInvite(l *leg, dua *sipgo.DialogUA, inv *sip.Request) (dlg *sipgo.DialogClientSession, live bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialResolveTimeout)
	l.cancelWait = cancel // Hangup (or the ring timer) while sending: stop resolving and connecting
	s.mu.Unlock()
	dlg, err = dua.WriteInvite(ctx, inv) // the transaction does not keep ctx
	cancel()
	if s.testHookInviteSent != nil {
		s.testHookInviteSent()
	}
	if err != nil {
		l.med.Close() // without s.mu, which its read loop may be waiting for
	}
	s.mu.Lock()
	if s.legs[l.id] != l { // ended while sending: end closed its media
		if err != nil {
			s.log.Debug("sip invite not sent: the leg ended meanwhile", "leg", l.id, "err", err)
			return nil, false, nil
		}
		l.cli = dlg
		wctx, wcancel := context.WithCancel(context.Background())
		wcancel()
		go s.waitAnswer(l, wctx) // CANCEL, or ACK and BYE if it answers anyway; no event
		return nil, false, nil
	}
	return dlg, true, err
}

// awaitAnswer attaches dlg, the dialog of inv sent for l, and waits for
// its answer (waitAnswer); at once cancelled when the ring timer fired
// while it was sent. Needs s.mu.
func (s *Switch) awaitAnswer(l *leg, dlg *sipgo.DialogClientSession, inv *sip.Request) {
	l.cli, l.callID = dlg, inv.CallID().Value()
	s.byCallID[l.callID] = l
	wctx, wcancel := context.WithCancel(context.Background())
	l.cancelWait = wcancel
	if l.waitCause != "" {
		wcancel()
	}
	go s.waitAnswer(l, wctx)
}

// newInvite is the INVITE for d offering med's media (a fresh From tag;
// the Call-ID and CSeq come when it is sent).
func (s *Switch) newInvite(d dialReq, med *rtpLeg) *sip.Request {
	inv := sip.NewRequest(sip.INVITE, d.target)
	inv.SetTransport(d.transport())
	if d.dest != "" {
		inv.SetDestination(d.dest)
	}
	fp := sip.NewParams()
	fp.Add("tag", randomHex(8))
	inv.AppendHeader(&sip.FromHeader{DisplayName: d.fromName, Address: d.from, Params: fp})
	inv.AppendHeader(&sip.ToHeader{Address: d.to, Params: sip.NewParams()})
	if d.pai != "" {
		inv.AppendHeader(sip.NewHeader("P-Asserted-Identity", d.pai))
	}
	inv.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY"))
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(med.localSDP(s.ip, uint64(time.Now().UnixNano())))
	return inv
}

// dropDialing removes a leg whose INVITE could not be sent as if it had
// never been made: nobody has heard of it (its id is not returned, and a
// leg waiting for its answer takes no request but Hangup, which ends it),
// so it goes without an event, and the transfer it was placed for is no
// longer pending. A REFER's referrer hears of the failure from onRefer,
// which gets the error. Its media is closed already. Needs s.mu.
func (s *Switch) dropDialing(l *leg) {
	if o := l.sig.transferOf; o != nil && o.sig.transferTo == l {
		o.sig.transferTo = nil
	}
	l.sig.transferOf, l.sig.referral = nil, nil
	delete(s.legs, l.id)
	for i, id := range s.order {
		if id == l.id {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
}
