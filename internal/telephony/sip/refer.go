package sip

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

// REFER from phones (RFC 3515), for transfers made with the phone's own
// transfer key. The phone (the referrer) is a party of a bridged call on
// this switch and sends REFER in that call's dialog:
//
//   - Blind: Refer-To names a destination (sip:USER@HOST, tel:NUMBER).
//     The switch answers 202 Accepted and transfers the OTHER party of the
//     bridge there with the machinery of Transfer (its leg is unbridged, a
//     leg is placed with Other = that party's leg, bridged on answer). The
//     referrer gets NOTIFYs with message/sipfrag: "SIP/2.0 100 Trying",
//     then "SIP/2.0 200 OK" once the new leg answered — after which the
//     switch hangs up the referrer's leg — or the failure ("SIP/2.0 486
//     Busy Here", …), after which the referrer's leg is bridged back to
//     the other party (both still up) so the phone can take the call back.
//   - Attended: Refer-To carries ?Replaces=CALLID;to-tag=…;from-tag=…
//     naming the phone's other call. When both calls are on this switch,
//     the two remaining parties are bridged together (Unbridged, then
//     Bridged events), the referrer gets NOTIFY "SIP/2.0 200 OK", and both
//     of its legs are hung up.
//
// A sip: URI at the switch's own address means a station when the
// directory has a station of that name (or a device registered as it),
// else a number through the trunk when it is one, else a station (that
// fails as unregistered).
// A sip: URI elsewhere is called directly. "Refer-Sub: false" (RFC 4488)
// turns NOTIFYs off.

// referral is a REFER in progress: where to send its NOTIFYs, in order.
type referral struct {
	referrer *leg
	notify   bool
	event    string // Event header value of the NOTIFYs
	frags    chan referFrag
}

type referFrag struct {
	status string // sipfrag status line, e.g. "SIP/2.0 100 Trying"
	final  bool
	after  func() // run under s.mu once the NOTIFY is sent (final only)
}

// referTarget is a parsed Refer-To.
type referTarget struct {
	uri      sip.Uri
	replaces *replaces
}

// replaces is an RFC 3891 Replaces value.
type replaces struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

const maxReferTo = 2048

var errReferTo = errors.New("sip: Refer-To not understood")

// parseReferTo reads a Refer-To value: name-addr ("Bob" <sip:…?Replaces=…>)
// or addr-spec, with an optional Replaces among the URI's headers.
func parseReferTo(v string) (referTarget, error) {
	var out referTarget
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxReferTo {
		return out, fmt.Errorf("%w: empty or too long", errReferTo)
	}
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return out, fmt.Errorf("%w: no closing >", errReferTo)
		}
		v = v[i+1 : i+j]
	} else if k := strings.IndexByte(v, ';'); k >= 0 && !strings.Contains(v, "?") {
		v = v[:k] // addr-spec followed by header parameters
	}
	uriPart, headers, _ := strings.Cut(v, "?")
	if uriPart == "" {
		return out, fmt.Errorf("%w: no URI", errReferTo)
	}
	scheme, rest, ok := strings.Cut(uriPart, ":")
	scheme = strings.ToLower(scheme)
	switch {
	case !ok:
		return out, fmt.Errorf("%w: %q has no scheme", errReferTo, clip(uriPart))
	case scheme == "tel":
		num, _, _ := strings.Cut(rest, ";")
		if _, ok := cleanNumber(num); !ok {
			return out, fmt.Errorf("%w: %q is not a number", errReferTo, clip(rest))
		}
		out.uri = sip.Uri{Scheme: "tel", User: num}
	case scheme == "sip" || scheme == "sips":
		if err := sip.ParseUri(uriPart, &out.uri); err != nil || out.uri.Host == "" || out.uri.Wildcard {
			return out, fmt.Errorf("%w: %q is not a SIP URI", errReferTo, clip(uriPart))
		}
	default:
		return out, fmt.Errorf("%w: scheme %q", errReferTo, clip(scheme))
	}
	for _, h := range strings.Split(headers, "&") {
		name, val, _ := strings.Cut(h, "=")
		if !strings.EqualFold(name, "replaces") {
			continue
		}
		raw, err := url.PathUnescape(val)
		if err != nil {
			return out, fmt.Errorf("%w: Replaces %q: %v", errReferTo, clip(val), err)
		}
		r, err := parseReplaces(raw)
		if err != nil {
			return out, err
		}
		out.replaces = &r
	}
	return out, nil
}

// parseReplaces reads "CALLID;to-tag=A;from-tag=B[;early-only]".
func parseReplaces(v string) (replaces, error) {
	var r replaces
	parts := strings.Split(v, ";")
	r.callID = strings.TrimSpace(parts[0])
	if r.callID == "" || strings.ContainsAny(r.callID, " \t\r\n<>\"") {
		return r, fmt.Errorf("%w: Replaces %q has no Call-ID", errReferTo, clip(v))
	}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.toTag = val
		case "from-tag":
			r.fromTag = val
		case "early-only":
			r.earlyOnly = true
		}
	}
	return r, nil
}

// dialogTags are a leg's dialog tags: ours and the party's.
func dialogTags(l *leg) (local, remote string) {
	switch {
	case l.srv != nil:
		local, _ = l.srv.InviteRequest.To().Params.Get("tag")
		remote, _ = l.srv.InviteRequest.From().Params.Get("tag")
	case l.cli != nil:
		local, _ = l.cli.InviteRequest.From().Params.Get("tag")
		if l.cli.InviteResponse != nil && l.cli.InviteResponse.To() != nil {
			remote, _ = l.cli.InviteResponse.To().Params.Get("tag")
		}
	}
	return local, remote
}

// inDialog reports whether an in-dialog request req (INFO, REFER,
// re-INVITE) from l's party carries l's dialog tags: its To tag ours, its
// From tag the party's (RFC 3261 12.2.2). A Call-ID alone is not enough
// to act on a call.
func inDialog(l *leg, req *sip.Request) bool {
	if req.From() == nil || req.To() == nil {
		return false
	}
	local, remote := dialogTags(l)
	to, _ := req.To().Params.Get("tag")
	from, _ := req.From().Params.Get("tag")
	return local != "" && to == local && from == remote
}

// matches reports whether r names l's dialog (tags in either orientation;
// missing tags are not held against it).
func (r *replaces) matches(l *leg) bool {
	if l.callID != r.callID {
		return false
	}
	local, remote := dialogTags(l)
	ok := func(a, b string) bool { return a == "" || a == b }
	return (ok(r.toTag, local) && ok(r.fromTag, remote)) || (ok(r.toTag, remote) && ok(r.fromTag, local))
}

func (s *Switch) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	}
	callID := req.CallID()
	if callID == nil || req.CSeq() == nil || req.To() == nil || req.From() == nil {
		respond(sip.StatusBadRequest, "Bad Request")
		return
	}
	if tag, _ := req.To().Params.Get("tag"); tag == "" {
		respond(sip.StatusForbidden, "REFER Outside A Call") // we keep no out-of-dialog subscriptions
		return
	}
	hs := req.GetHeaders("Refer-To")
	if len(hs) != 1 {
		respond(sip.StatusBadRequest, "Need One Refer-To")
		return
	}
	target, err := parseReferTo(hs[0].Value())
	if err != nil {
		s.log.Info("sip refer: bad Refer-To", "err", err)
		respond(sip.StatusBadRequest, "Bad Refer-To")
		return
	}
	notify := true
	if h := req.GetHeader("Refer-Sub"); h != nil && strings.EqualFold(strings.TrimSpace(h.Value()), "false") {
		notify = false
	}

	// Whether the target user is a station of the directory (a lookup
	// that may block: before taking the switch's lock).
	known := target.replaces == nil && s.knownStation(target.uri.User)

	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.byCallID[callID.Value()]
	if l == nil || !inDialog(l, req) {
		respond(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	p := s.legs[l.bridged]
	if l.state != stAnswered || p == nil {
		respond(sip.StatusForbidden, "Not In A Bridged Call")
		return
	}
	r := &referral{referrer: l, notify: notify, event: "refer;id=" + strconv.FormatUint(uint64(req.CSeq().SeqNo), 10),
		frags: make(chan referFrag, 4)}

	if rep := target.replaces; rep != nil {
		other := s.byCallID[rep.callID]
		if other == nil || other == l || !rep.matches(other) {
			respond(sip.StatusCallTransactionDoesNotExists, "Replaced Call Not Here")
			return
		}
		q := s.legs[other.bridged]
		if other.state != stAnswered || q == nil || q == p {
			respond(sip.StatusForbidden, "Replaced Call Not Bridged")
			return
		}
		respond(sip.StatusAccepted, "Accepted")
		go s.sendReferNotifies(r)
		s.bridge(p, q)
		r.frags <- referFrag{status: "SIP/2.0 200 OK", final: true, after: func() {
			for _, x := range []*leg{l, other} {
				if s.legs[x.id] == x {
					s.hangup(x, telephony.CauseNormal)
				}
			}
		}}
		return
	}

	to, err := s.referDestination(target.uri, known)
	var d dest
	if err == nil {
		d, err = s.parseDest(to, nil)
	}
	if err != nil {
		s.log.Info("sip refer: destination refused", "leg", l.id, "err", err)
		respond(sip.StatusNotFound, "Not Found")
		return
	}
	respond(sip.StatusAccepted, "Accepted")
	go s.sendReferNotifies(r)
	r.frags <- referFrag{status: "SIP/2.0 100 Trying"}
	p.sig.pendingReferral = r
	t, err := s.transfer(p, d, to)
	p.sig.pendingReferral = nil
	// Nothing placed (no RTP port, the INVITE not sent…): the call goes
	// back if both legs are still up; referFailed looks again, as s.mu
	// was released while the INVITE was being sent.
	if err != nil {
		s.log.Warn("sip refer: transfer failed", "leg", p.id, "err", err)
		s.referFailed(r, p, telephony.CauseFailed)
		return
	}
	_ = t
}

// knownStation reports whether the directory has a station called name.
func (s *Switch) knownStation(name string) bool {
	if name == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := s.opt.Registrar.cfg.Credentials.StationPassword(ctx, name)
	return err == nil
}

// referDestination turns a Refer-To URI into an Originate destination;
// known: the user is a station of the directory.
func (s *Switch) referDestination(u sip.Uri, known bool) (string, error) {
	if u.Scheme == "tel" {
		return telephony.TelPrefix + u.User, nil
	}
	if u.User == "" {
		return "", fmt.Errorf("%w: Refer-To %s has no user", telephony.ErrBadDestination, u.Host)
	}
	if sameHost(u.Host, s.ip) && (u.Port == 0 || u.Port == s.port || (s.tls != nil && u.Port == s.tls.port)) {
		if !known && len(s.opt.Registrar.Lookup(u.User)) == 0 && isNumber(u.User) {
			return telephony.TelPrefix + u.User, nil
		}
		return telephony.StationPrefix + u.User, nil
	}
	out := sip.Uri{Scheme: "sip", User: u.User, Host: u.Host, Port: u.Port}
	return out.String(), nil
}

// referDone: the transfer a REFER asked for answered. Needs s.mu.
func (s *Switch) referDone(r *referral) {
	l := r.referrer
	r.frags <- referFrag{status: "SIP/2.0 200 OK", final: true, after: func() {
		if s.legs[l.id] == l {
			s.hangup(l, telephony.CauseNormal)
		}
	}}
}

// referFailed: the transfer a REFER asked for ended without an answer
// (with cause). If the transferred leg p (nil when it had moved on) and
// the referrer are both still up and alone, they are bridged back.
// Needs s.mu.
func (s *Switch) referFailed(r *referral, p *leg, cause string) {
	l := r.referrer
	r.frags <- referFrag{status: sipfragFor(cause), final: true}
	if p != nil && s.legs[p.id] == p && s.legs[l.id] == l && p.state == stAnswered && l.state == stAnswered &&
		p.bridged == "" && l.bridged == "" && p.sig.transferTo == nil {
		s.bridge(p, l)
	}
}

// sipfragFor is the sipfrag status line a failed transfer reports.
func sipfragFor(cause string) string {
	switch cause {
	case telephony.CauseBusy:
		return "SIP/2.0 486 Busy Here"
	case telephony.CauseNoAnswer:
		return "SIP/2.0 480 Temporarily Unavailable"
	case telephony.CauseRejected:
		return "SIP/2.0 603 Decline"
	case telephony.CauseCancelled:
		return "SIP/2.0 487 Request Terminated"
	}
	return "SIP/2.0 503 Service Unavailable"
}

// sendReferNotifies sends r's NOTIFYs in order until the final one.
func (s *Switch) sendReferNotifies(r *referral) {
	for f := range r.frags {
		if r.notify {
			s.sendNotify(r, f)
		}
		if f.final {
			if f.after != nil {
				s.mu.Lock()
				f.after()
				s.mu.Unlock()
			}
			return
		}
	}
}

// sendNotify sends one NOTIFY in the referrer's dialog and waits (a
// little) for its answer, so that NOTIFYs and a following BYE keep order.
func (s *Switch) sendNotify(r *referral, f referFrag) {
	l := r.referrer
	var target sip.Uri
	switch {
	case l.srv != nil && l.srv.InviteRequest.Contact() != nil:
		target = l.srv.InviteRequest.Contact().Address
	case l.cli != nil && l.cli.InviteResponse != nil && l.cli.InviteResponse.Contact() != nil:
		target = l.cli.InviteResponse.Contact().Address
	default:
		return
	}
	req := sip.NewRequest(sip.NOTIFY, target)
	req.AppendHeader(sip.NewHeader("Event", r.event))
	state := "active;expires=60"
	if f.final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(f.status + "\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	var err error
	if l.srv != nil {
		_, err = l.srv.Do(ctx, req)
	} else {
		_, err = l.cli.Do(ctx, req)
	}
	if err != nil {
		s.log.Info("sip refer: NOTIFY not answered", "leg", l.id, "err", err)
	}
}
