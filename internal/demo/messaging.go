package demo

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/messaging"
	"github.com/centralita/centralita/internal/store"
)

// The demo's text messages: a messaging integration "Demo SMS/WhatsApp"
// whose webhook is a receiver built into the demo (MessageReceiver, at
// /demo/messages/webhook), and a page listing what it received
// (/demo/messages), so a message sent from the softphone can be seen
// arriving, signature checked, without an SMS provider.

// MessagingIntegrationName is the demo's messaging integration.
const MessagingIntegrationName = "Demo SMS/WhatsApp"

// Demo receiver paths.
const (
	MessagesPath = "/demo/messages"
	WebhookPath  = "/demo/messages/webhook"
)

const messagingSeededKey = "demo.messaging.seeded"

// maxReceived bounds what the receiver keeps (newest first).
const maxReceived = 200

// ReceivedMessage is one webhook call the receiver took.
type ReceivedMessage struct {
	Received      time.Time `json:"received"`
	SignatureOK   bool      `json:"signatureOk"`
	ID            string    `json:"id"`
	MessengerType string    `json:"messengerType"`
	To            string    `json:"to"`
	From          string    `json:"from"`
	Text          string    `json:"text"`
	Conversation  string    `json:"conversationId"`
}

// MessageReceiver is the demo's webhook and its page. One mutex guards the
// secret and the list.
type MessageReceiver struct {
	mu     sync.Mutex
	secret string
	got    []ReceivedMessage // newest first
}

// NewMessageReceiver returns a receiver with a fresh random secret.
func NewMessageReceiver() *MessageReceiver {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return &MessageReceiver{secret: base64.RawURLEncoding.EncodeToString(b)}
}

// Secret is the signature secret the receiver checks.
func (r *MessageReceiver) Secret() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.secret
}

// Received lists the messages taken, newest first.
func (r *MessageReceiver) Received() []ReceivedMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// Wrap serves the receiver's paths and hands the rest to next.
func (r *MessageReceiver) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case WebhookPath:
			r.webhook(w, req)
		case MessagesPath:
			r.page(w, req)
		default:
			next.ServeHTTP(w, req)
		}
	})
}

func (r *MessageReceiver) webhook(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST the outbound message here", http.StatusMethodNotAllowed)
		return
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var m messaging.OutboundMessage
	if err := json.Unmarshal(b, &m); err != nil || m.ID == "" {
		http.Error(w, "the body is not an outbound message", http.StatusBadRequest)
		return
	}
	ok := messaging.Verify(r.Secret(), b, req.Header.Get(messaging.SignatureHeader))
	rec := ReceivedMessage{Received: time.Now().UTC(), SignatureOK: ok, ID: m.ID, MessengerType: m.Channel.Metadata.CustomAttributes["messengerType"],
		To: m.Channel.To.ID, From: m.Channel.From.Nickname, Text: m.Text, Conversation: m.ConversationID}
	r.mu.Lock()
	r.got = append([]ReceivedMessage{rec}, r.got...)
	if len(r.got) > maxReceived {
		r.got = r.got[:maxReceived]
	}
	r.mu.Unlock()
	if !ok {
		// Kept on the page (marked) to show what a bad signature looks like;
		// the platform is told so, and does not retry a 401.
		http.Error(w, "bad X-Hub-Signature-256", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
}

var receivedPage = template.Must(template.New("messages").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo SMS/WhatsApp receiver</title>
<style>body{font:15px system-ui,sans-serif;margin:1.5rem;color:#1d2733}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d5dbe3;padding:.4rem .5rem;text-align:left;vertical-align:top}th{background:#f2f5f8}
.bad{color:#a3141b;font-weight:600}.ok{color:#17663a}</style></head>
<body><h1>Demo SMS/WhatsApp receiver</h1>
<p>Messages the demo's messaging integration delivered here (its webhook), newest first. Reload to see new ones.</p>
{{if .}}<table aria-label="Messages received"><thead><tr><th>Received (UTC)</th><th>Channel</th><th>To</th><th>Text</th><th>Signature</th></tr></thead><tbody>
{{range .}}<tr data-id="{{.ID}}"><td>{{.Received.Format "2006-01-02 15:04:05"}}</td><td>{{.MessengerType}}</td><td>{{.To}}</td><td>{{.Text}}</td>
<td>{{if .SignatureOK}}<span class="ok">valid</span>{{else}}<span class="bad">invalid</span>{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No messages yet.</p>{{end}}
</body></html>`))

func (r *MessageReceiver) page(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	got := r.Received()
	if req.URL.Query().Get("format") == "json" || req.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		if got == nil {
			got = []ReceivedMessage{}
		}
		json.NewEncoder(w).Encode(map[string]any{"entities": got})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	receivedPage.Execute(w, got)
}

// SeedMessaging points the demo's messaging integration at the receiver
// (webhookURL, the receiver's secret) at every start, since the port may
// change. The first time it also creates the integration and lets the
// demo call center send text messages; removing either later is not undone.
func SeedMessaging(ctx context.Context, db *store.DB, cc *crm.Service, svc *messaging.Service, webhookURL, secret string) error {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, messagingSeededKey).Scan(&v)
	switch {
	case err == nil:
		in, err := svc.IntegrationByName(ctx, MessagingIntegrationName)
		if crmNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = svc.UpdateIntegration(ctx, in.ID, messaging.IntegrationPatch{WebhookURL: &webhookURL, SecretToken: &secret})
		return err
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if _, err := svc.CreateIntegration(ctx, messaging.Integration{Name: MessagingIntegrationName, WebhookURL: webhookURL, SecretToken: secret,
		MessengerTypes: []string{messaging.SMS, messaging.WhatsApp}}); err != nil {
		return err
	}
	if c, err := cc.CallCenterByName(ctx, CRMCallCenterName); err == nil && !c.AllowTextMessage {
		c.AllowTextMessage = true
		if _, err := cc.UpdateCallCenter(ctx, c.ID, c); err != nil {
			return err
		}
	} else if err != nil && !crmNotFound(err) {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO settings (key, value, modified_at) VALUES ($1, '1', $2) ON CONFLICT (key) DO NOTHING`,
		messagingSeededKey, store.Millis(time.Now()))
	return err
}
