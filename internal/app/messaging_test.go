package app

import (
	"context"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/demo"
	"github.com/centralita/centralita/internal/messaging"
)

// waitDemoMessage waits (bounded: real HTTP) for the demo receiver to hold
// n messages and returns the newest.
func waitDemoMessage(t *testing.T, a *App, n int) demo.ReceivedMessage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := a.DemoMessages(); len(got) >= n {
			return got[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo receiver holds %d messages, want %d", len(a.DemoMessages()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The demo's messaging integration delivers to the demo's own receiver,
// signed; after a restart (a new port, a new receiver secret) it is
// pointed at the new one, and an admin's change to the call center's
// allowTextMessage is kept.
func TestDemoMessagingAcrossRestart(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	a := run(t, demoConfig(t, data))
	in, err := a.Messaging.IntegrationByName(ctx, demo.MessagingIntegrationName)
	if err != nil {
		t.Fatal(err)
	}
	if in.WebhookURL != a.URL()+demo.WebhookPath || !in.Carries(messaging.SMS) || !in.Carries(messaging.WhatsApp) {
		t.Fatalf("demo integration %+v (server at %s)", in, a.URL())
	}
	cc, err := a.CRM.CallCenterByName(ctx, demo.CRMCallCenterName)
	if err != nil || !cc.AllowTextMessage {
		t.Fatalf("the demo call center does not allow text messages: %+v %v", cc, err)
	}
	if _, err := a.Messaging.Send(ctx, messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "whatsapp", Text: "uno"}); err != nil {
		t.Fatal(err)
	}
	if m := waitDemoMessage(t, a, 1); !m.SignatureOK || m.Text != "uno" || m.MessengerType != "whatsapp" {
		t.Fatalf("first start: %+v", m)
	}
	cc.AllowTextMessage = false
	if _, err := a.CRM.UpdateCallCenter(ctx, cc.ID, cc); err != nil {
		t.Fatal(err)
	}
	stop(t, a)

	b := run(t, demoConfig(t, data))
	defer stop(t, b)
	ins, total, err := b.Messaging.ListIntegrations(ctx, 10, 0)
	if err != nil || total != 1 || ins[0].WebhookURL != b.URL()+demo.WebhookPath {
		t.Fatalf("after the restart: %+v (%d) %v; server at %s", ins, total, err, b.URL())
	}
	if cc, _ := b.CRM.CallCenterByName(ctx, demo.CRMCallCenterName); cc.AllowTextMessage {
		t.Error("the restart turned allowTextMessage back on")
	}
	if _, err := b.Messaging.Send(ctx, messaging.SendRequest{ToAddress: "+34911234567", MessengerType: "sms", Text: "dos"}); err != nil {
		t.Fatal(err)
	}
	if m := waitDemoMessage(t, b, 1); !m.SignatureOK || m.Text != "dos" {
		t.Fatalf("after the restart: %+v", m)
	}
}
