package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/centralita/centralita/internal/api"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/demo"
	"github.com/centralita/centralita/internal/messaging"
)

// Text messages (SMS, WhatsApp) through messaging integrations: the
// service and its API, its delivery goroutine, and in the demo the
// built-in receiver (/demo/messages) its integration delivers to.

// buildMessaging makes the messaging service and hands it to the API.
// Webhooks reach internal addresses only with allow_internal_webhooks (on in
// the demo, whose receiver is this server); the demo serves the receiver in
// front of the web console.
func (a *App) buildMessaging(srv *api.Server) {
	isDemo := a.Config.Mode == config.ModeDemo
	a.Messaging = messaging.New(a.DB, a.Outbox, a.Box, a.Clock, messaging.Options{AllowInternal: a.Config.AllowInternalWebhooks})
	srv.Messaging = a.Messaging
	if a.registry != nil {
		a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centralita_messaging_pending",
			Help: "Text messages accepted but not yet delivered to their integration's webhook (a growing number: the webhook is down)."},
			func() float64 {
				n, err := a.Messaging.PendingMessages(context.Background())
				if err != nil {
					return -1
				}
				return float64(n)
			}))
	}
	if isDemo {
		a.demoInbox = demo.NewMessageReceiver()
		if srv.Web != nil {
			srv.Web = a.demoInbox.Wrap(srv.Web)
		}
	}
}

// startMessaging points the demo's integration at this server's receiver
// (the port is known now) and starts delivering.
func (a *App) startMessaging(ctx context.Context) {
	if a.demoInbox != nil {
		if err := demo.SeedMessaging(ctx, a.DB, a.CRM, a.Messaging, a.URL()+demo.WebhookPath, a.demoInbox.Secret()); err != nil {
			a.Log.Warn("demo messaging integration not set up", "err", err)
		}
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.Messaging.Run(ctx)
	}()
}

// DemoMessages lists what the demo's receiver got (nil outside the demo).
func (a *App) DemoMessages() []demo.ReceivedMessage {
	if a.demoInbox == nil {
		return nil
	}
	return a.demoInbox.Received()
}
