package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/demo"
	"github.com/centralita/centralita/internal/messaging"
)

const hookSecret = "webhook-secret-of-the-test"

// hook is a webhook receiver on 127.0.0.1 recording what it was sent.
type hook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []messaging.OutboundMessage
	sigs []bool
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m messaging.OutboundMessage
		json.Unmarshal(b, &m)
		h.mu.Lock()
		h.got = append(h.got, m)
		h.sigs = append(h.sigs, messaging.Verify(hookSecret, b, r.Header.Get("X-Hub-Signature-256")))
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// wait returns the n-th (from 1) message once it arrived (bounded poll).
func (h *hook) wait(t *testing.T, n int) (messaging.OutboundMessage, bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		if len(h.got) >= n {
			m, ok := h.got[n-1], h.sigs[n-1]
			h.mu.Unlock()
			return m, ok
		}
		h.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the webhook got no message %d within 10 s", n)
	return messaging.OutboundMessage{}, false
}

func TestMessagingAgentless(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin, agent := e.token(t, pAdminCC), e.token(t, pAgent)
	const ints = "/api/v2/conversations/messaging/integrations/open"

	// The demo's integration exists, its secret write-only.
	list := e.must(t, 200, "GET", ints, admin, nil).entities(t)
	if !slices.Contains(names(list), demo.MessagingIntegrationName) {
		t.Fatalf("integrations %v lack the demo's", names(list))
	}
	for _, in := range list {
		if _, ok := in["outboundNotificationWebhookSignatureSecretToken"]; ok || in["createStatus"] != "Completed" {
			t.Errorf("integration %v", in)
		}
	}
	e.must(t, 403, "GET", ints, agent, nil)

	h := newHook(t)
	in := e.must(t, 200, "POST", ints, admin, map[string]any{"name": "Test WhatsApp", "outboundNotificationWebhookUrl": h.srv.URL + "/hook",
		"outboundNotificationWebhookSignatureSecretToken": hookSecret, "messengerTypes": []string{"whatsapp"},
		"webhookHeaders": map[string]string{"X-Tenant": "t1"}}).obj(t)
	intID, _ := in["id"].(string)
	if !uuidRE.MatchString(intID) || in["outboundNotificationWebhookSignatureSecretTokenSet"] != true || in["status"] != "Active" {
		t.Fatalf("created integration %v", in)
	}
	m := errorBody(t, e.send(t, "POST", ints, admin, map[string]any{"name": "Short", "outboundNotificationWebhookUrl": h.srv.URL,
		"outboundNotificationWebhookSignatureSecretToken": "short"}), 400, "")
	if !slices.Contains(detailFields(m), "outboundNotificationWebhookSignatureSecretToken") {
		t.Errorf("short secret: %v", m)
	}

	// An agent sends a WhatsApp message: 202, then the signed webhook call;
	// the agent hears of both on their messages topic.
	mine := "v2.users." + e.userID(t, pAgent) + ".messages"
	sock := (&callEnv{testEnv: e}).socket(t, pAgent, mine)
	r := e.must(t, 202, "POST", "/api/v2/conversations/messages/agentless", agent, map[string]any{
		"fromAddress": intID, "toAddress": "+34 600 111 222", "toAddressMessengerType": "whatsapp", "textBody": "Su cita es mañana a las 10."})
	sent := r.obj(t)
	user, _ := sent["user"].(map[string]any)
	if !uuidRE.MatchString(sent["id"].(string)) || sent["fromAddress"] != intID || sent["toAddress"] != "+34600111222" ||
		sent["messengerType"] != "whatsapp" || sent["textBody"] != "Su cita es mañana a las 10." || !dateRE.MatchString(sent["timestamp"].(string)) ||
		user["id"] != e.userID(t, pAgent) || sent["conversationId"] == "" {
		t.Fatalf("agentless answer %s", r)
	}
	got, sigOK := h.wait(t, 1)
	if !sigOK {
		t.Error("the webhook's X-Hub-Signature-256 does not verify (base64 HMAC-SHA256 of the body)")
	}
	if got.ID != sent["id"] || got.Text != "Su cita es mañana a las 10." || got.Channel.To.ID != "+34600111222" ||
		got.Channel.From.Nickname != "Test WhatsApp" || got.Direction != "Outbound" || got.OriginatingEntity != "Human" ||
		got.ConversationID != sent["conversationId"] || got.Channel.Metadata.CustomAttributes["messengerType"] != "whatsapp" {
		t.Errorf("webhook body %+v", got)
	}
	self := "/api/v2/conversations/messages/agentless/" + sent["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.must(t, 200, "GET", self, agent, nil).obj(t)
		if st["state"] == "delivered" {
			if st["attempts"] != float64(1) || st["statusCode"] != float64(200) {
				t.Errorf("delivery %v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("message still %v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, state := range []string{"pending", "delivered"} {
		ev := sock.until("message "+state, func(ev sockEvent) bool { return ev.topic == mine && ev.body["state"] == state })
		if ev.body["id"] != sent["id"] || ev.body["messengerType"] != "whatsapp" || ev.body["toAddress"] != "+34600111222" {
			t.Errorf("%s event %v", state, ev.body)
		}
	}
	e.must(t, 404, "GET", self, e.token(t, "agent2"), nil)
	e.must(t, 200, "GET", self, e.token(t, pSupervisor), nil)

	// Without fromAddress an SMS goes through the demo's integration to its receiver.
	e.must(t, 202, "POST", "/api/v2/conversations/messages/agentless", agent, map[string]any{
		"toAddress": "+34911234567", "toAddressMessengerType": "sms", "textBody": "Hola desde la demo"})
	deadline = time.Now().Add(10 * time.Second)
	for {
		msgs := e.app.DemoMessages()
		if len(msgs) == 1 {
			if !msgs[0].SignatureOK || msgs[0].Text != "Hola desde la demo" || msgs[0].To != "+34911234567" || msgs[0].MessengerType != "sms" {
				t.Errorf("demo receiver got %+v", msgs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo receiver got %d messages", len(msgs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	page := e.must(t, 200, "GET", demo.MessagesPath, "", nil)
	if !strings.Contains(string(page.body), "Hola desde la demo") || !strings.Contains(string(page.body), "valid") {
		t.Errorf("/demo/messages: %s", page)
	}

	// Bad input names the field.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"toAddress": "600111222", "toAddressMessengerType": "sms", "textBody": "x"}, "toAddress"},
		{map[string]any{"toAddress": "+34600111222", "toAddressMessengerType": "sms", "textBody": ""}, "textBody"},
		{map[string]any{"toAddress": "+34600111222", "toAddressMessengerType": "sms", "textBody": strings.Repeat("a", messaging.MaxTextRunes+1)}, "textBody"},
		{map[string]any{"toAddress": "+34600111222", "toAddressMessengerType": "fax", "textBody": "x"}, "toAddressMessengerType"},
		{map[string]any{"fromAddress": unknownID, "toAddress": "+34600111222", "toAddressMessengerType": "sms", "textBody": "x"}, "fromAddress"},
		{map[string]any{"fromAddress": intID, "toAddress": "+34600111222", "toAddressMessengerType": "sms", "textBody": "x"}, "toAddressMessengerType"},
	} {
		m := errorBody(t, e.send(t, "POST", "/api/v2/conversations/messages/agentless", agent, c.body), 400, "")
		if !slices.Contains(detailFields(m), c.field) {
			t.Errorf("%v: details %v, want %s", c.body, m["details"], c.field)
		}
	}

	// Integration changes: rename, delete.
	p := e.must(t, 200, "PATCH", ints+"/"+intID, admin, map[string]any{"name": "Renamed"}).obj(t)
	if p["name"] != "Renamed" || p["outboundNotificationWebhookUrl"] != h.srv.URL+"/hook" {
		t.Errorf("patched %v", p)
	}
	e.must(t, 204, "DELETE", ints+"/"+intID, admin, nil)
	e.must(t, 404, "GET", ints+"/"+intID, admin, nil)

	// A call center that does not allow text messages: 403 for everyone.
	ccs := e.must(t, 200, "GET", "/api/v2/crm/callcenters", admin, nil).entities(t)
	cc := ccs[0]
	cc["allowTextMessage"] = false
	e.must(t, 200, "PUT", "/api/v2/crm/callcenters/"+cc["id"].(string), admin, cc)
	errorBody(t, e.send(t, "POST", "/api/v2/conversations/messages/agentless", agent,
		map[string]any{"toAddress": "+34600111222", "toAddressMessengerType": "sms", "textBody": "x"}), 403, "messaging.off")
}
