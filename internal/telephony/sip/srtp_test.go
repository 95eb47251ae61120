package sip

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// ------------------------------------------------------- test peers --

// peerSRTP is a test peer's SRTP, done with pion/srtp directly (not the
// switch's code): the key it sends with (local, in its SDP) and the
// party's it receives with.
type peerSRTP struct {
	local sdesCrypto

	mu     sync.Mutex
	tx     *srtp.Context
	last   []byte // the last packet sent, encrypted (to replay it)
	tamper atomic.Bool
	plain  atomic.Bool // send in the clear

	rx    atomic.Pointer[srtp.Context] // only the call's reading goroutine decrypts
	dec   []byte
	hdr   rtp.Header
	opens atomic.Uint64 // packets that authenticated
	fails atomic.Uint64 // packets that did not
}

func pionProfile(suite string) srtp.ProtectionProfile {
	if suite == suiteSHA1_32 {
		return srtp.ProtectionProfileAes128CmHmacSha1_32
	}
	return srtp.ProtectionProfileAes128CmHmacSha1_80
}

func randomKey(t testing.TB) []byte {
	k := make([]byte, sdesKeyLen)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newPeerSRTP(t testing.TB, local sdesCrypto) *peerSRTP {
	t.Helper()
	tx, err := srtp.CreateContext(local.Key[:16], local.Key[16:], pionProfile(local.Suite))
	if err != nil {
		t.Fatal(err)
	}
	return &peerSRTP{local: local, tx: tx, dec: make([]byte, 1500)}
}

// receiveWith takes the party's line from its SDP.
func (p *peerSRTP) receiveWith(t testing.TB, c sdesCrypto) {
	t.Helper()
	rx, err := srtp.CreateContext(c.Key[:16], c.Key[16:], pionProfile(c.Suite))
	if err != nil {
		t.Fatal(err)
	}
	p.rx.Store(rx)
}

// open decrypts buf[:n] in place, reporting the plain length.
func (p *peerSRTP) open(buf []byte, n int) (int, bool) {
	rx := p.rx.Load()
	if rx == nil {
		p.fails.Add(1)
		return 0, false
	}
	out, err := rx.DecryptRTP(p.dec[:0], buf[:n], &p.hdr)
	if err != nil {
		p.fails.Add(1)
		return 0, false
	}
	p.opens.Add(1)
	return copy(buf, out), true
}

// seal encrypts pkt (unless plain), flipping a payload bit when tamper is
// set: a packet the switch must not authenticate.
func (p *peerSRTP) seal(pkt []byte) []byte {
	if p.plain.Load() {
		return pkt
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	enc, err := p.tx.EncryptRTP(nil, pkt, nil)
	if err != nil {
		return nil
	}
	if p.tamper.Load() {
		enc[12] ^= 0x40
	}
	p.last = append(p.last[:0], enc...)
	return enc
}

// rekey sends with a new key from now on (a re-INVITE's offer).
func (p *peerSRTP) rekey(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.local = sdesCrypto{Tag: p.local.Tag, Suite: p.local.Suite, Key: randomKey(t)}
	tx, err := srtp.CreateContext(p.local.Key[:16], p.local.Key[16:], pionProfile(p.local.Suite))
	if err != nil {
		t.Fatal(err)
	}
	p.tx = tx
}

// send writes one RTP packet to the party, through SRTP if the call has it.
func (c *devCall) send(pkt []byte) {
	if sec := c.sec.Load(); sec != nil {
		if pkt = sec.seal(pkt); pkt == nil {
			return
		}
	}
	_, _ = c.rtp.WriteToUDP(pkt, c.remote.Load())
}

// offerSRTP gives the call a key of its own for its offer (tag 1).
func (c *devCall) offerSRTP(t testing.TB, suite string) {
	c.sec.Store(newPeerSRTP(t, sdesCrypto{Tag: 1, Suite: suite, Key: randomKey(t)}))
}

// answeredSRTP takes the switch's key from its answer to our offer.
func (c *devCall) answeredSRTP(t testing.TB, a sdpMedia) {
	sec := c.sec.Load()
	for _, cr := range a.Crypto {
		if cr.Tag == sec.local.Tag && cr.Suite == sec.local.Suite {
			sec.receiveWith(t, cr)
			return
		}
	}
	t.Logf("the answer (%s) has no crypto line for our tag: %v", a.Proto, a.Crypto)
}

// answerSRTP answers an SRTP offer: its first line's key to receive, a
// key of ours under its tag.
func (c *devCall) answerSRTP(t testing.TB, offer sdpMedia) {
	if len(offer.Crypto) == 0 {
		t.Errorf("SRTP offer without a usable crypto line: %v", offer.CryptoErrs)
		return
	}
	first := offer.Crypto[0]
	sec := newPeerSRTP(t, sdesCrypto{Tag: first.Tag, Suite: first.Suite, Key: randomKey(t)})
	sec.receiveWith(t, first)
	c.sec.Store(sec)
}

// startSwitchLogged is startSwitch (inbound trunks at trunks) with the
// echo greeting a short 3300 Hz tone and the switch's log kept.
func startSwitchLogged(t *testing.T, opt Options) (*swFixture, *syncBuffer) {
	t.Helper()
	reg, err := New(Config{
		Credentials: fakeCreds{"1001": "device", "1002": "other"},
		Logger:      slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opt.Listen = "127.0.0.1:0"
	opt.ToneDuration = 300 * time.Millisecond
	opt.Logger = slog.New(slog.NewTextHandler(logs, nil))
	opt.Prompts = map[string][]int16{"echo": audio.Tone(worldEcho, 6000, audio.SampleRate*3/10, nil)}
	return runSwitch(t, reg, opt), logs
}

// ------------------------------------------------------------- SDES --

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, sdesKeyLen) }

// The a=crypto lines we take, and the ones we refuse with the reason.
func TestParseCrypto(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(testKey(7))
	for _, v := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key,
		"2 AES_CM_128_HMAC_SHA1_32 inline:" + key,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^31",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^48",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2147483648",
		"1 AES_CM_128_HMAC_SHA1_80   inline:" + key + " WSH=128",
	} {
		c, err := parseCrypto(v)
		if err != nil || !bytes.Equal(c.Key, testKey(7)) {
			t.Errorf("%q: %+v %v", v, c, err)
		}
	}
	for v, why := range map[string]string{
		"":                          "want TAG SUITE",
		"1 AES_CM_128_HMAC_SHA1_80": "want TAG SUITE",
		"x AES_CM_128_HMAC_SHA1_80 inline:" + key:                                                "tag",
		"+1 AES_CM_128_HMAC_SHA1_80 inline:" + key:                                               "tag",
		"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key:                                       "tag",
		"1 AES_256_CM_HMAC_SHA1_80 inline:" + key:                                                `suite "AES_256_CM_HMAC_SHA1_80" is not`,
		"1 AEAD_AES_128_GCM inline:" + key:                                                       "suite",
		"1 AES_CM_128_HMAC_SHA1_80 uri:" + key:                                                   "not inline",
		"1 AES_CM_128_HMAC_SHA1_80 inline:%%%%":                                                  "not base64",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(testKey(1)[:16]): "16 bytes",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4":                                  "MKI",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:4":                                       "MKI",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20":                                      "lifetime",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1000":                                      "lifetime",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^x":                                       "lifetime",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key:                             "several keys",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTP":                          "session parameter",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=1":                                     "session parameter",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " WSH=8":                                     "session parameter",
	} {
		_, err := parseCrypto(v)
		if !errors.Is(err, errCrypto) || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want an error about %q", v, err, why)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("%q: the error shows the key: %v", v, err)
		}
	}
}

// What we write is what we read, and String never shows the key.
func TestCryptoRoundTrip(t *testing.T) {
	for _, c := range []sdesCrypto{
		{Tag: 1, Suite: suiteSHA1_80, Key: testKey(3)},
		{Tag: 987654321, Suite: suiteSHA1_32, Key: randomKey(t)},
	} {
		got, err := parseCrypto(c.attr())
		if err != nil || got.Tag != c.Tag || got.Suite != c.Suite || !bytes.Equal(got.Key, c.Key) {
			t.Errorf("%s: read back %+v %v", c.attr(), got, err)
		}
		if s := c.String(); strings.Contains(s, base64.StdEncoding.EncodeToString(c.Key)) {
			t.Errorf("String shows the key: %s", s)
		}
		m, err := parseSDP(buildSecureSDP("127.0.0.1", 4000, 1, "", &c))
		if err != nil || m.Proto != protoSAVP || !m.secure() || !m.sdes() || len(m.Crypto) != 1 || !bytes.Equal(m.Crypto[0].Key, c.Key) || !m.hasPCMU() {
			t.Errorf("our SRTP SDP read back: %+v %v", m, err)
		}
	}
	if m, _ := parseSDP(buildSDP("127.0.0.1", 4000, 1)); m.Proto != "RTP/AVP" || m.secure() || len(m.Crypto) != 0 {
		t.Errorf("plain SDP read back: %+v", m)
	}
}

func FuzzParseCrypto(f *testing.F) {
	key := base64.StdEncoding.EncodeToString(testKey(9))
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key)
	f.Add("2 AES_CM_128_HMAC_SHA1_32 inline:" + key + "|2^31 WSH=64")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:32")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key)
	f.Add("9 F8_128_HMAC_SHA1_80 inline:" + key + " FEC_ORDER=FEC_SRTP")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:====|")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := parseCrypto(v)
		if err != nil {
			if !errors.Is(err, errCrypto) {
				t.Fatalf("%q: %v is not errCrypto", v, err)
			}
			return
		}
		if len(c.Key) != sdesKeyLen || (c.Suite != suiteSHA1_80 && c.Suite != suiteSHA1_32) || c.Tag < 0 {
			t.Fatalf("%q accepted as %+v", v, c)
		}
		again, err := parseCrypto(c.attr())
		if err != nil || again.Tag != c.Tag || again.Suite != c.Suite || !bytes.Equal(again.Key, c.Key) {
			t.Fatalf("%q: %s reads back as %+v %v", v, c.attr(), again, err)
		}
		// A whole SDP around it parses too, with the line usable.
		m, err := parseSDP([]byte("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:" + v + "\r\n"))
		if err != nil || len(m.Crypto) != 1 {
			t.Fatalf("%q in an SDP: %+v %v", v, m, err)
		}
	})
}

func savpOffer(lines ...string) sdpMedia {
	body := "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 0 101\r\n"
	for _, l := range lines {
		body += "a=crypto:" + l + "\r\n"
	}
	m, _ := parseSDP([]byte(body))
	return m
}

// Offer/answer: the party's first usable line wins, our key under its
// tag; plain stays plain; an SAVP offer we cannot use is an error; our
// offer's answer must name our line; a re-offer keeps the leg's keys
// unless the party's changed.
func TestCryptoNegotiation(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(testKey(1))
	k2 := base64.StdEncoding.EncodeToString(testKey(2))

	if lc, err := answerCrypto(sdpMedia{Proto: "RTP/AVP"}); lc != nil || err != nil {
		t.Errorf("plain offer: %v %v", lc, err)
	}
	off := savpOffer("1 AES_CM_128_HMAC_SHA1_80 inline:"+k1+"|2^20|1:4", "2 AES_192_CM_HMAC_SHA1_80 inline:"+k1, "3 AES_CM_128_HMAC_SHA1_32 inline:"+k2, "4 AES_CM_128_HMAC_SHA1_80 inline:"+k1)
	lc, err := answerCrypto(off)
	if err != nil || lc.remote.Tag != 3 || lc.local.Tag != 3 || lc.local.Suite != suiteSHA1_32 || !bytes.Equal(lc.remote.Key, testKey(2)) ||
		bytes.Equal(lc.local.Key, testKey(2)) || len(lc.local.Key) != sdesKeyLen || lc.proto != protoSAVP {
		t.Fatalf("answer: %+v %v", lc, err)
	}
	if other, _ := answerCrypto(off); bytes.Equal(other.local.Key, lc.local.Key) {
		t.Error("two answers with the same key of ours")
	}
	for name, tc := range map[string]struct {
		offer sdpMedia
		why   string
	}{
		"only an MKI line":     {savpOffer("1 AES_CM_128_HMAC_SHA1_80 inline:" + k1 + "|1:4"), "MKI"},
		"no crypto":            {savpOffer(), "without an a=crypto line"},
		"DTLS-SRTP":            {sdpMedia{Proto: "UDP/TLS/RTP/SAVPF"}, "DTLS-SRTP"},
		"an unknown suite":     {savpOffer("1 NULL_HMAC_SHA1_80 inline:" + k1), "suite"},
		"a short key (20 B)":   {savpOffer("1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(testKey(1)[:20])), "20 bytes"},
		"a=crypto, bad base64": {savpOffer("1 AES_CM_128_HMAC_SHA1_80 inline:!!!!"), "base64"},
	} {
		if lc, err := answerCrypto(tc.offer); lc != nil || !errors.Is(err, errNoSRTP) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v %v, want an error about %q", name, lc, err, tc.why)
		}
	}

	// Our offer and its answer.
	ours := offerCrypto()
	if ours.local.Tag != 1 || ours.local.Suite != suiteSHA1_80 || ours.remote.Key != nil {
		t.Fatalf("our offer %+v", ours)
	}
	if _, err := ours.answered(sdpMedia{Proto: "RTP/AVP"}); err == nil || !strings.Contains(err.Error(), "plain RTP") {
		t.Errorf("plain answer: %v", err)
	}
	if _, err := ours.answered(savpOffer("2 AES_CM_128_HMAC_SHA1_80 inline:" + k1)); err == nil {
		t.Error("an answer with another tag was taken")
	}
	if _, err := ours.answered(savpOffer("1 AES_CM_128_HMAC_SHA1_32 inline:" + k1)); err == nil {
		t.Error("an answer with another suite was taken")
	}
	got, err := ours.answered(savpOffer("1 AES_CM_128_HMAC_SHA1_80 inline:" + k1))
	if err != nil || !bytes.Equal(got.remote.Key, testKey(1)) || !bytes.Equal(got.local.Key, ours.local.Key) {
		t.Fatalf("answer taken as %+v %v", got, err)
	}

	// Re-offers.
	same, err := lc.reoffer(savpOffer("3 AES_CM_128_HMAC_SHA1_32 inline:" + k2))
	if err != nil || same != lc {
		t.Errorf("the same key again: %+v %v, want the leg's keys unchanged", same, err)
	}
	rekeyed, err := lc.reoffer(savpOffer("3 AES_CM_128_HMAC_SHA1_32 inline:" + k1))
	if err != nil || !bytes.Equal(rekeyed.remote.Key, testKey(1)) || !bytes.Equal(rekeyed.local.Key, lc.local.Key) {
		t.Errorf("new key of the party's: %+v %v, want it taken and ours kept", rekeyed, err)
	}
	resuite, err := lc.reoffer(savpOffer("5 AES_CM_128_HMAC_SHA1_80 inline:" + k1))
	if err != nil || resuite.local.Tag != 5 || resuite.local.Suite != suiteSHA1_80 || bytes.Equal(resuite.local.Key, lc.local.Key) {
		t.Errorf("another suite: %+v %v, want a new key of ours", resuite, err)
	}
	if _, err := lc.reoffer(sdpMedia{Proto: "RTP/AVP"}); err == nil || !strings.Contains(err.Error(), "cannot stop") {
		t.Errorf("plain re-offer on an SRTP leg: %v", err)
	}
	var plain *legCrypto
	if _, err := plain.reoffer(savpOffer("1 AES_CM_128_HMAC_SHA1_80 inline:" + k1)); err == nil || !strings.Contains(err.Error(), "cannot start") {
		t.Errorf("SRTP re-offer on a plain leg: %v", err)
	}
	if kept, err := plain.reoffer(sdpMedia{Proto: "RTP/AVP"}); kept != nil || err != nil {
		t.Errorf("plain re-offer on a plain leg: %v %v", kept, err)
	}
}

// A trunk with SRTP must speak TLS.
func TestTrunkSRTPNeedsTLS(t *testing.T) {
	if _, err := prepareTrunks([]Trunk{{Name: "x", Address: "192.0.2.1", SRTP: true}}); err == nil || !strings.Contains(err.Error(), "SRTP needs Transport tls") {
		t.Errorf("SRTP over UDP: %v", err)
	}
	if ts, err := prepareTrunks([]Trunk{{Name: "x", Address: "192.0.2.1", Transport: "tls", SRTP: true}}); err != nil || !ts[0].SRTP {
		t.Errorf("SRTP over TLS: %+v %v", ts, err)
	}
}

// --------------------------------------------------------- end to end --

// A customer calls in with RTP/SAVP and gets RTP/SAVP back with a key of
// the switch's; bridged to a plain agent phone, the customer's encrypted
// voice reaches the agent decrypted and the agent's reaches the customer
// encrypted. Tampered, plain and replayed packets are dropped (counted),
// never relayed. A re-INVITE with a new key re-keys the leg (ours kept);
// a plain re-offer is refused and the call goes on.
func TestSRTPInboundBridgeAudio(t *testing.T) {
	t.Parallel()
	f, _ := startSwitchLogged(t, Options{Trunks: inboundTrunks("127.0.0.1")})
	cust := newDevice(t, "customer", "")
	cust.srtp = suiteSHA1_80
	agent := newDevice(t, "1001", "answer")
	agent.register(f.sw, "device")

	call, cleg := answeredCustomer(t, f, cust, "+34600111222")
	ans, err := parseSDP(call.cli.InviteResponse.Body())
	sec := call.sec.Load()
	if err != nil || ans.Proto != protoSAVP || len(ans.Crypto) != 1 || ans.Crypto[0].Tag != 1 || ans.Crypto[0].Suite != suiteSHA1_80 ||
		bytes.Equal(ans.Crypto[0].Key, sec.local.Key) {
		t.Fatalf("answer to an SRTP offer:\n%s", call.cli.InviteResponse.Body())
	}
	switchKey := ans.Crypto[0].Key

	aleg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, aleg, telephony.Answered, evWait)
	acall := <-agent.in
	if o, _ := parseSDP(acall.srv.InviteRequest.Body()); o.Proto != "RTP/AVP" || len(o.Crypto) != 0 {
		t.Errorf("a UDP phone was offered %s with %d crypto lines", o.Proto, len(o.Crypto))
	}
	if err := f.sw.Bridge(bg, cleg, aleg); err != nil {
		t.Fatal(err)
	}
	custEar, agentEar := listen(call), listen(acall)
	custMouth, agentMouth := newMouth(call, 0x5a5a0001), newMouth(acall, 0x5a5a0002)

	p := agentEar.pos()
	custMouth.tone(1000, 25, 20*time.Millisecond)
	if !agentEar.waitTone(p, 1000, 15, 3*time.Second) {
		t.Fatalf("the agent heard %d frames of the customer's 1000 Hz", framesWith(agentEar.since(p), 1000))
	}
	p = custEar.pos()
	agentMouth.tone(440, 25, 20*time.Millisecond)
	if !custEar.waitTone(p, 440, 15, 3*time.Second) {
		t.Fatalf("the customer heard %d frames of the agent's 440 Hz (%d failed to decrypt)", framesWith(custEar.since(p), 440), sec.fails.Load())
	}
	if sec.fails.Load() != 0 {
		t.Errorf("%d packets to the customer did not authenticate", sec.fails.Load())
	}
	// RFC 4733 both ways: the customer's keys give DTMF events and reach
	// the agent; the switch's digits reach the customer.
	custMouth.digits(DefaultEventPT, "42", false, 5*time.Millisecond)
	for _, d := range "42" {
		f.ev.waitMatch(t, func(ev telephony.Event) bool {
			return ev.Leg == cleg && ev.Type == telephony.DTMF && ev.Digit == string(d)
		})
	}
	waitFor(t, "the agent hears the customer's digits", evWait, func() bool { return agentEar.heardDigits() == "42" })
	if err := f.sw.SendDTMF(bg, cleg, "7#"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the customer hears the switch's digits", evWait, func() bool { return custEar.heardDigits() == "7#" })

	// Forged packets: a flipped bit, plain RTP, a replay. None reaches
	// the agent; the leg counts each. The good 1000 Hz behind them does.
	stats := func() mediaStats { s, _ := f.sw.mediaStats(cleg); return s }
	before := stats()
	relayed := quiet(func() uint64 { return stats().Relayed })
	p = agentEar.pos()
	sec.tamper.Store(true)
	custMouth.tone(2000, 10, 0)
	sec.tamper.Store(false)
	sec.plain.Store(true)
	custMouth.tone(2000, 10, 0)
	sec.plain.Store(false)
	custMouth.tone(1000, 1, 0)
	sec.mu.Lock()
	replay := append([]byte(nil), sec.last...)
	sec.mu.Unlock()
	for range 5 {
		_, _ = call.rtp.WriteToUDP(replay, call.remote.Load())
	}
	waitCount(t, "packets rejected", func() uint64 { return stats().Rejected - before.Rejected }, 25)
	custMouth.tone(1000, 20, 20*time.Millisecond)
	if !agentEar.waitTone(p, 1000, 10, 3*time.Second) {
		t.Fatal("the good audio after the forged packets did not reach the agent")
	}
	if n := framesWith(agentEar.since(p), 2000); n != 0 {
		t.Errorf("the agent heard %d frames of forged 2000 Hz", n)
	}
	waitCount(t, "good packets relayed", func() uint64 { return stats().Relayed - relayed }, 21)
	if got := quiet(func() uint64 { return stats().Relayed }); got-relayed != 21 || stats().Rejected-before.Rejected != 25 {
		t.Errorf("rejected %d (want 25: 10 tampered, 10 plain, 5 replays), relayed %d (want the 21 good ones)",
			stats().Rejected-before.Rejected, got-relayed)
	}

	// Re-key: a re-INVITE with a new key of the customer's.
	sec.rekey(t)
	port := call.rtp.LocalAddr().(*net.UDPAddr).Port
	r := customerReinvite(t, call, buildSecureSDP("127.0.0.1", port, 2, "", &sec.local))
	re, err := parseSDP(r.Body())
	if r.StatusCode != 200 || err != nil || len(re.Crypto) != 1 || !bytes.Equal(re.Crypto[0].Key, switchKey) {
		t.Fatalf("re-INVITE with a new key: %d\n%s", r.StatusCode, r.Body())
	}
	p = agentEar.pos()
	custMouth.tone(1000, 25, 20*time.Millisecond)
	if !agentEar.waitTone(p, 1000, 15, 3*time.Second) {
		t.Fatalf("after the re-key the agent heard %d frames of 1000 Hz", framesWith(agentEar.since(p), 1000))
	}
	// Plain now: refused, the call goes on encrypted.
	r = customerReinvite(t, call, buildSDP("127.0.0.1", port, 3))
	if r.StatusCode != sip.StatusNotAcceptableHere {
		t.Fatalf("plain re-offer on an SRTP call: %d", r.StatusCode)
	}
	if w := r.GetHeader("Warning"); w == nil || !strings.Contains(w.Value(), "cannot stop") {
		t.Errorf("488 Warning %v", w)
	}
	p = custEar.pos()
	agentMouth.tone(440, 25, 20*time.Millisecond)
	if !custEar.waitTone(p, 440, 15, 3*time.Second) {
		t.Fatal("after the refused re-offer the customer hears nothing")
	}
}

// inviteWith sends an INVITE with body from d to user to and returns the
// final response's status (200 ACKed and hung up).
func inviteWith(t *testing.T, d *device, sw *Switch, to string, body []byte) (int, *sip.Response) {
	t.Helper()
	uri := d.switchURI(sw, to)
	req := sip.NewRequest(sip.INVITE, uri)
	fp := sip.NewParams()
	fp.Add("tag", randomHex(4))
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "+34600111222", Host: "127.0.0.1"}, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: uri, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	dlg, err := d.dua.WriteInvite(bg, req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, evWait)
	defer cancel()
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var de *sipgo.ErrDialogResponse
	switch {
	case err == nil:
		_ = dlg.Ack(bg)
		_ = dlg.Bye(bg)
		return 200, dlg.InviteResponse
	case errors.As(err, &de):
		return de.Res.StatusCode, de.Res
	}
	t.Fatalf("INVITE: %v", err)
	return 0, nil
}

// Offers of encryption we cannot use get 488 with a Warning saying why;
// crypto lines in an RTP/AVP offer do not make it SRTP.
func TestSRTPOffersRefused(t *testing.T) {
	t.Parallel()
	f, _ := startSwitchLogged(t, Options{Trunks: inboundTrunks("127.0.0.1")})
	d := newDevice(t, "customer", "")
	key := base64.StdEncoding.EncodeToString(testKey(5))
	sdp := func(proto string, crypto ...string) []byte {
		b := "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 " + proto + " 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
		for _, c := range crypto {
			b += "a=crypto:" + c + "\r\n"
		}
		return []byte(b)
	}
	for name, tc := range map[string]struct {
		body []byte
		why  string
	}{
		"unknown suite": {sdp("RTP/SAVP", "1 AES_256_CM_HMAC_SHA1_80 inline:"+key+key), "suite"},
		"MKI":           {sdp("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+key+"|2^20|1:4"), "MKI"},
		"no crypto":     {sdp("RTP/SAVP"), "without an a=crypto line"},
		"DTLS-SRTP":     {sdp("UDP/TLS/RTP/SAVP"), "DTLS-SRTP"},
	} {
		t.Run(name, func(t *testing.T) {
			code, res := inviteWith(t, d, f.sw, "2001", tc.body)
			if code != sip.StatusNotAcceptableHere {
				t.Fatalf("%d, want 488", code)
			}
			if w := res.GetHeader("Warning"); w == nil || !strings.Contains(w.Value(), tc.why) || strings.Contains(w.Value(), key) {
				t.Errorf("Warning %v, want one about %q without the key", w, tc.why)
			}
		})
	}
	t.Run("crypto in an RTP/AVP offer", func(t *testing.T) {
		code, res := inviteWith(t, d, f.sw, EchoExtension, sdp("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+key))
		a, err := parseSDP(res.Body())
		if code != 200 || err != nil || a.Proto != "RTP/AVP" || len(a.Crypto) != 0 || len(a.CryptoErrs) != 0 {
			t.Fatalf("%d:\n%s", code, res.Body())
		}
	})
	f.ev.mu.Lock()
	defer f.ev.mu.Unlock()
	for _, ev := range f.ev.all {
		if ev.Type == telephony.Incoming {
			t.Errorf("a refused offer gave the platform an Incoming: %+v", ev)
		}
	}
}

// The echo test over SRTP, with either suite: the greeting and then our
// own voice come back encrypted with the switch's key. A re-INVITE with a
// new key keeps the echo going.
func TestSRTPEcho(t *testing.T) {
	t.Parallel()
	for _, suite := range []string{suiteSHA1_80, suiteSHA1_32} {
		t.Run(suite, func(t *testing.T) {
			f, _ := startSwitchLogged(t, Options{Trunks: inboundTrunks("127.0.0.1")})
			d := newDevice(t, "customer", "")
			d.srtp = suite
			call, res := d.invite(f.sw, "+34600111222", EchoExtension)
			e := listen(call)
			if err := waitErr(t, res, evWait); err != nil {
				t.Fatal(err)
			}
			if a, _ := parseSDP(call.cli.InviteResponse.Body()); len(a.Crypto) != 1 || a.Crypto[0].Suite != suite {
				t.Fatalf("answer:\n%s", call.cli.InviteResponse.Body())
			}
			if !e.waitTone(0, worldEcho, 10, 3*time.Second) {
				t.Fatal("no greeting")
			}
			m := newMouth(call, 0xabcdef)
			p := e.pos()
			m.tone(1000, 30, 20*time.Millisecond)
			if !e.waitTone(p, 1000, 15, 3*time.Second) {
				t.Fatalf("echo: %d frames of our 1000 Hz back", framesWith(e.since(p), 1000))
			}
			// The greeting's first packet may come before the answer gave
			// us the switch's key: failures count from here.
			sec := call.sec.Load()
			failed := sec.fails.Load()
			sec.rekey(t)
			r := customerReinvite(t, call, buildSecureSDP("127.0.0.1", call.rtp.LocalAddr().(*net.UDPAddr).Port, 2, "", &sec.local))
			if r.StatusCode != 200 {
				t.Fatalf("re-INVITE with a new key: %d", r.StatusCode)
			}
			p = e.pos()
			m.tone(1000, 30, 20*time.Millisecond)
			if !e.waitTone(p, 1000, 15, 3*time.Second) {
				t.Fatalf("echo after the re-key: %d frames of our 1000 Hz back", framesWith(e.since(p), 1000))
			}
			if n := sec.fails.Load() - failed; n != 0 {
				t.Errorf("%d packets from the switch did not authenticate", n)
			}
			_ = call.cli.Bye(bg)
		})
	}
}

// srtpCarrier makes a TLS carrier answer INVITEs with a real media peer:
// SRTP when srtp is set (its own key, the offer's tag), else plain. The
// calls it answers come out of the returned channel.
func srtpCarrier(t *testing.T, car *carrier, srtp bool) chan *devCall {
	calls := make(chan *devCall, 4)
	car.mu.Lock()
	car.answer = func(req *sip.Request) []byte {
		offer, err := parseSDP(req.Body())
		if err != nil {
			t.Errorf("carrier: offer %v", err)
		}
		c := newCall(t)
		t.Cleanup(func() { c.rtp.Close() })
		c.remote.Store(&net.UDPAddr{IP: offer.IP, Port: offer.Port})
		if srtp {
			c.answerSRTP(t, offer)
		}
		calls <- c
		return c.sdp()
	}
	car.mu.Unlock()
	return calls
}

// A trunk with SRTP (over TLS) offers RTP/SAVP with our key; the carrier
// answers SRTP and audio goes both ways, bridged to a plain UDP phone. A
// carrier answering plain RTP gets a BYE and the call fails, logged.
func TestSRTPTrunkOutbound(t *testing.T) {
	ca := newTestCA(t)
	car := startCarrier(t, ca, ca.issue(t, "127.0.0.1"))
	calls := srtpCarrier(t, car, true)
	f, logs := startSwitchLogged(t, Options{TLSListen: "127.0.0.1:0",
		TLS:    &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "127.0.0.1")}, RootCAs: ca.pool},
		Trunks: []Trunk{{Name: "carrier", Address: car.addr.String(), Transport: "tls", Country: "ES", SRTP: true}}})
	ph := newDevice(t, "1001", "answer")
	ph.register(f.sw, "device")

	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "tel:+34910000001", From: "+34910000000"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	ccall := <-calls
	car.mu.Lock()
	offer, err := parseSDP(car.invites[0].Body())
	car.mu.Unlock()
	if err != nil || offer.Proto != protoSAVP || len(offer.Crypto) != 1 || offer.Crypto[0].Tag != 1 || offer.Crypto[0].Suite != suiteSHA1_80 {
		t.Fatalf("offer through an SRTP trunk: %+v %v", offer, err)
	}
	station, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, station, telephony.Answered, evWait)
	pcall := <-ph.in
	if err := f.sw.Bridge(bg, leg, station); err != nil {
		t.Fatal(err)
	}
	carEar, phoneEar := listen(ccall), listen(pcall)
	p := phoneEar.pos()
	newMouth(ccall, 0xca11).tone(1000, 25, 20*time.Millisecond)
	if !phoneEar.waitTone(p, 1000, 15, 3*time.Second) {
		t.Fatalf("the phone heard %d frames of the carrier's 1000 Hz", framesWith(phoneEar.since(p), 1000))
	}
	p = carEar.pos()
	newMouth(pcall, 0xca12).tone(440, 25, 20*time.Millisecond)
	if !carEar.waitTone(p, 440, 15, 3*time.Second) {
		t.Fatalf("the carrier heard %d frames of the phone's 440 Hz", framesWith(carEar.since(p), 440))
	}
	if n := ccall.sec.Load().fails.Load(); n != 0 {
		t.Errorf("%d packets to the carrier did not authenticate", n)
	}
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-car.bye:
	case <-time.After(evWait):
		t.Fatal("no BYE at the carrier")
	}

	// A carrier that answers plain RTP: BYE, Hangup failed, a log line.
	srtpCarrier(t, car, false)
	leg, err = f.sw.Originate(bg, telephony.OriginateRequest{To: "tel:+34910000002", From: "+34910000000"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseFailed {
		t.Errorf("Hangup %+v, want failed", ev)
	}
	for _, typ := range f.ev.of(leg) {
		if typ == telephony.Answered {
			t.Error("a plain answer on an SRTP trunk gave Answered")
		}
	}
	select {
	case <-car.bye:
	case <-time.After(evWait):
		t.Fatal("no BYE at the carrier that answered plain")
	}
	if l := logs.String(); !strings.Contains(l, "the trunk requires SRTP") || !strings.Contains(l, "plain RTP") {
		t.Errorf("no log line saying why:\n%s", l)
	}
}

// A station registered over TLS is offered SRTP: a phone with SRTP answers
// it and hears a prompt decrypted; one without answers plain and the call
// goes on in plain RTP (logged). A UDP phone is offered plain RTP.
func TestSRTPStationOverTLS(t *testing.T) {
	ca := newTestCA(t)
	f, logs := startSwitchLogged(t, Options{TLSListen: "127.0.0.1:0",
		TLS: &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "127.0.0.1")}, RootCAs: ca.pool}})
	for station, withSRTP := range map[string]bool{"1001": true, "1002": false} {
		d := newTLSDevice(t, station, "answer", ca)
		if withSRTP {
			d.srtp = suiteSHA1_80
		}
		d.register(f.sw, map[string]string{"1001": "device", "1002": "other"}[station])
		leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:" + station})
		if err != nil {
			t.Fatal(err)
		}
		f.ev.wait(t, leg, telephony.Answered, evWait)
		call := <-d.in
		offer, _ := parseSDP(call.srv.InviteRequest.Body())
		if offer.Proto != protoSAVP || len(offer.Crypto) != 1 {
			t.Fatalf("offer to a TLS station: %s", call.srv.InviteRequest.Body())
		}
		e := listen(call)
		if err := f.sw.Play(bg, leg, "tone:1000"); err != nil {
			t.Fatal(err)
		}
		if !e.waitTone(0, 1000, 10, 3*time.Second) {
			t.Fatalf("srtp %v: the phone heard %d frames of the prompt", withSRTP, framesWith(e.since(0), 1000))
		}
		if sec := call.sec.Load(); withSRTP && (sec == nil || sec.opens.Load() == 0 || sec.fails.Load() != 0) {
			t.Errorf("the SRTP phone's packets: %v", sec)
		}
		if err := f.sw.Hangup(bg, leg, ""); err != nil {
			t.Fatal(err)
		}
		f.ev.wait(t, leg, telephony.Hangup, evWait)
	}
	if !strings.Contains(logs.String(), "answered our SRTP offer without it") {
		t.Errorf("no log line about the plain answer:\n%s", logs)
	}
}

// A phone registered over TLS that does not do SRTP and refuses our SRTP
// offer with 488 is called again in plain RTP, once: it answers and hears
// the call. The ring timer runs across the retry, and a Hangup during the
// retried ringing cancels it.
func TestSRTPStationRefusesSAVP(t *testing.T) {
	ca := newTestCA(t)
	f, logs := startSwitchLogged(t, Options{TLSListen: "127.0.0.1:0",
		TLS: &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "127.0.0.1")}, RootCAs: ca.pool}})
	d := newTLSDevice(t, "1001", "nosavp-answer", ca)
	d.register(f.sw, "device")

	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	call := <-d.in
	offer, _ := parseSDP(call.srv.InviteRequest.Body())
	if offer.secure() || len(offer.Crypto) != 0 || d.refused.Load() != 1 {
		t.Fatalf("after %d refusals, the phone was offered: %s", d.refused.Load(), call.srv.InviteRequest.Body())
	}
	e := listen(call)
	if err := f.sw.Play(bg, leg, "tone:1000"); err != nil {
		t.Fatal(err)
	}
	if !e.waitTone(0, 1000, 10, 3*time.Second) {
		t.Fatalf("the phone heard %d frames of the prompt after the plain retry", framesWith(e.since(0), 1000))
	}
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Hangup, evWait)
	if !strings.Contains(logs.String(), "retried in plain RTP") {
		t.Errorf("no log line about the retry:\n%s", logs)
	}

	// The ring timeout covers both INVITEs.
	d.mode.Store("nosavp-ring")
	leg, err = f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001", RingTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	call = <-d.in
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseNoAnswer {
		t.Errorf("ring timeout across the retry: cause %q", ev.Cause)
	}
	waitClosed(t, call.ended, "the retried INVITE is cancelled at the ring timeout")

	// A Hangup while the retried INVITE rings cancels it.
	leg, err = f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001"})
	if err != nil {
		t.Fatal(err)
	}
	call = <-d.in
	f.ev.wait(t, leg, telephony.Ringing, evWait)
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseCancelled {
		t.Errorf("hangup while the retry rings: cause %q", ev.Cause)
	}
	waitClosed(t, call.ended, "the retried INVITE is cancelled by Hangup")
	if n := d.refused.Load(); n != 3 {
		t.Errorf("%d SRTP offers refused over three calls, want 3 (one each, never a second)", n)
	}
	noLegsLeft(t, f, "after three calls to a phone without SRTP")
}
