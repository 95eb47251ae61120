package sip

// Test helpers for the signalling side (trunks, transfer, re-INVITE, INFO,
// REFER): world capabilities the contract needs and a scriptable phone.

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

// inboundTrunks makes an inbound-only trunk of each address ("host" or
// "host:port"), the way tests used to list trunk addresses.
func inboundTrunks(addrs ...string) []Trunk {
	var out []Trunk
	for i, a := range addrs {
		out = append(out, Trunk{Name: "in" + string(rune('a'+i)), Address: a, Inbound: true})
	}
	return out
}

// worldNumberDevice is the key of the contract world's external number
// party (a device behind the "pstn" trunk) in sipWorld.stations.
const worldNumberDevice = "pstn"

// worldTrunks are the contract world's trunks: "pstn" (first, so numbers
// go out through it) reaches the number device; "customers" brings the
// customer device's calls in. Neither has a Country, so the customers'
// dialled number ("900100200") reaches Incoming as sent.
func worldTrunks(cust, number *device) []Trunk {
	return []Trunk{
		{Name: "pstn", Address: number.addr.String(), CallerID: "+34910000000"},
		{Name: "customers", Address: cust.addr.String(), Inbound: true},
	}
}

// devices are every party of the world, for finding a leg's peer.
func (w *sipWorld) devices() []*device {
	out := append([]*device{w.cust}, w.stationList()...)
	if d := w.stations[worldNumberDevice]; d != nil {
		out = append(out, d)
	}
	return out
}

// sigPhone is a registered agent phone that answers every call at once
// and can send in-dialog requests (REFER, INFO, re-INVITE); it records the
// NOTIFY bodies it gets.
type sigPhone struct {
	t      *testing.T
	user   string
	ua     *sipgo.UserAgent
	client *sipgo.Client
	dua    *sipgo.DialogUA
	addr   *net.UDPAddr

	mu       sync.Mutex
	calls    map[string]*sigCall
	in       chan *sigCall
	notifies chan string
}

type sigCall struct {
	srv   *sipgo.DialogServerSession
	rtp   *net.UDPConn
	got   atomic.Uint64
	ended chan struct{}
	once  sync.Once
}

func newSigPhone(t *testing.T, f *swFixture, user, password string) *sigPhone {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &sigPhone{t: t, user: user, addr: conn.LocalAddr().(*net.UDPAddr), calls: map[string]*sigCall{},
		in: make(chan *sigCall, 8), notifies: make(chan string, 16)}
	p.ua, _ = sipgo.NewUA(sipgo.WithUserAgent("sig-phone"))
	srv, _ := sipgo.NewServer(p.ua)
	p.client, _ = sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(p.addr.String()))
	p.dua = &sipgo.DialogUA{Client: p.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: p.addr.Port}}}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := p.dua.ReadInvite(req, tx)
		if err != nil {
			return
		}
		rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return
		}
		c := &sigCall{srv: dlg, rtp: rtp, ended: make(chan struct{})}
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := rtp.ReadFromUDP(buf); err != nil {
					return
				}
				c.got.Add(1)
			}
		}()
		p.mu.Lock()
		p.calls[req.CallID().Value()] = c
		p.mu.Unlock()
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		_ = dlg.RespondSDP(buildSDP("127.0.0.1", rtp.LocalAddr().(*net.UDPAddr).Port, 3)) // returns on the ACK
		p.in <- c
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if c := p.call(req.CallID().Value()); c != nil {
			_ = c.srv.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		c := p.call(req.CallID().Value())
		if c == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No Call", nil))
			return
		}
		_ = c.srv.ReadBye(req, tx)
		c.once.Do(func() { close(c.ended) })
	})
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		ev := ""
		if h := req.GetHeader("Event"); h != nil {
			ev = h.Value()
		}
		state := ""
		if h := req.GetHeader("Subscription-State"); h != nil {
			state = h.Value()
		}
		p.notifies <- strings.TrimSpace(string(req.Body())) + " | " + ev + " | " + state
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	if err := waitServing(p.ua, p.addr.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		for _, c := range p.calls {
			c.rtp.Close()
		}
		p.mu.Unlock()
		conn.Close()
		<-done
		p.ua.Close()
	})
	d := &device{t: t, user: user, client: p.client}
	d.registerContact(f.sw, password, p.addr.Port)
	return p
}

func (p *sigPhone) call(id string) *sigCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[id]
}

// next is the phone's next answered call.
func (p *sigPhone) next(t *testing.T) *sigCall {
	t.Helper()
	select {
	case c := <-p.in:
		return c
	case <-time.After(evWait):
		t.Fatalf("%s: no call", p.user)
		return nil
	}
}

// do sends an in-dialog request of the phone's call c to the switch.
func (c *sigCall) do(t *testing.T, req *sip.Request) *sip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	res, err := c.srv.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Method, err)
	}
	return res
}

// request is a new in-dialog request towards the switch (its Contact).
func (c *sigCall) request(method sip.RequestMethod) *sip.Request {
	return sip.NewRequest(method, c.srv.InviteRequest.Contact().Address)
}

// notify waits for the phone's next NOTIFY: "sipfrag | Event | Subscription-State".
func (p *sigPhone) notify(t *testing.T) string {
	t.Helper()
	select {
	case n := <-p.notifies:
		return n
	case <-time.After(evWait):
		t.Fatalf("%s: no NOTIFY", p.user)
		return ""
	}
}

// answeredCustomer is a customer call in through the trunk, answered.
func answeredCustomer(t testing.TB, f *swFixture, cust *device, from string) (*devCall, string) {
	t.Helper()
	call, res := cust.invite(f.sw, from, "900100200")
	var leg string
	deadline := time.Now().Add(evWait)
	for leg == "" {
		f.ev.mu.Lock()
		for _, ev := range f.ev.all {
			if ev.Type == telephony.Incoming && ev.From == from {
				leg = ev.Leg
			}
		}
		f.ev.mu.Unlock()
		if leg == "" {
			if time.Now().After(deadline) {
				t.Fatalf("no Incoming from %s", from)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := f.sw.Answer(bg, leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	return call, leg
}

// agentLeg originates to station and returns the answered leg and the phone's call.
func agentLeg(t *testing.T, f *swFixture, p *sigPhone) (string, *sigCall) {
	t.Helper()
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:" + p.user, From: "+34600111222"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	return leg, p.next(t)
}

// waitEvents waits until leg's event types are want.
func waitEvents(t *testing.T, f *swFixture, leg string, want ...telephony.EventType) {
	t.Helper()
	deadline := time.Now().Add(evWait)
	for fmt.Sprint(f.ev.of(leg)) != fmt.Sprint(want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: events %v, want %v", leg, f.ev.of(leg), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventWith waits for an event of type typ with Other == other and returns it.
func eventWith(t *testing.T, f *swFixture, typ telephony.EventType, other string) telephony.Event {
	t.Helper()
	deadline := time.Now().Add(evWait)
	for {
		f.ev.mu.Lock()
		for _, ev := range f.ev.all {
			if ev.Type == typ && ev.Other == other {
				f.ev.mu.Unlock()
				return ev
			}
		}
		f.ev.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s with Other %s", typ, other)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sendRTP sends n PCMU packets from the phone's call to the switch.
func (c *sigCall) sendRTP(t *testing.T, n int) {
	t.Helper()
	offer, err := parseSDP(c.srv.InviteRequest.Body())
	if err != nil {
		t.Fatal(err)
	}
	to := &net.UDPAddr{IP: offer.IP, Port: offer.Port}
	pkt := make([]byte, 12+160)
	for i := 0; i < n; i++ {
		pkt[0], pkt[1] = 0x80, 0
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(160*i))
		binary.BigEndian.PutUint32(pkt[8:], 0xbeef)
		_, _ = c.rtp.WriteToUDP(pkt, to)
		time.Sleep(2 * time.Millisecond)
	}
}

// countingSocket is an RTP socket that counts what it receives.
type countingSocket struct {
	conn *net.UDPConn
	got  atomic.Uint64
}

func newCountingSocket(t *testing.T) *countingSocket {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &countingSocket{conn: c}
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				return
			}
			s.got.Add(1)
		}
	}()
	t.Cleanup(func() { c.Close() })
	return s
}

func (s *countingSocket) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }
