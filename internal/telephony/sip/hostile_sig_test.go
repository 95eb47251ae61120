package sip

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// Malformed and hostile in-dialog requests (re-INVITE, INFO, REFER) for a
// live call never crash the switch nor end the call: afterwards an INFO
// DTMF on the call still gives its event.
func TestHostileInDialogRequests(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	agent := newSigPhone(t, f, "1001", "device")
	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, _ := agentLeg(t, f, agent)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	callID := call.cli.InviteRequest.CallID().Value()
	fromTag, _ := call.cli.InviteRequest.From().Params.Get("tag")
	toTag, _ := call.cli.InviteResponse.To().Params.Get("tag")
	c, err := net.DialUDP("udp", nil, f.sw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := func(method, extra, body string, cseq int, withTo bool) []byte {
		to := fmt.Sprintf("To: <sip:900100200@127.0.0.1>;tag=%s\r\n", toTag)
		if !withTo {
			to = ""
		}
		return []byte(fmt.Sprintf("%s sip:centralita@127.0.0.1 SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=z9hG4bK%s%d\r\n"+
			"From: <sip:+34600111222@127.0.0.1>;tag=%s\r\n%s"+
			"Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:x@%s>\r\nMax-Forwards: 70\r\n%s"+
			"Content-Length: %d\r\n\r\n%s",
			method, c.LocalAddr(), strings.ToLower(method), cseq, fromTag, to, callID, cseq, method, c.LocalAddr(), extra, len(body), body))
	}
	big := strings.Repeat("A", 3000)
	junk := [][]byte{
		msg("REFER", "", "", 10, false),
		msg("REFER", "Refer-To: <sip:"+big+"@127.0.0.1>\r\n", "", 11, true),
		msg("REFER", "Refer-To: <sip:1002@127.0.0.1?Replaces=%ZZ%>\r\n", "", 12, true),
		msg("REFER", "Refer-To: <\r\n", "", 13, true),
		msg("REFER", "Refer-To: <sip:1@h>\r\nRefer-To: <sip:2@h>\r\n", "", 14, true),
		msg("REFER", "Refer-To: <sip:1002@127.0.0.1?Replaces="+callID+"%3Bto-tag%3D"+toTag+">\r\n", "", 15, true), // replaces itself
		msg("INFO", "Content-Type: application/dtmf-relay\r\n", "Signal=\x00\xff", 16, true),
		msg("INFO", "Content-Type: application/dtmf-relay\r\n", big, 17, true),
		msg("INFO", "Content-Type: application/dtmf\r\n", "", 18, true),
		msg("INVITE", "Content-Type: application/sdp\r\n", "v=0\r\nm=audio 99999999 RTP/AVP 0\r\n", 19, true),
		msg("INVITE", "Content-Type: application/sdp\r\n", "v=0\r\nc=IN IP4 ::::\r\nm=audio 4000 RTP/AVP 0\r\n", 20, true),
		msg("INVITE", "Content-Type: application/sdp\r\n", string(sdpWith(4000, "")), 21, false), // no To tag
		msg("INVITE", "Content-Type: application/sdp\r\n", string(sdpWith(4000, "")), 1, true),   // CSeq going back
		msg("INVITE", "Content-Type: application/sdp\r\n", big, 22, true),
		msg("NOTIFY", "Event: refer\r\n", "SIP/2.0 200 OK", 23, true),
	}
	for _, j := range junk {
		if _, err := c.Write(j); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	for _, leg := range []string{cleg, aleg} {
		for _, typ := range f.ev.of(leg) {
			if typ == telephony.Hangup || typ == telephony.Unbridged || typ == telephony.DTMF {
				t.Fatalf("%s: %s after hostile requests: %v", leg, typ, f.ev.of(leg))
			}
		}
	}
	// Still alive and the call still up: a proper INFO gives its digit.
	c2 := msg("INFO", "Content-Type: application/dtmf\r\n", "9", 30, true)
	if _, err := c.Write(c2); err != nil {
		t.Fatal(err)
	}
	ev := f.ev.wait(t, cleg, telephony.DTMF, evWait)
	if ev.Digit != "9" {
		t.Errorf("digit %q", ev.Digit)
	}
}
