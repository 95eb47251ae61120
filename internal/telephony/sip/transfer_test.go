package sip

import (
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// Transfer inside the switch with real SIP legs: the customer, bridged to
// agent 1001, is transferred to station 1002 (audio follows), then to a
// number through the trunk, which sees the customer's number as caller id.
func TestTransferToStationThenNumber(t *testing.T) {
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
	a2 := newSigPhone(t, f, "1002", "other")
	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	aleg, _ := agentLeg(t, f, a1)
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	if err := f.sw.Transfer(bg, cleg, "station:1002"); err != nil {
		t.Fatal(err)
	}
	ans := eventWith(t, f, telephony.Answered, cleg)
	bcall := a2.next(t)
	f.ev.wait(t, ans.Leg, telephony.Bridged, evWait)
	if r := eventWith(t, f, telephony.Ringing, cleg); r.Leg != ans.Leg || r.To != "station:1002" || r.From != "+34600111222" {
		t.Errorf("transfer Ringing %+v", r)
	}
	call.sendRTP(10)
	waitCount(t, "1002 hears the customer", bcall.got.Load, 8)
	// The first agent was released, not hung up.
	waitEvents(t, f, aleg, telephony.Ringing, telephony.Answered, telephony.Bridged, telephony.Unbridged)

	// Now to a national number through the trunk.
	if err := f.sw.Transfer(bg, cleg, "911 234 567"); err != nil {
		t.Fatal(err)
	}
	var tleg string
	for _, ev := range waitAll(t, f, telephony.Answered, cleg, 2) {
		if ev.Leg != ans.Leg {
			tleg = ev.Leg
		}
	}
	f.ev.wait(t, tleg, telephony.Bridged, evWait)
	inv := ft.lastAccepted(t)
	if inv.Recipient.User != "+34911234567" || inv.From().Address.User != "+34600111222" {
		t.Errorf("trunk INVITE to %s from %s", inv.Recipient.String(), inv.From().Value())
	}
	// 1002's leg was released (Unbridged), still up.
	waitEvents(t, f, ans.Leg, telephony.Ringing, telephony.Answered, telephony.Bridged, telephony.Unbridged)
	select {
	case <-bcall.ended:
		t.Error("1002's call was hung up by the transfer")
	default:
	}
}

// waitAll waits for n events of type typ with Other == other.
func waitAll(t *testing.T, f *swFixture, typ telephony.EventType, other string, n int) []telephony.Event {
	t.Helper()
	deadline := time.Now().Add(evWait)
	for {
		var out []telephony.Event
		f.ev.mu.Lock()
		for _, ev := range f.ev.all {
			if ev.Type == typ && ev.Other == other {
				out = append(out, ev)
			}
		}
		f.ev.mu.Unlock()
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s events with Other %s, want %d", len(out), typ, other, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
