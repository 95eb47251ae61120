package sip

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

// SIP INFO DTMF from a customer's phone: dtmf-relay and dtmf bodies give
// DTMF events; other bodies 415, bad ones 400, an empty one 200; an INFO
// for no call 481.
func TestInfoDTMF(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	call, leg := answeredCustomer(t, f, cust, "+34600111222")
	info := func(ct, body string) int {
		t.Helper()
		req := sip.NewRequest(sip.INFO, call.cli.InviteResponse.Contact().Address)
		if ct != "" {
			req.AppendHeader(sip.NewHeader("Content-Type", ct))
		}
		if body != "" {
			req.SetBody([]byte(body))
		}
		ctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		res, err := call.cli.Do(ctx, req)
		if err != nil {
			t.Fatalf("INFO: %v", err)
		}
		return res.StatusCode
	}
	for _, c := range []struct {
		ct, body string
		code     int
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200},
		{"application/dtmf", "#", 200},
		{"Application/DTMF-Relay; charset=utf-8", "Signal=11\r\nDuration=100\r\n", 200},
		{"application/dtmf-relay", "Signal=x\r\n", 400},
		{"application/media_control+xml", "<media_control/>", 415},
		{"", "", 200},
	} {
		if code := info(c.ct, c.body); code != c.code {
			t.Errorf("INFO %s %q: %d, want %d", c.ct, c.body, code, c.code)
		}
	}
	deadline := time.Now().Add(evWait)
	var digits string
	for time.Now().Before(deadline) {
		digits = ""
		f.ev.mu.Lock()
		for _, ev := range f.ev.all {
			if ev.Leg == leg && ev.Type == telephony.DTMF {
				digits += ev.Digit
			}
		}
		f.ev.mu.Unlock()
		if len(digits) >= 3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if digits != "5##" {
		t.Errorf("DTMF events %q, want %q", digits, "5##")
	}

	// Outside any call.
	req := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: f.sw.Addr().Port})
	fp := sip.NewParams()
	fp.Add("tag", "x1")
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "a", Host: "127.0.0.1"}, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "b", Host: "127.0.0.1"}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf"))
	req.SetBody([]byte("1"))
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	res, err := cust.client.Do(ctx, req)
	if err != nil || res.StatusCode != sip.StatusCallTransactionDoesNotExists {
		t.Errorf("INFO outside a call: %v %v", err, res)
	}
}
