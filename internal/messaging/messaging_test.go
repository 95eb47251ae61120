package messaging_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/messaging"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

const testSecret = "a-secret-longer-than-15"

// receiver is a webhook on 127.0.0.1 that checks signatures and answers
// with the statuses it is given, then 200.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
	// answers are the statuses of the first calls; later calls get 200.
	answers []int
}

type received struct {
	body     []byte
	sigOK    bool
	header   http.Header
	envelope messaging.OutboundMessage
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var env messaging.OutboundMessage
		json.Unmarshal(b, &env)
		r.mu.Lock()
		r.got = append(r.got, received{body: b, sigOK: messaging.Verify(testSecret, b, req.Header.Get(messaging.SignatureHeader)), header: req.Header.Clone(), envelope: env})
		status := 200
		if len(r.answers) > 0 {
			status, r.answers = r.answers[0], r.answers[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) calls() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func testBox(t *testing.T) *secret.Box {
	b, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type env struct {
	db  *store.DB
	clk *clock.Fake
	svc *messaging.Service
}

func newEnv(t *testing.T, db *store.DB, allowInternal bool) env {
	clk := clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	ob := outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	svc := messaging.New(db, ob, testBox(t), clk, messaging.Options{AllowInternal: allowInternal, Timeout: 5 * time.Second})
	return env{db: db, clk: clk, svc: svc}
}

// run starts the writer until the test ends.
func (e env) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitState polls a message until its state and attempts are as wanted and
// the writer is idle (real HTTP: a bounded deadline, not a sleep).
func (e env) waitState(t *testing.T, id, state string, attempts int) messaging.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := e.svc.Message(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.State == state && m.Attempts == attempts && e.svc.Idle() {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s: state %s after %d attempts (last error %q), want %s after %d", id, m.State, m.Attempts, m.LastError, state, attempts)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e env) integration(t *testing.T, url string, types ...string) messaging.Integration {
	t.Helper()
	in, err := e.svc.CreateIntegration(context.Background(), messaging.Integration{Name: "SMS gateway", WebhookURL: url, SecretToken: testSecret,
		MessengerTypes: types, Headers: map[string]string{"X-Api-Key": "k1"}})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestSendDeliversSignedMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		rcv := newReceiver(t)
		in := e.integration(t, rcv.srv.URL+"/hook", messaging.SMS, messaging.WhatsApp)
		e.run(t)
		m, err := e.svc.Send(context.Background(), messaging.SendRequest{ToAddress: "+34 600 111 222", MessengerType: "WhatsApp",
			Text: "Hola, le llamamos mañana.", UserID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if m.FromAddress != in.ID || m.ToAddress != "+34600111222" || m.MessengerType != messaging.WhatsApp || m.ConversationID == "" {
			t.Fatalf("accepted message %+v", m)
		}
		got := e.waitState(t, m.ID, messaging.Delivered, 1)
		if got.StatusCode != 200 || got.DateDelivered.IsZero() {
			t.Errorf("delivered message %+v", got)
		}
		calls := rcv.calls()
		if len(calls) != 1 {
			t.Fatalf("webhook got %d calls, want 1", len(calls))
		}
		c := calls[0]
		if !c.sigOK {
			t.Errorf("signature %q does not verify (base64 HMAC-SHA256 of the body)", c.header.Get(messaging.SignatureHeader))
		}
		if sig, ok := strings.CutPrefix(c.header.Get(messaging.SignatureHeader), "sha256="); !ok {
			t.Errorf("signature header %q lacks sha256=", sig)
		} else if raw, err := base64.StdEncoding.DecodeString(sig); err != nil || len(raw) != 32 {
			t.Errorf("signature %q is not base64 of 32 bytes: %v", sig, err)
		}
		if c.header.Get("X-Api-Key") != "k1" || c.header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", c.header)
		}
		ev := c.envelope
		if ev.ID != m.ID || ev.Type != "Text" || ev.Direction != "Outbound" || ev.Text != "Hola, le llamamos mañana." ||
			ev.ConversationID != m.ConversationID || ev.OriginatingEntity != "Human" ||
			ev.Channel.ID != in.ID || ev.Channel.Platform != "Open" || ev.Channel.Type != "Private" ||
			ev.Channel.To.ID != "+34600111222" || ev.Channel.To.IDType != "Phone" ||
			ev.Channel.From.ID != in.ID || ev.Channel.From.Nickname != "SMS gateway" ||
			ev.Channel.Metadata.CustomAttributes["messengerType"] != "whatsapp" || ev.Channel.Time != "2026-05-01T10:00:00.000Z" {
			t.Errorf("webhook body %s", c.body)
		}
	})
}

func TestSignatureIsBase64(t *testing.T) {
	// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
	got := messaging.Sign("Jefe", []byte("what do ya want for nothing?"))
	const want = "sha256=W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if messaging.Verify("Jefe", []byte("what do ya want for nothing!"), want) {
		t.Fatal("Verify accepted another body")
	}
}

func TestRetriesWithBackoffThenDelivers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		rcv := newReceiver(t, 503, 429)
		e.integration(t, rcv.srv.URL, messaging.SMS)
		e.run(t)
		m, err := e.svc.Send(context.Background(), messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		p := e.waitState(t, m.ID, messaging.Pending, 1)
		if p.StatusCode != 503 || !strings.Contains(p.LastError, "503") || !p.NextAttempt.Equal(m.Time.Add(messaging.Backoff(1))) {
			t.Fatalf("after a 503: %+v", p)
		}
		e.clk.Advance(messaging.Backoff(1) - time.Millisecond)
		if n := len(rcv.calls()); n != 1 {
			t.Fatalf("retried before the backoff: %d calls", n)
		}
		e.clk.Advance(time.Millisecond)
		e.waitState(t, m.ID, messaging.Pending, 2)
		e.clk.Advance(messaging.Backoff(2))
		e.waitState(t, m.ID, messaging.Delivered, 3)
		calls := rcv.calls()
		if len(calls) != 3 || string(calls[0].body) != string(calls[2].body) || !calls[2].sigOK {
			t.Fatalf("%d calls; the retry must send the same signed body", len(calls))
		}
	})
}

func TestGivesUpAndFailsOnRejection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		down := newReceiver(t, 500, 500, 500, 500, 500, 500, 500)
		e.integration(t, down.srv.URL, messaging.SMS)
		e.run(t)
		m, err := e.svc.Send(context.Background(), messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n < messaging.MaxAttempts; n++ {
			e.waitState(t, m.ID, messaging.Pending, n)
			e.clk.Advance(messaging.Backoff(n))
		}
		f := e.waitState(t, m.ID, messaging.Failed, messaging.MaxAttempts)
		if !strings.Contains(f.LastError, "gave up") {
			t.Errorf("last error %q", f.LastError)
		}

		// A 400 is not retried.
		bad := newReceiver(t, 400)
		in2, err := e.svc.CreateIntegration(context.Background(), messaging.Integration{Name: "WA", WebhookURL: bad.srv.URL, SecretToken: testSecret,
			MessengerTypes: []string{messaging.WhatsApp}})
		if err != nil {
			t.Fatal(err)
		}
		m2, err := e.svc.Send(context.Background(), messaging.SendRequest{FromAddress: in2.ID, ToAddress: "+34911234567", MessengerType: "whatsapp", Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		f2 := e.waitState(t, m2.ID, messaging.Failed, 1)
		if f2.StatusCode != 400 || !strings.Contains(f2.LastError, "400") {
			t.Errorf("after a 400: %+v", f2)
		}
	})
}

func TestGuardRefusesInternalWebhooks(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/x", "https://127.0.0.1/x", "https://10.1.2.3/x", "https://[::1]/x",
		"https://169.254.169.254/latest", "https://localhost/x", "https://example.com:8443/x", "ftp://example.com/x", "https://user:pw@example.com/x"} {
		if err := messaging.CheckWebhookURL(u, false); err == nil {
			t.Errorf("CheckWebhookURL(%q) accepted", u)
		}
	}
	if err := messaging.CheckWebhookURL("https://hooks.example.com/sms", false); err != nil {
		t.Errorf("a public https URL refused: %v", err)
	}
	if err := messaging.CheckWebhookURL("http://127.0.0.1:8080/x", true); err != nil {
		t.Errorf("allowed internal URL refused: %v", err)
	}

	// The dialer refuses internal addresses after name resolution.
	rcv := newReceiver(t)
	_, err := messaging.GuardedClient(false, time.Second).Get(rcv.srv.URL)
	if err == nil || !strings.Contains(err.Error(), "internal address") || len(rcv.calls()) != 0 {
		t.Errorf("guarded client reached %s: %v", rcv.srv.URL, err)
	}
	if res, err := messaging.GuardedClient(true, time.Second).Get(rcv.srv.URL); err != nil {
		t.Errorf("allowed client: %v", err)
	} else {
		res.Body.Close()
	}

	// An integration stored while internal webhooks were allowed is not
	// dialed once they are not: the message fails naming why.
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		allowed := newEnv(t, db, true)
		rcv := newReceiver(t)
		allowed.integration(t, rcv.srv.URL, messaging.SMS)
		strict := newEnv(t, db, false)
		strict.run(t)
		m, err := strict.svc.Send(context.Background(), messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		f := strict.waitState(t, m.ID, messaging.Failed, 1)
		if !strings.Contains(f.LastError, "https on port 443") || len(rcv.calls()) != 0 {
			t.Fatalf("internal webhook: %+v, %d calls", f, len(rcv.calls()))
		}
	})
}

func fields(err error) []string {
	var out []string
	for _, p := range problem.All(err) {
		out = append(out, p.Field)
	}
	return out
}

func TestValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		ctx := context.Background()
		_, err := e.svc.Send(ctx, messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: "hi"})
		var p *problem.Problem
		if !errors.As(err, &p) || p.Code != "messaging.no.integration" {
			t.Fatalf("send without integrations: %v", err)
		}
		in := e.integration(t, "http://127.0.0.1:9/x", messaging.SMS)

		cases := []struct {
			r    messaging.SendRequest
			want string
		}{
			{messaging.SendRequest{ToAddress: "911234567", MessengerType: "sms", Text: "x"}, "toAddress"},
			{messaging.SendRequest{ToAddress: "+0911234567", MessengerType: "sms", Text: "x"}, "toAddress"},
			{messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: "  "}, "textBody"},
			{messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: strings.Repeat("ñ", messaging.MaxTextRunes+1)}, "textBody"},
			{messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "fax", Text: "x"}, "toAddressMessengerType"},
			{messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "", Text: "x"}, "toAddressMessengerType"},
			{messaging.SendRequest{FromAddress: "nope", ToAddress: "+34911234567", MessengerType: "sms", Text: "x"}, "fromAddress"},
			{messaging.SendRequest{FromAddress: "00000000-0000-4000-8000-00000000dead", ToAddress: "+34911234567", MessengerType: "sms", Text: "x"}, "fromAddress"},
			{messaging.SendRequest{FromAddress: in.ID, ToAddress: "+34911234567", MessengerType: "whatsapp", Text: "x"}, "toAddressMessengerType"},
			{messaging.SendRequest{ToAddress: "", MessengerType: "open", Text: "x"}, "toAddress"},
		}
		for _, c := range cases {
			_, err := e.svc.Send(ctx, c.r)
			if !slices.Contains(fields(err), c.want) {
				t.Errorf("Send(%+v): %v, want a problem on %s", c.r, err, c.want)
			}
		}
		if _, err := e.svc.Send(ctx, messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: strings.Repeat("ñ", messaging.MaxTextRunes)}); err != nil {
			t.Errorf("a %d-character text refused: %v", messaging.MaxTextRunes, err)
		}

		bad := []struct {
			in   messaging.Integration
			want string
		}{
			{messaging.Integration{Name: "", WebhookURL: "http://127.0.0.1/x", SecretToken: testSecret, MessengerTypes: []string{"sms"}}, "name"},
			{messaging.Integration{Name: "a", WebhookURL: "not a url", SecretToken: testSecret, MessengerTypes: []string{"sms"}}, "outboundNotificationWebhookUrl"},
			{messaging.Integration{Name: "a", WebhookURL: "http://127.0.0.1/x", SecretToken: "short", MessengerTypes: []string{"sms"}}, "outboundNotificationWebhookSignatureSecretToken"},
			{messaging.Integration{Name: "a", WebhookURL: "http://127.0.0.1/x", MessengerTypes: []string{"sms"}}, "outboundNotificationWebhookSignatureSecretToken"},
			{messaging.Integration{Name: "a", WebhookURL: "http://127.0.0.1/x", SecretToken: testSecret, MessengerTypes: []string{"fax"}}, "messengerTypes"},
			{messaging.Integration{Name: "a", WebhookURL: "http://127.0.0.1/x", SecretToken: testSecret}, "messengerTypes"},
			{messaging.Integration{Name: "a", WebhookURL: "http://127.0.0.1/x", SecretToken: testSecret, MessengerTypes: []string{"sms"}, Status: "On"}, "status"},
			{messaging.Integration{Name: "a", WebhookURL: "http://127.0.0.1/x", SecretToken: testSecret, MessengerTypes: []string{"sms"},
				Headers: map[string]string{"X-Hub-Signature-256": "forged"}}, "webhookHeaders"},
			{messaging.Integration{Name: "sms GATEWAY", WebhookURL: "http://127.0.0.1/x", SecretToken: testSecret, MessengerTypes: []string{"sms"}}, "name"},
		}
		for _, c := range bad {
			_, err := e.svc.CreateIntegration(ctx, c.in)
			if !slices.Contains(fields(err), c.want) {
				t.Errorf("CreateIntegration(%+v): %v, want a problem on %s", c.in, err, c.want)
			}
		}
	})
}

func TestIntegrationSecretSealedAndPatched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		ctx := context.Background()
		rcv := newReceiver(t)
		in := e.integration(t, rcv.srv.URL, messaging.SMS)
		if in.SecretToken != "" || !in.SecretSet {
			t.Fatalf("created integration exposes its secret: %+v", in)
		}
		var stored string
		if err := db.QueryRowContext(ctx, `SELECT secret FROM messaging_integrations WHERE id = $1`, in.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == "" || strings.Contains(stored, testSecret) {
			t.Fatalf("secret stored in clear: %q", stored)
		}
		name := "Renamed"
		inactive := messaging.Inactive
		up, err := e.svc.UpdateIntegration(ctx, in.ID, messaging.IntegrationPatch{Name: &name, Status: &inactive})
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != "Renamed" || up.Status != messaging.Inactive || !up.SecretSet || up.WebhookURL != in.WebhookURL {
			t.Fatalf("patched %+v", up)
		}
		_, err = e.svc.Send(ctx, messaging.SendRequest{FromAddress: in.ID, ToAddress: "+34911234567", MessengerType: "sms", Text: "x"})
		var p *problem.Problem
		if !errors.As(err, &p) || p.Code != "messaging.integration.inactive" {
			t.Fatalf("send through an inactive integration: %v", err)
		}
		list, total, err := e.svc.ListIntegrations(ctx, 10, 0)
		if err != nil || total != 1 || len(list) != 1 || list[0].Name != "Renamed" {
			t.Fatalf("list %v %d %v", list, total, err)
		}
		if err := e.svc.DeleteIntegration(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.GetIntegration(ctx, in.ID); !errors.As(err, &p) || p.Kind != problem.NotFound {
			t.Fatalf("get after delete: %v", err)
		}
	})
}

// A message accepted while no writer runs (a crash right after the
// commit) is delivered by the next run, from the table.
func TestRestartDeliversPending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		rcv := newReceiver(t)
		e.integration(t, rcv.srv.URL, messaging.SMS)
		m, err := e.svc.Send(context.Background(), messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: "after the restart"})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := e.svc.PendingMessages(context.Background()); err != nil || n != 1 {
			t.Fatalf("pending %d %v", n, err)
		}
		again := newEnv(t, storetest.Reopen(t, db), true)
		again.run(t)
		again.waitState(t, m.ID, messaging.Delivered, 1)
		if calls := rcv.calls(); len(calls) != 1 || calls[0].envelope.Text != "after the restart" || !calls[0].sigOK {
			t.Fatalf("after the restart the webhook got %d calls", len(calls))
		}
	})
}

// Two writers on one database (two nodes) deliver each message once: the
// lease keeps the second off a message the first took.
func TestTwoWritersDeliverOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newEnv(t, db, true)
		b := newEnv(t, storetest.Reopen(t, db), true)
		rcv := newReceiver(t)
		a.integration(t, rcv.srv.URL, messaging.SMS)
		a.run(t)
		b.run(t)
		var ids []string
		for i := 0; i < 12; i++ {
			svc := a.svc
			if i%2 == 1 {
				svc = b.svc
			}
			m, err := svc.Send(context.Background(), messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: fmt.Sprint("n", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		for _, id := range ids {
			a.waitState(t, id, messaging.Delivered, 1)
		}
		seen := map[string]int{}
		for _, c := range rcv.calls() {
			seen[c.envelope.ID]++
		}
		for _, id := range ids {
			if seen[id] != 1 {
				t.Errorf("message %s delivered %d times", id, seen[id])
			}
		}
	})
}
