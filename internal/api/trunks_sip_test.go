package api_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// carrierRegistrar makes p a carrier's registrar for account user/pass:
// REGISTERs without valid digest credentials get 401 (403 when wrong), good
// ones 200 granting grant seconds. It returns what it saw.
func carrierRegistrar(p *peer, user, pass string, grant int) *registrarLog {
	rl := &registrarLog{}
	var h sipgo.RequestHandler = func(req *sip.Request, tx sip.ServerTransaction) {
		auth := req.GetHeader("Authorization")
		if auth == nil {
			chal := digest.Challenge{Realm: "carrier.example", Nonce: strconv.FormatInt(time.Now().UnixNano(), 16), Algorithm: "MD5", QOP: []string{"auth"}}
			res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
			_ = tx.Respond(res)
			return
		}
		cred, err := digest.ParseCredentials(auth.Value())
		ok := err == nil && cred.Username == user
		if ok {
			chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, QOP: []string{cred.QOP}}
			want, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: cred.URI, Username: user, Password: pass, Cnonce: cred.Cnonce, Count: cred.Nc})
			ok = err == nil && want.Response == cred.Response
		}
		if !ok {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
			return
		}
		expires := req.GetHeader("Expires").Value()
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		contact := req.Contact().Address
		if expires != "0" {
			params := sip.NewParams()
			params.Add("expires", strconv.Itoa(grant))
			res.AppendHeader(&sip.ContactHeader{Address: contact, Params: params})
		}
		rl.mu.Lock()
		rl.seen = append(rl.seen, contact.String()+" expires="+expires)
		rl.contact = contact
		rl.mu.Unlock()
		_ = tx.Respond(res)
	}
	p.registrar.Store(&h)
	return rl
}

type registrarLog struct {
	mu      sync.Mutex
	seen    []string // "contact expires=N" of each accepted REGISTER
	contact sip.Uri  // the last one
}

func (rl *registrarLog) all() []string {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return append([]string(nil), rl.seen...)
}

// TestSIPTrunkRegistersAndTakesCalls is carrier registration end to end
// with telephony sip: a trunk created through the API with register
// registers with the carrier (digest), its GET shows the live state; the
// carrier's call to the registered Contact with the DID in To reaches the
// DID's queue and rings the agent; a wrong password shows as failed with
// a reason and no secret (the old binding removed); deleting the trunk
// ends its registration.
func TestSIPTrunkRegistersAndTakesCalls(t *testing.T) {
	ce := startSIPEnv(t)
	swAddr := ce.app.SIPSwitch().Addr()
	admin := ce.token(t, pAdmin)
	const base = "/api/v2/telephony/sip/trunks"

	carrier := newPeer(t, "carrier")
	reg := carrierRegistrar(carrier, "acct", "trunk-secret", 300)
	tr := ce.must(t, 200, "POST", base, admin, map[string]any{
		"name": "Registered carrier", "address": carrier.addr.String(), "defaultCountry": "ES",
		"username": "acct", "password": "trunk-secret", "register": true,
		"dids": []map[string]any{{"number": "910 000 098", "queueId": ce.ventas}},
	}).obj(t)
	id := tr["id"].(string)
	var got map[string]any
	eventually(t, 10*time.Second, func() string {
		r := ce.must(t, 200, "GET", base+"/"+id, admin, nil)
		got = r.obj(t)
		if rg, _ := got["registration"].(map[string]any); rg == nil || rg["state"] != "registered" {
			return "not registered yet: " + r.String()
		}
		return ""
	})
	rg := got["registration"].(map[string]any)
	if want := ce.clock.Now().Add(300 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z"); rg["expiresAt"] != want || rg["error"] != nil {
		t.Errorf("registration %v: want expiresAt %s", rg, want)
	}
	wantContact := fmt.Sprintf("sip:acct@127.0.0.1:%d", swAddr.Port)
	if seen := reg.all(); len(seen) != 1 || seen[0] != wantContact+" expires=3600" {
		t.Fatalf("the carrier saw %v, want one REGISTER of %s for 3600 s", seen, wantContact)
	}
	if m := string(ce.send(t, "GET", "/metrics", "", nil).body); !strings.Contains(m, `centralita_sip_trunk_registered{trunk="Registered carrier"} 1`+"\n") {
		t.Errorf("metrics lack the registered trunk:\n%s", grepLines(m, "centralita_sip_trunk"))
	}
	list := ce.must(t, 200, "GET", base, admin, nil).entities(t)
	for _, e := range list {
		if e["name"] == "Demo carrier" && e["registration"] != nil {
			t.Errorf("a trunk that does not register shows a registration: %v", e)
		}
	}

	// The carrier calls our Contact; the DID is in To.
	phone := newPeer(t, "1001")
	phone.register(t, swAddr, "device")
	ce.onQueue(t, "agent1", "1001")
	reg.mu.Lock()
	contact := reg.contact
	reg.mu.Unlock()
	_, answered := carrier.callURI(t, contact, sip.Uri{Scheme: "sip", User: "910000098", Host: "127.0.0.1"}, "+34600111333")
	if err := waitErrCh(answered, 10*time.Second); err != nil {
		t.Fatalf("the switch did not answer the carrier's call: %v", err)
	}
	select {
	case ring := <-phone.invite:
		ring.answer <- false
	case <-time.After(10 * time.Second):
		t.Fatal("the call to the DID did not reach the agent of Ventas")
	}

	// A wrong password: failed, with why and when it tries again.
	ce.must(t, 200, "PUT", base+"/"+id, admin, map[string]any{
		"name": "Registered carrier", "address": carrier.addr.String(), "defaultCountry": "ES",
		"username": "acct", "password": "not-the-password", "register": true,
		"dids": []map[string]any{{"number": "910 000 098", "queueId": ce.ventas}},
	})
	eventually(t, 10*time.Second, func() string {
		r := ce.must(t, 200, "GET", base+"/"+id, admin, nil)
		got = r.obj(t)
		rg, _ := got["registration"].(map[string]any)
		if rg == nil || rg["state"] != "failed" {
			return "not failed yet: " + r.String()
		}
		if bytes.Contains(r.body, []byte("not-the-password")) {
			t.Fatalf("the password shows: %s", r)
		}
		return ""
	})
	rg = got["registration"].(map[string]any)
	if e, _ := rg["error"].(string); !strings.Contains(e, "403") || !strings.Contains(e, "check the username and password") || rg["retryAt"] == nil {
		t.Errorf("failed registration %v: want the reason and retryAt", rg)
	}

	if m := string(ce.send(t, "GET", "/metrics", "", nil).body); !strings.Contains(m, `centralita_sip_trunk_registered{trunk="Registered carrier"} 0`+"\n") {
		t.Errorf("metrics do not show the failed registration:\n%s", grepLines(m, "centralita_sip_trunk"))
	}
	// The binding of the old password went when the password changed.
	if seen := reg.all(); len(seen) != 2 || seen[1] != wantContact+" expires=0" {
		t.Errorf("after the password changed the carrier saw %v, want the un-REGISTER of %s", seen, wantContact)
	}
	// Deleted: no registration left in the switch.
	ce.must(t, 204, "DELETE", base+"/"+id, admin, nil)
	eventually(t, 10*time.Second, func() string {
		if rs := ce.app.SIPSwitch().Registrations(); len(rs) != 0 {
			return fmt.Sprintf("registrations left: %v", rs)
		}
		return ""
	})
}

// grepLines is the lines of s that contain sub (for failure messages).
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
