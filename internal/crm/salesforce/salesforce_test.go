package salesforce_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/crm/crmtest"
	"github.com/centralita/centralita/internal/crm/salesforce"
	"github.com/centralita/centralita/internal/crm/salesforce/sfemu"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func pemOf(k *rsa.PrivateKey, pkcs8 bool) string {
	if pkcs8 {
		b, _ := x509.MarshalPKCS8PrivateKey(k)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// setup starts an emulator and a connector on the given flow.
func setup(t testing.TB, flow string, mod ...func(*salesforce.Config)) (*sfemu.Emulator, *salesforce.Connector) {
	t.Helper()
	emu := sfemu.New()
	t.Cleanup(emu.Close)
	emu.JWTPublicKey = &key(t).PublicKey
	emu.Audience = emu.URL()
	cfg := salesforce.Config{
		LoginURL: emu.URL(), Flow: flow,
		ClientID: emu.ClientID, ClientSecret: emu.ClientSecret,
		Username: emu.Username, Password: emu.Password, SecurityToken: emu.SecurityToken,
		PrivateKeyPEM: pemOf(key(t), false),
	}
	for _, m := range mod {
		m(&cfg)
	}
	return emu, salesforce.New(cfg, emu.Client())
}

func harness(emu *sfemu.Emulator, c *salesforce.Connector) crmtest.Harness {
	return crmtest.Harness{
		Connector: c,
		Seed: func(t *testing.T, r crm.Record) crm.Record {
			f := map[string]any{"Name": r.Name}
			if len(r.Phones) > 0 {
				f["Phone"] = r.Phones[0]
			}
			if len(r.Phones) > 1 {
				if r.Type == crm.TypeAccount {
					f["Fax"] = r.Phones[1]
				} else {
					f["MobilePhone"] = r.Phones[1]
				}
			}
			for k, v := range r.Fields {
				f[k] = v
			}
			r.ID = emu.Seed(r.Type, f)
			return r
		},
		SetDown: emu.SetDown,
		Activities: func(t *testing.T) []crm.Activity {
			var out []crm.Activity
			for _, task := range emu.Tasks() {
				s := func(k string) string { v, _ := task[k].(string); return v }
				out = append(out, crm.Activity{
					CallID: s("neoCallId__c"), Subject: s("Subject"), Disposition: s("CallDisposition"),
					Description: s("Description"), RecordID: s("WhoId") + s("WhatId"),
				})
			}
			return out
		},
		VoiceCallRecords: func(t *testing.T) []crm.VoiceCall {
			var out []crm.VoiceCall
			for _, v := range emu.Records("VoiceCall") {
				k, _ := v["VendorCallKey"].(string)
				d, _ := v["CallDisposition"].(string)
				out = append(out, crm.VoiceCall{CallID: k, Disposition: d})
			}
			return out
		},
		SeedUser: func(t *testing.T, u crm.User) crm.User {
			u.ID = emu.Seed("User", map[string]any{"Name": u.Name, "Email": u.Email, "IsActive": true})
			return u
		},
		Types:                []string{crm.TypeContact, crm.TypeAccount, crm.TypeLead},
		NameFields:           func(name string) map[string]string { return map[string]string{"LastName": name} },
		PhoneField:           "Phone",
		UpdateField:          "Title",
		KeyField:             "Email",
		ExternalIDField:      "neoSyncId__c",
		UnknownID:            func(string) string { return "003Kg0000099999AAA" },
		VoiceCalls:           true,
		MultipleExternalIDs:  true,
		RejectsUnknownFields: true,
		UnknownField:         "noSuchField__c",
		FormattedPhones:      true,
	}
}

func TestContract(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	crmtest.Run(t, harness(emu, c))
}

func TestContractParameterizedSearch(t *testing.T) {
	emu, c := setup(t, "password", func(cfg *salesforce.Config) { cfg.PhoneSearch = "parameterized" })
	crmtest.Run(t, harness(emu, c))
}

func TestContractJWTSmallPages(t *testing.T) {
	emu, c := setup(t, "jwt")
	emu.PageSize = 1
	crmtest.Run(t, harness(emu, c))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func tokenRequests(emu *sfemu.Emulator) int {
	n := 0
	for _, l := range emu.Log() {
		if l == "POST /services/oauth2/token" {
			n++
		}
	}
	return n
}

func TestFlows(t *testing.T) {
	for _, tc := range []struct {
		name string
		flow string
		mod  func(*salesforce.Config)
		bad  func(*salesforce.Config)
	}{
		{"jwt", "jwt", nil, func(c *salesforce.Config) {
			other, _ := rsa.GenerateKey(rand.Reader, 1024)
			c.PrivateKeyPEM = pemOf(other, false)
		}},
		{"jwt-pkcs8", "jwt", func(c *salesforce.Config) { c.PrivateKeyPEM = pemOf(key(t), true) }, func(c *salesforce.Config) { c.Username = "someone@else" }},
		{"jwt-audience", "jwt", nil, func(c *salesforce.Config) { c.Audience = "https://test.salesforce.com" }},
		{"client_credentials", "client_credentials", nil, func(c *salesforce.Config) { c.ClientSecret = "wrong" }},
		{"password", "password", nil, func(c *salesforce.Config) { c.SecurityToken = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mods := []func(*salesforce.Config){}
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			emu, c := setup(t, tc.flow, mods...)
			if _, err := c.Users(ctx(t)); err != nil {
				t.Fatalf("Users with a good %s login: %v", tc.flow, err)
			}
			if _, err := c.Users(ctx(t)); err != nil {
				t.Fatal(err)
			}
			if n := tokenRequests(emu); n != 1 {
				t.Errorf("token requests = %d, want 1 (cached)", n)
			}
			_, bad := setup(t, tc.flow, append(mods, tc.bad)...)
			_, err := bad.Users(ctx(t))
			if !errors.Is(err, crm.ErrAuth) {
				t.Errorf("bad credentials: err = %v, want ErrAuth", err)
			}
		})
	}
}

func TestJWTExpiredAssertionRefused(t *testing.T) {
	emu := sfemu.New()
	defer emu.Close()
	emu.JWTPublicKey = &key(t).PublicKey
	// No key configured on the app: refused.
	emu2 := sfemu.New()
	defer emu2.Close()
	c := salesforce.New(salesforce.Config{LoginURL: emu2.URL(), Flow: "jwt", ClientID: emu2.ClientID, Username: emu2.Username, PrivateKeyPEM: pemOf(key(t), false)}, emu2.Client())
	if _, err := c.Users(ctx(t)); !errors.Is(err, crm.ErrAuth) {
		t.Errorf("no certificate: err = %v, want ErrAuth", err)
	}
	c = salesforce.New(salesforce.Config{LoginURL: emu.URL(), Flow: "jwt", ClientID: emu.ClientID, Username: emu.Username, PrivateKeyPEM: "garbage"}, emu.Client())
	if _, err := c.Users(ctx(t)); !errors.Is(err, crm.ErrAuth) {
		t.Errorf("bad key: err = %v, want ErrAuth", err)
	}
	// Default audience (login URL) against emulator expecting login.salesforce.com: refused.
	c = salesforce.New(salesforce.Config{LoginURL: emu.URL(), Flow: "jwt", ClientID: emu.ClientID, Username: emu.Username, PrivateKeyPEM: pemOf(key(t), false)}, emu.Client())
	if _, err := c.Users(ctx(t)); !errors.Is(err, crm.ErrAuth) {
		t.Errorf("wrong audience: err = %v, want ErrAuth", err)
	}
	c = salesforce.New(salesforce.Config{LoginURL: emu.URL(), Flow: "jwt", Audience: "https://login.salesforce.com", ClientID: emu.ClientID, Username: emu.Username, PrivateKeyPEM: pemOf(key(t), false)}, emu.Client())
	if _, err := c.Users(ctx(t)); err != nil {
		t.Errorf("right audience: %v", err)
	}
}

func TestTokenRefreshOnce(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	id := emu.Seed("Contact", map[string]any{"LastName": "Refresh"})
	if _, err := c.Get(ctx(t), "Contact", id); err != nil {
		t.Fatal(err)
	}
	emu.ExpireTokens()
	before := emu.Requests()
	if _, err := c.Get(ctx(t), "Contact", id); err != nil {
		t.Fatalf("Get after expiry: %v", err)
	}
	// 401, token, retry.
	if n := emu.Requests() - before; n != 3 {
		t.Errorf("requests after expiry = %d, want 3 (refused, new token, retry)", n)
	}
	if n := tokenRequests(emu); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
	// A token refused again right after renewal: exactly one retry, then ErrAuth.
	var mu sync.Mutex
	count := 0
	base := emu.Client().Transport
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasPrefix(r.URL.Path, "/services/data/") {
			mu.Lock()
			count++
			mu.Unlock()
			emu.ExpireTokens()
		}
		return base.RoundTrip(r)
	})}
	c2 := salesforce.New(salesforce.Config{LoginURL: emu.URL(), Flow: "client_credentials", ClientID: emu.ClientID, ClientSecret: emu.ClientSecret}, client)
	_, err := c2.Get(ctx(t), "Contact", id)
	if !errors.Is(err, crm.ErrAuth) {
		t.Errorf("always-refused token: err = %v, want ErrAuth", err)
	}
	if count != 2 {
		t.Errorf("data requests = %d, want 2 (one retry)", count)
	}
}

func TestPaging(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	emu.PageSize = 3
	for i := 0; i < 10; i++ {
		emu.Seed("User", map[string]any{"Name": fmt.Sprintf("Agent %02d", i), "Email": fmt.Sprintf("a%d@example.com", i), "IsActive": true})
	}
	emu.Seed("User", map[string]any{"Name": "Gone", "IsActive": false})
	users, err := c.Users(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 11 { // 10 + the integration user
		t.Errorf("users = %d, want 11", len(users))
	}
	pages := 0
	for _, l := range emu.Log() {
		if strings.Contains(l, "/query") {
			pages++
		}
	}
	if pages != 4 {
		t.Errorf("query requests = %d, want 4 (11 rows / 3)", pages)
	}
	rows, err := c.Query(ctx(t), "SELECT Id FROM User WHERE IsActive = true", 5)
	if err != nil || len(rows) != 5 {
		t.Errorf("Query(max 5) = %d rows, %v", len(rows), err)
	}
}

func TestSOSLEscaping(t *testing.T) {
	for in, want := range map[string]string{
		"4155551212":                        "4155551212",
		"+1 (415) 555":                      `\+1 \(415\) 555`,
		`a&b|c!d{e}f[g]h^i"j~k*l?m:n\o'p-q`: `a\&b\|c\!d\{e\}f\[g\]h\^i\"j\~k\*l\?m\:n\\o\'p\-q`,
	} {
		if got := salesforce.EscapeSOSL(in); got != want {
			t.Errorf("EscapeSOSL(%q) = %q, want %q", in, got, want)
		}
		if back := sfemu.UnescapeSOSL(salesforce.EscapeSOSL(in)); back != in {
			t.Errorf("round trip %q → %q", in, back)
		}
	}
	q := salesforce.SOSLPhone("34915550101", []string{"Contact", "Account", "Lead", "Opportunity"}, 50)
	want := "FIND {34915550101} IN PHONE FIELDS RETURNING Contact(Id,Name,Phone,MobilePhone), Account(Id,Name,Phone), Lead(Id,Name,Phone,MobilePhone), Opportunity(Id,Name) LIMIT 50"
	if q != want {
		t.Errorf("SOSLPhone = %q\nwant %q", q, want)
	}
	// The emulator parses what the connector sends and finds the term.
	emu, c := setup(t, "client_credentials")
	id := emu.Seed("Contact", map[string]any{"LastName": "Sosl", "Phone": "+34 915 55 01 01"})
	recs, err := c.Search(ctx(t), crm.Query{Phone: "+34915550101"})
	if err != nil || len(recs) != 1 || recs[0].ID != id {
		t.Errorf("Search = %+v, %v", recs, err)
	}
	sent := ""
	for _, l := range emu.Log() {
		if strings.Contains(l, "/search") {
			sent = l
		}
	}
	if sent == "" {
		t.Error("no /search request")
	}
}

func FuzzSOSLEscape(f *testing.F) {
	for _, s := range []string{"", "4155551212", `{}\`, "a}b", `\`, "x' OR 1", "+34 (91) 555-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := salesforce.EscapeSOSL(s)
		if back := sfemu.UnescapeSOSL(e); back != s {
			t.Fatalf("round trip %q → %q → %q", s, e, back)
		}
		// No unescaped reserved character survives.
		for i := 0; i < len(e); i++ {
			if e[i] == '\\' {
				i++
				continue
			}
			if strings.ContainsRune(`&|!(){}[]^"~*?:'+-`, rune(e[i])) {
				t.Fatalf("unescaped %q in %q", e[i], e)
			}
		}
	})
}

func FuzzLimitInfo(f *testing.F) {
	for _, s := range []string{"api-usage=18/5000", "api-usage=25/5000; api-bursts=1/100", "per-app-api-usage=17/250(appName=sample-app)", "", "api-usage=/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, l, ok := salesforce.ParseLimitInfo(s)
		if ok && (u < 0 || l < 0) {
			t.Fatalf("negative %d/%d from %q", u, l, s)
		}
	})
}

func TestUpsertMultiple300(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	a := emu.Seed("Contact", map[string]any{"LastName": "A", "neoSyncId__c": "dup"})
	emu.Seed("Contact", map[string]any{"LastName": "B", "neoSyncId__c": "dup"})
	_, _, err := c.Upsert(ctx(t), "Contact", "neoSyncId__c", "dup", map[string]string{"Title": "x"})
	if !errors.Is(err, crm.ErrMultiple) {
		t.Fatalf("err = %v, want ErrMultiple", err)
	}
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.Status != 300 {
		t.Errorf("err = %#v, want APIError 300", err)
	}
	if emu.Record("Contact", a)["Title"] != nil {
		t.Error("a 300 must not change any record")
	}
	// Unknown external-id field: rejected, not "not found".
	_, _, err = c.Upsert(ctx(t), "Contact", "Email", "x@example.com", map[string]string{"LastName": "x"})
	if !errors.Is(err, crm.ErrRejected) {
		t.Errorf("upsert on a non-external-id field: err = %v, want ErrRejected", err)
	}
	// A value with a slash and spaces travels escaped.
	id, created, err := c.Upsert(ctx(t), "Contact", "neoSyncId__c", "a/b c", map[string]string{"LastName": "Slash"})
	if err != nil || !created {
		t.Fatalf("Upsert(a/b c) = %q %v %v", id, created, err)
	}
	if got := emu.Record("Contact", id)["neoSyncId__c"]; got != "a/b c" {
		t.Errorf("stored external id = %v", got)
	}
}

func TestTaskFields(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	acct := emu.Seed("Account", map[string]any{"Name": "Acme"})
	owner := emu.Records("User")[0]["Id"].(string)
	start := time.Date(2026, 5, 4, 23, 30, 0, 0, time.UTC)
	a := crm.Activity{CallID: "conv-1", RecordType: crm.TypeAccount, RecordID: acct, Subject: "Outbound call to +34915550101",
		Direction: "outbound", DurationSeconds: 42, Start: start, OwnerID: owner}
	id, err := c.LogActivity(ctx(t), a)
	if err != nil {
		t.Fatal(err)
	}
	task := emu.Record("Task", id)
	want := map[string]any{"Subject": a.Subject, "Status": "Completed", "CallType": "Outbound", "CallDurationInSeconds": int64(42),
		"CallObject": "conv-1", "WhatId": acct, "TaskSubtype": "Call", "ActivityDate": "2026-05-04", "OwnerId": owner, "neoCallId__c": "conv-1"}
	for k, v := range want {
		if task[k] != v {
			t.Errorf("Task.%s = %#v, want %#v", k, task[k], v)
		}
	}
	if task["WhoId"] != nil {
		t.Errorf("WhoId = %v for an Account", task["WhoId"])
	}
	a.Disposition = "Venta / Alta"
	before := len(emu.Log())
	if id2, err := c.LogActivity(ctx(t), a); err != nil || id2 != id {
		t.Fatalf("relog = %q, %v", id2, err)
	}
	// The first try carries TaskSubtype (refused on update), the second not.
	var patches int
	for _, l := range emu.Log()[before:] {
		if strings.HasPrefix(l, "PATCH /services/data/v66.0/sobjects/Task/neoCallId__c/") {
			patches++
		}
	}
	if patches != 2 {
		t.Errorf("PATCH requests for the re-log = %d, want 2", patches)
	}
	if got := emu.Record("Task", id)["CallDisposition"]; got != "Venta / Alta" {
		t.Errorf("CallDisposition = %v", got)
	}
	if n := len(emu.Tasks()); n != 1 {
		t.Errorf("tasks = %d, want 1", n)
	}
	// Contact → WhoId.
	who := emu.Seed("Contact", map[string]any{"LastName": "W"})
	id3, err := c.LogActivity(ctx(t), crm.Activity{CallID: "conv-2", RecordID: who, Direction: "internal"})
	if err != nil {
		t.Fatal(err)
	}
	if task := emu.Record("Task", id3); task["WhoId"] != who || task["CallType"] != "Internal" {
		t.Errorf("task = %v", task)
	}
}

func TestLimitInfo(t *testing.T) {
	for h, want := range map[string][3]int{
		"api-usage=18/5000":                                  {18, 5000, 1},
		"api-usage=25/15000; api-bursts=1/100":               {25, 15000, 1},
		"per-app-api-usage=17/250(appName=sample-app)":       {0, 0, 0},
		"per-app-api-usage=17/250(appName=x), api-usage=3/9": {3, 9, 1},
		"": {0, 0, 0},
	} {
		u, l, ok := salesforce.ParseLimitInfo(h)
		if u != want[0] || l != want[1] || ok != (want[2] == 1) {
			t.Errorf("ParseLimitInfo(%q) = %d %d %v, want %v", h, u, l, ok, want)
		}
	}
	emu, c := setup(t, "client_credentials")
	if u, l := c.APIUsage(); u != -1 || l != -1 {
		t.Errorf("before any call: %d/%d", u, l)
	}
	emu.SetAPIUsage(1234)
	if _, err := c.Users(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if u, l := c.APIUsage(); u != 1235 || l != 15000 {
		t.Errorf("APIUsage = %d/%d, want 1235/15000", u, l)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "centralita_crm_salesforce_api_usage" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	if got["used"] != 1235 || got["limit"] != 15000 || len(got) != 2 {
		t.Errorf("gauges = %v, want used 1235, limit 15000", got)
	}
}

func TestUnavailable(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	id := emu.Seed("Contact", map[string]any{"LastName": "X"})
	emu.SetRateLimited(true)
	_, err := c.Get(ctx(t), "Contact", id)
	if !errors.Is(err, crm.ErrUnavailable) || !strings.Contains(err.Error(), "REQUEST_LIMIT_EXCEEDED") {
		t.Errorf("rate limited: err = %v, want ErrUnavailable naming REQUEST_LIMIT_EXCEEDED", err)
	}
	emu.SetRateLimited(false)
	for _, in := range []struct {
		status int
		code   string
		want   error
	}{
		{400, "UNABLE_TO_LOCK_ROW", crm.ErrUnavailable},
		{500, "UNKNOWN_EXCEPTION", crm.ErrUnavailable},
		{503, "SERVER_UNAVAILABLE", crm.ErrUnavailable},
		{429, "", crm.ErrUnavailable},
		{403, "INSUFFICIENT_ACCESS_OR_READONLY", crm.ErrRejected},
		{400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", crm.ErrRejected},
	} {
		emu.FailNext(in.status, in.code, "injected")
		_, err := c.Get(ctx(t), "Contact", id)
		if !errors.Is(err, in.want) {
			t.Errorf("%d %s: err = %v, want %v", in.status, in.code, err, in.want)
		}
	}
	// Network error.
	emu.Close()
	if _, err := c.Get(ctx(t), "Contact", id); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("closed server: err = %v", err)
	}
	// Token endpoint down: unavailable, not auth.
	emu2, c2 := setup(t, "password")
	emu2.SetDown(true)
	if _, err := c2.Users(ctx(t)); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("token endpoint down: err = %v", err)
	}
}

func TestRejectedDetail(t *testing.T) {
	_, c := setup(t, "client_credentials")
	_, err := c.Create(ctx(t), "Contact", map[string]string{"FirstName": "NoLast"})
	var ae *salesforce.APIError
	if !errors.Is(err, crm.ErrRejected) || !errors.As(err, &ae) || ae.Code != "REQUIRED_FIELD_MISSING" {
		t.Errorf("err = %v", err)
	}
	_, err = c.Search(ctx(t), crm.Query{Field: "Email = 'x' OR Name", Value: "x"})
	if !errors.Is(err, crm.ErrRejected) {
		t.Errorf("injected field name: err = %v", err)
	}
	// Email is not on Account/Opportunity: those types are skipped.
	recs, err := c.Search(ctx(t), crm.Query{Field: "Email", Value: "nobody@example.com", Types: []string{"Contact", "Account"}})
	if err != nil || len(recs) != 0 {
		t.Errorf("Search(Email on Contact+Account) = %v, %v", recs, err)
	}
	_, err = c.Search(ctx(t), crm.Query{Field: "Email", Value: "x", Types: []string{"Account"}})
	if !errors.Is(err, crm.ErrRejected) {
		t.Errorf("Search(Email on Account only) err = %v, want ErrRejected", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzSOQLKey: any value searched by key reaches the emulator's SOQL parser
// intact (EscapeSOQL quoting), finding exactly the record that holds it.
func FuzzSOQLKey(f *testing.F) {
	for _, s := range []string{"a@b.c", "o'hara", `back\slash`, `"q"`, "x' OR Name != '", "tab\there", "ñandú"} {
		f.Add(s)
	}
	emu, c := setup(f, "client_credentials")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.TrimSpace(s) == "" || !utf8.ValidString(s) {
			return
		}
		id := emu.Seed("Contact", map[string]any{"LastName": "F", "Email": s})
		recs, err := c.Search(context.Background(), crm.Query{Field: "Email", Value: s, Types: []string{"Contact"}, Limit: 2000})
		if err != nil {
			t.Fatalf("Search(%q): %v", s, err)
		}
		if _, ok := find(recs, id); !ok {
			t.Fatalf("Search(%q) did not find %s", s, id)
		}
		for _, r := range recs {
			if !strings.EqualFold(r.Fields["Email"], s) {
				t.Fatalf("Search(%q) returned %q", s, r.Fields["Email"])
			}
		}
	})
}

func find(recs []crm.Record, id string) (crm.Record, bool) {
	for _, r := range recs {
		if r.ID == id {
			return r, true
		}
	}
	return crm.Record{}, false
}
