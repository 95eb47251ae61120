package sip

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

// refer sends REFER with Refer-To from the phone's call c.
func (c *sigCall) refer(t *testing.T, referTo string) *sip.Response {
	t.Helper()
	req := c.request(sip.REFER)
	if referTo != "" {
		req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	}
	req.AppendHeader(sip.NewHeader("Referred-By", "<sip:agent@127.0.0.1>"))
	return c.do(t, req)
}

func wantNotify(t *testing.T, p *sigPhone, frag, state string) {
	t.Helper()
	n := p.notify(t)
	parts := strings.Split(n, " | ")
	if len(parts) != 3 || parts[0] != frag || !strings.HasPrefix(parts[1], "refer") || !strings.HasPrefix(parts[2], state) {
		t.Fatalf("NOTIFY %q, want sipfrag %q, Event refer, Subscription-State %s", n, frag, state)
	}
}

// Blind REFER from the agent's phone: the customer goes to station 1002,
// the agent gets 202, NOTIFY 100 then 200, and is hung up.
func TestReferBlind(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	a1 := newSigPhone(t, f, "1001", "device")
	a2 := newSigPhone(t, f, "1002", "other")
	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, acall := agentLeg(t, f, a1)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	res := acall.refer(t, fmt.Sprintf("<sip:1002@127.0.0.1:%d>", f.sw.Addr().Port))
	if res.StatusCode != sip.StatusAccepted {
		t.Fatalf("REFER: %d", res.StatusCode)
	}
	wantNotify(t, a1, "SIP/2.0 100 Trying", "active")
	bcall := a2.next(t)
	wantNotify(t, a1, "SIP/2.0 200 OK", "terminated")
	waitClosed(t, acall.ended, "the referrer's call is hung up")
	ans := eventWith(t, f, telephony.Answered, cleg)
	f.ev.wait(t, ans.Leg, telephony.Bridged, evWait)
	waitEvents(t, f, aleg, telephony.Ringing, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Hangup)
	waitEvents(t, f, cleg, telephony.Incoming, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Bridged)
	call.sendRTP(10)
	waitCount(t, "1002 hears the customer", bcall.got.Load, 8)
}

// A blind REFER to a station with no device: NOTIFY with the failure,
// and the customer is bridged back to the agent.
func TestReferBlindFailsAndReturns(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	a1 := newSigPhone(t, f, "1001", "device")
	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, acall := agentLeg(t, f, a1)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	if res := acall.refer(t, fmt.Sprintf("<sip:1003@127.0.0.1:%d>", f.sw.Addr().Port)); res.StatusCode != sip.StatusAccepted {
		t.Fatalf("REFER: %d", res.StatusCode)
	}
	wantNotify(t, a1, "SIP/2.0 100 Trying", "active")
	wantNotify(t, a1, "SIP/2.0 503 Service Unavailable", "terminated")
	waitEvents(t, f, cleg, telephony.Incoming, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Bridged)
	waitEvents(t, f, aleg, telephony.Ringing, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Bridged)
	call.sendRTP(10)
	waitCount(t, "the agent hears the customer again", acall.got.Load, 8)
	select {
	case <-acall.ended:
		t.Fatal("the referrer was hung up after a failed transfer")
	default:
	}

	// Requests the switch refuses.
	for _, c := range []struct {
		referTo string
		code    int
	}{
		{"", sip.StatusBadRequest},
		{"<mailto:x@y>", sip.StatusBadRequest},
		{"<sip:@127.0.0.1>", sip.StatusNotFound},
		{"<sip:1002@127.0.0.1?Replaces=nosuchcall%3Bto-tag%3D1%3Bfrom-tag%3D2>", sip.StatusCallTransactionDoesNotExists},
	} {
		if res := acall.refer(t, c.referTo); res.StatusCode != c.code {
			t.Errorf("REFER %q: %d, want %d", c.referTo, res.StatusCode, c.code)
		}
	}
	if err := f.sw.Unbridge(bg, aleg); err != nil {
		t.Fatal(err)
	}
	if res := acall.refer(t, "<sip:1002@127.0.0.1>"); res.StatusCode != sip.StatusForbidden {
		t.Errorf("REFER from a leg not bridged: %d, want 403", res.StatusCode)
	}
}

// Attended REFER: the agent's phone has the customer on call A and
// station 1002 on call B (both through the switch) and transfers A to B
// with Replaces: the customer and 1002 are bridged, both of the agent's
// calls are hung up.
func TestReferAttended(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	a1 := newSigPhone(t, f, "1001", "device")
	a2 := newSigPhone(t, f, "1002", "other")
	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, callA := agentLeg(t, f, a1)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	// the consultation: the agent's second call, bridged to 1002
	bleg, callB := agentLeg(t, f, a1)
	tleg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1002"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, tleg, telephony.Answered, evWait)
	tcall := a2.next(t)
	if err := f.sw.Bridge(bg, bleg, tleg); err != nil {
		t.Fatal(err)
	}
	// Replaces names call B from the phone's side: its tag is the To tag.
	inv := callB.srv.InviteRequest
	ours, _ := callB.srv.InviteResponse.To().Params.Get("tag")
	theirs, _ := inv.From().Params.Get("tag")
	rep := url.QueryEscape(fmt.Sprintf("%s;to-tag=%s;from-tag=%s", inv.CallID().Value(), theirs, ours))
	res := callA.refer(t, fmt.Sprintf("<sip:1002@127.0.0.1:%d?Replaces=%s>", f.sw.Addr().Port, rep))
	if res.StatusCode != sip.StatusAccepted {
		t.Fatalf("REFER: %d", res.StatusCode)
	}
	wantNotify(t, a1, "SIP/2.0 200 OK", "terminated")
	waitClosed(t, callA.ended, "call A hung up")
	waitClosed(t, callB.ended, "call B hung up")
	waitEvents(t, f, cleg, telephony.Incoming, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Bridged)
	waitEvents(t, f, tleg, telephony.Ringing, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Bridged)
	waitEvents(t, f, aleg, telephony.Ringing, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Hangup)
	waitEvents(t, f, bleg, telephony.Ringing, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Hangup)
	call.sendRTP(10)
	waitCount(t, "1002 hears the customer", tcall.got.Load, 8)
	tcall.sendRTP(t, 10)
	waitCount(t, "the customer hears 1002", call.got.Load, 8)
}

// SIPp as an agent phone transferring with REFER: 202, NOTIFY 100 and 200,
// then the switch's BYE; the customer ends up with station 1002.
func TestSIPpReferBlind(t *testing.T) {
	requireSIPp(t)
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	a2 := newSigPhone(t, f, "1002", "other")
	port := freeUDPPort(t)
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	sipp := startSIPp(ctx, t, "sipp_uas_refer.xml", port, "-m", "1", "-set", "swport", fmt.Sprint(f.sw.Addr().Port))
	reg := newDevice(t, "1001", "")
	reg.registerContact(f.sw, "device", port)

	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001", From: "+34600111222"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, aleg, telephony.Answered, evWait)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	bcall := a2.next(t)
	sipp.wait(t)
	f.ev.wait(t, aleg, telephony.Hangup, evWait)
	ans := eventWith(t, f, telephony.Answered, cleg)
	f.ev.wait(t, ans.Leg, telephony.Bridged, evWait)
	call.sendRTP(10)
	waitCount(t, "1002 hears the customer", bcall.got.Load, 8)
}

// A blind REFER to a tel: number with "Refer-Sub: false": no NOTIFY, the
// customer goes out through the trunk with its own number as caller id,
// the referrer is hung up once the number answered.
func TestReferToNumberWithoutSubscription(t *testing.T) {
	cust := newDevice(t, "customer", "")
	ft := newFakeTrunk(t, "", "")
	f := startSwitch(t)
	if err := f.sw.SetTrunks([]Trunk{
		{Name: "carrier", Address: ft.addr.String(), Country: "ES"},
		{Name: "customers", Address: cust.addr.String(), Inbound: true},
	}); err != nil {
		t.Fatal(err)
	}
	a1 := newSigPhone(t, f, "1001", "device")
	_, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, acall := agentLeg(t, f, a1)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	req := acall.request(sip.REFER)
	req.AppendHeader(sip.NewHeader("Refer-To", "<tel:911234567>"))
	req.AppendHeader(sip.NewHeader("Refer-Sub", "false"))
	if res := acall.do(t, req); res.StatusCode != sip.StatusAccepted {
		t.Fatalf("REFER: %d", res.StatusCode)
	}
	ans := eventWith(t, f, telephony.Answered, cleg)
	f.ev.wait(t, ans.Leg, telephony.Bridged, evWait)
	waitClosed(t, acall.ended, "the referrer is hung up")
	if inv := ft.lastAccepted(t); inv.Recipient.User != "+34911234567" || inv.From().Address.User != "+34600111222" {
		t.Errorf("trunk INVITE to %s from %s", inv.Recipient.String(), inv.From().Value())
	}
	select {
	case n := <-a1.notifies:
		t.Errorf("NOTIFY %q despite Refer-Sub: false", n)
	case <-time.After(100 * time.Millisecond):
	}
}
