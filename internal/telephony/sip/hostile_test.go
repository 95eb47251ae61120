package sip

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

// sipgo builds a server transaction from Via and CSeq alone and hands the
// request to our handlers even when Call-ID, From or To are missing (or
// the Content-Length lies): every handler must cope with that, for every
// method, without panicking (a panic in a handler goroutine kills the
// whole process). After the junk, a normal call still works.
func TestHeaderlessRequestsNeverPanic(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	c, err := net.DialUDP("udp", nil, f.sw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A call in progress, so that Call-ID matches reach the in-dialog code.
	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	callID := call.cli.InviteRequest.CallID().Value()

	headers := map[string]string{
		"From":    "From: <sip:+34600111222@127.0.0.1>;tag=abc\r\n",
		"To":      "To: <sip:900100200@127.0.0.1>;tag=def\r\n",
		"Call-ID": "Call-ID: " + callID + "\r\n",
		"Contact": "Contact: <sip:x@" + c.LocalAddr().String() + ">\r\n",
	}
	bodies := map[string]string{
		"INVITE": "Content-Type: application/sdp\r\n\r\nv=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n",
		"INFO":   "Content-Type: application/dtmf\r\n\r\n5",
		"REFER":  "Refer-To: <sip:1002@127.0.0.1>\r\n\r\n",
		"NOTIFY": "Event: refer\r\nContent-Type: message/sipfrag\r\n\r\nSIP/2.0 200 OK",
	}
	methods := []string{"INVITE", "ACK", "BYE", "CANCEL", "INFO", "REFER", "NOTIFY", "OPTIONS", "REGISTER", "UPDATE", "MESSAGE"}
	n := 0
	for _, m := range methods {
		for _, missing := range []string{"Call-ID", "From", "To", "Contact", "none"} {
			for _, lie := range []string{"", "Content-Length: 99999\r\n", "Content-Length: -5\r\n", "Content-Length: x\r\n"} {
				n++
				var b strings.Builder
				fmt.Fprintf(&b, "%s sip:900100200@127.0.0.1 SIP/2.0\r\n", m)
				fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bKhostile%d\r\n", c.LocalAddr(), n)
				for _, h := range []string{"From", "To", "Call-ID", "Contact"} {
					if h != missing {
						b.WriteString(headers[h])
					}
				}
				fmt.Fprintf(&b, "CSeq: %d %s\r\nMax-Forwards: 70\r\n%s", 100+n, m, lie)
				body, ok := bodies[m]
				if !ok {
					body = "\r\n"
				}
				b.WriteString(body)
				if _, err := c.Write([]byte(b.String())); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Still alive: a new caller is offered and answered, and the first
	// call was not torn down by requests it could not match.
	_, leg2 := answeredCustomer(t, f, cust, "+34600999888")
	if leg2 == cleg {
		t.Fatal("same leg twice")
	}
	// The junk carried the call's Call-ID with other tags: not its dialog.
	// It must neither end the call nor press keys on it.
	for _, typ := range f.ev.of(cleg) {
		if typ == telephony.Hangup || typ == telephony.DTMF {
			t.Errorf("%s: %s from requests outside its dialog: %v", cleg, typ, f.ev.of(cleg))
		}
	}
}

// FuzzSIPRequest sends mutated SIP requests to a live switch that has an
// answered call whose Call-ID and tags the seeds use, so mutations reach
// the in-dialog handlers (BYE, ACK, INFO, REFER, re-INVITE) as well as new
// INVITEs. A panic in any handler kills the process: the fuzzer reports
// it. After the inputs the switch must still answer an OPTIONS.
func FuzzSIPRequest(f *testing.F) {
	cust := newDevice(f, "customer", "")
	fx := startSwitch(f, cust.addr.String())
	call, _ := answeredCustomer(f, fx, cust, "+34600111222")
	callID := call.cli.InviteRequest.CallID().Value()
	fromTag, _ := call.cli.InviteRequest.From().Params.Get("tag")
	toTag, _ := call.cli.InviteResponse.To().Params.Get("tag")
	c, err := net.DialUDP("udp", nil, fx.sw.Addr())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	msg := func(method, extra, body string) string {
		return fmt.Sprintf("%s sip:centralita@127.0.0.1 SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=z9hG4bKfuzz\r\n"+
			"From: <sip:+34600111222@127.0.0.1>;tag=%s\r\nTo: <sip:900100200@127.0.0.1>;tag=%s\r\n"+
			"Call-ID: %s\r\nCSeq: 50 %s\r\nContact: <sip:x@%s>\r\nMax-Forwards: 70\r\n%s"+
			"Content-Length: %d\r\n\r\n%s",
			method, c.LocalAddr(), fromTag, toTag, callID, method, c.LocalAddr(), extra, len(body), body)
	}
	sdp := string(sdpWith(4000, ""))
	for _, s := range []string{
		msg("INFO", "Content-Type: application/dtmf-relay\r\n", "Signal=5\r\nDuration=160\r\n"),
		msg("INFO", "Content-Type: application/dtmf\r\n", "#"),
		msg("REFER", "Refer-To: <sip:1002@127.0.0.1>\r\n", ""),
		msg("REFER", "Refer-To: <sip:1002@127.0.0.1?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n", ""),
		msg("INVITE", "Content-Type: application/sdp\r\n", sdp),
		msg("INVITE", "Content-Type: application/sdp\r\n", strings.Replace(sdp, "a=sendrecv", "a=sendonly", 1)),
		msg("ACK", "", ""),
		msg("OPTIONS", "", ""),
		msg("NOTIFY", "Event: refer\r\nContent-Type: message/sipfrag\r\n", "SIP/2.0 200 OK\r\n"),
		msg("CANCEL", "", ""),
	} {
		f.Add([]byte(s))
	}
	// Afterwards (cleanups run last) the switch still answers an
	// out-of-dialog OPTIONS (the registrar's).
	f.Cleanup(func() {
		ua, err := sipgo.NewUA()
		if err != nil {
			f.Fatal(err)
		}
		defer ua.Close()
		cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
		if err != nil {
			f.Fatal(err)
		}
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: fx.sw.Addr().Port})
		ctx, cancel := context.WithTimeout(bg, evWait)
		defer cancel()
		if res, err := cl.Do(ctx, req); err != nil || res.StatusCode != 200 {
			f.Errorf("OPTIONS after fuzzing: %v %v", res, err)
		}
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := c.Write(b); err != nil {
			t.Skip(err) // too big for a datagram
		}
	})
}

// An INVITE with a To tag belongs to a dialog: when the switch has no
// such call (a re-INVITE that crossed our BYE) it gets 481 and is not
// offered as a new call.
func TestInviteForUnknownDialog(t *testing.T) {
	t.Parallel()
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	uri := sip.Uri{Scheme: "sip", User: "900100200", Host: "127.0.0.1", Port: f.sw.Addr().Port}
	req := sip.NewRequest(sip.INVITE, uri)
	fp, tp := sip.NewParams(), sip.NewParams()
	fp.Add("tag", "caller")
	tp.Add("tag", "gone")
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "+34600111222", Host: "127.0.0.1"}, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: uri, Params: tp})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdpWith(4000, ""))
	ctx, cancel := context.WithTimeout(bg, evWait)
	defer cancel()
	res, err := cust.client.Do(ctx, req)
	if err != nil || res.StatusCode != sip.StatusCallTransactionDoesNotExists {
		t.Fatalf("got %v %v, want 481", res, err)
	}
	f.ev.mu.Lock()
	defer f.ev.mu.Unlock()
	if len(f.ev.all) != 0 {
		t.Errorf("events for an INVITE outside any call: %s", f.ev.dumpLocked())
	}
}
