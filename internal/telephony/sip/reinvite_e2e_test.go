package sip

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

// customerReinvite sends a re-INVITE with body from the customer's call
// and ACKs a 2xx; it returns the response.
func customerReinvite(t *testing.T, call *devCall, body []byte) *sip.Response {
	t.Helper()
	target := call.cli.InviteResponse.Contact().Address
	req := sip.NewRequest(sip.INVITE, target)
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	res, err := call.cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("re-INVITE: %v", err)
	}
	if res.IsSuccess() {
		if err := call.cli.WriteRequest(sip.NewRequest(sip.ACK, target)); err != nil {
			t.Fatalf("ACK: %v", err)
		}
	}
	return res
}

func sdpWith(port int, extra string) []byte {
	return append(buildSDP("127.0.0.1", port, 9), extra...)
}

// A customer's phone holds (a=sendonly), resumes on a new RTP port, and
// offers only PCMA: the switch answers 200 recvonly, sends nothing while
// held, follows the new port, answers 488 to PCMA and keeps the call;
// no Held/Resumed events. The agent's phone re-INVITEs too.
func TestReinviteHoldResumeNewAddress(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	agent := newSigPhone(t, f, "1001", "device")
	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, acall := agentLeg(t, f, agent)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, cleg, telephony.Bridged, evWait)
	acall.sendRTP(t, 10)
	waitCount(t, "customer hears the agent", call.got.Load, 8)

	// Hold: sendonly → recvonly, and the customer gets nothing.
	port := call.rtp.LocalAddr().(*net.UDPAddr).Port
	res := customerReinvite(t, call, withDirection(buildSDP("127.0.0.1", port, 9), "sendonly"))
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("hold answered %d:\n%s", res.StatusCode, res.Body())
	}
	before := quiet(call.got.Load)
	acall.sendRTP(t, 10)
	time.Sleep(50 * time.Millisecond)
	if got := call.got.Load() - before; got != 0 {
		t.Errorf("held customer got %d packets", got)
	}

	// Resume on another port.
	moved := newCountingSocket(t)
	res = customerReinvite(t, call, sdpWith(moved.port(), ""))
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=sendrecv") {
		t.Fatalf("resume answered %d:\n%s", res.StatusCode, res.Body())
	}
	acall.sendRTP(t, 10)
	waitCount(t, "customer's new port hears the agent", moved.got.Load, 8)

	// PCMA only: 488, the call goes on.
	pcma := []byte(strings.Replace(string(sdpWith(moved.port(), "")), "RTP/AVP 0 101", "RTP/AVP 8", 1))
	if res := customerReinvite(t, call, pcma); res.StatusCode != sip.StatusNotAcceptableHere {
		t.Fatalf("PCMA-only re-INVITE: %d", res.StatusCode)
	}
	n := moved.got.Load()
	acall.sendRTP(t, 10)
	waitCount(t, "still connected after 488", moved.got.Load, n+8)

	// inactive and c=0.0.0.0 hold too.
	res = customerReinvite(t, call, []byte(strings.Replace(string(sdpWith(moved.port(), "")), "c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0", 1)))
	if res.StatusCode != 200 {
		t.Fatalf("0.0.0.0 hold: %d", res.StatusCode)
	}
	n = quiet(moved.got.Load)
	acall.sendRTP(t, 10)
	time.Sleep(50 * time.Millisecond)
	if moved.got.Load() != n {
		t.Error("customer on c=0.0.0.0 hold still gets audio")
	}

	// The agent's phone (our originated leg) re-INVITEs: 200 inactive.
	target := acall.srv.InviteRequest.Contact().Address
	req := sip.NewRequest(sip.INVITE, target)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(withDirection(buildSDP("127.0.0.1", acall.rtp.LocalAddr().(*net.UDPAddr).Port, 4), "inactive"))
	res = acall.do(t, req)
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=inactive") {
		t.Fatalf("agent hold answered %d:\n%s", res.StatusCode, res.Body())
	}
	if err := acall.srv.WriteRequest(sip.NewRequest(sip.ACK, target)); err != nil {
		t.Fatal(err)
	}

	// No telephony events for a party's own hold.
	time.Sleep(50 * time.Millisecond)
	for _, leg := range []string{cleg, aleg} {
		for _, typ := range f.ev.of(leg) {
			if typ == telephony.Held || typ == telephony.Resumed {
				t.Errorf("%s: %s event for a phone's hold", leg, typ)
			}
		}
	}
	if err := f.sw.Hangup(bg, cleg, ""); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, call.ended, "customer gets BYE")
}

// A re-INVITE without SDP gets our offer; the ACK's answer moves the media.
func TestReinviteWithoutOffer(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	agent := newSigPhone(t, f, "1001", "device")
	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, acall := agentLeg(t, f, agent)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	moved := newCountingSocket(t)
	target := call.cli.InviteResponse.Contact().Address
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	res, err := call.cli.Do(ctx, sip.NewRequest(sip.INVITE, target))
	if err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "m=audio") {
		t.Fatalf("offerless re-INVITE: %v %v", err, res)
	}
	ack := sip.NewRequest(sip.ACK, target)
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(sdpWith(moved.port(), ""))
	if err := call.cli.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	// The ACK is taken in asynchronously: speak until the new port hears.
	deadline := time.Now().Add(evWait)
	for moved.got.Load() < 8 && time.Now().Before(deadline) {
		acall.sendRTP(t, 2)
		time.Sleep(10 * time.Millisecond)
	}
	waitCount(t, "the port from the ACK hears the agent", moved.got.Load, 8)
}
