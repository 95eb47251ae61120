package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/messaging"
	"github.com/centralita/centralita/internal/problem"
)

// Outbound text messages (SMS, WhatsApp, Open Messaging): agentless
// messages and the Open Messaging integrations they go through
// (reference data-actions-messaging-flows.md §4).

// AgentlessMessageBody is the platform's SendAgentlessOutboundMessageRequest.
type AgentlessMessageBody struct {
	FromAddress            string `json:"fromAddress,omitempty" doc:"The messaging integration's id. Empty: the first active integration (by name) that carries the messenger type."`
	ToAddress              string `json:"toAddress" doc:"The customer: a number in E.164 (+34911234567) for sms and whatsapp; the recipient's id for open."`
	ToAddressMessengerType string `json:"toAddressMessengerType" doc:"sms, whatsapp or open."`
	TextBody               string `json:"textBody" doc:"The text, 1 to 4096 characters."`
	ConversationID         string `json:"conversationId,omitempty" doc:"Centralita: the call the message belongs to (the softphone's live call); the sender must be in it."`
}

// AgentlessMessage is the platform's SendAgentlessOutboundMessageResponse.
type AgentlessMessage struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversationId,omitempty"`
	FromAddress    string `json:"fromAddress"`
	ToAddress      string `json:"toAddress"`
	MessengerType  string `json:"messengerType"`
	TextBody       string `json:"textBody"`
	Timestamp      Time   `json:"timestamp"`
	User           *Ref   `json:"user,omitempty"`
	SelfURI        string `json:"selfUri"`
}

// AgentlessMessageStatus is a message and how its delivery to the webhook went.
type AgentlessMessageStatus struct {
	AgentlessMessage
	State         string `json:"state" enum:"pending,delivered,failed" doc:"pending until the webhook took it (retried with backoff on timeouts, 429 and 5xx); failed after the last retry or on another answer."`
	Attempts      int    `json:"attempts"`
	LastError     string `json:"lastError,omitempty"`
	StatusCode    int    `json:"statusCode,omitempty" doc:"The webhook's last HTTP status."`
	DateDelivered Time   `json:"dateDelivered,omitzero"`
}

// OpenIntegration is the platform's OpenIntegration (the secret never comes back).
type OpenIntegration struct {
	ID                             string            `json:"id"`
	Name                           string            `json:"name"`
	OutboundNotificationWebhookURL string            `json:"outboundNotificationWebhookUrl"`
	WebhookHeaders                 map[string]string `json:"webhookHeaders"`
	MessengerTypes                 []string          `json:"messengerTypes" doc:"Centralita: what the integration carries (sms, whatsapp, open)."`
	SignatureSecretTokenSet        bool              `json:"outboundNotificationWebhookSignatureSecretTokenSet" doc:"Centralita: whether a signature secret is stored (it is write-only)."`
	Status                         string            `json:"status" enum:"Active,Inactive"`
	CreateStatus                   string            `json:"createStatus"`
	DateCreated                    Time              `json:"dateCreated"`
	DateModified                   Time              `json:"dateModified"`
	CreatedBy                      *Ref              `json:"createdBy,omitempty"`
	ModifiedBy                     *Ref              `json:"modifiedBy,omitempty"`
	SelfURI                        string            `json:"selfUri"`
}

// OpenIntegrationRequest creates or (PATCH: the fields given) changes an integration.
type OpenIntegrationRequest struct {
	Name                           *string           `json:"name,omitempty"`
	OutboundNotificationWebhookURL *string           `json:"outboundNotificationWebhookUrl,omitempty" doc:"https on port 443, reaching a public address."`
	SignatureSecretToken           *string           `json:"outboundNotificationWebhookSignatureSecretToken,omitempty" doc:"Longer than 15 characters; signs every webhook call (X-Hub-Signature-256: sha256=<base64 HMAC-SHA256 of the body>). Write-only."`
	WebhookHeaders                 map[string]string `json:"webhookHeaders,omitempty" doc:"Headers sent on every webhook call."`
	MessengerTypes                 []string          `json:"messengerTypes,omitempty" doc:"Centralita: what the integration carries: sms, whatsapp, open (default all three)."`
	Status                         *string           `json:"status,omitempty" enum:"Active,Inactive"`
}

// MessageIDPath is the {messageId} path parameter.
type MessageIDPath struct {
	MessageID string `path:"messageId"`
}

// IntegrationIDPath is the {integrationId} path parameter.
type IntegrationIDPath struct {
	IntegrationID string `path:"integrationId"`
}

const openIntegrations = "/api/v2/conversations/messaging/integrations/open"

// textPolicy is how the API learns whether the call center in use lets
// agents send text messages (the live CRM runtime has it).
type textPolicy interface {
	CallCenter(ctx context.Context) (crm.CallCenter, error)
}

func (s *Server) textMessagesAllowed(ctx context.Context) error {
	tp, ok := s.CRMRuntime.(textPolicy)
	if !ok || s.Messaging == nil {
		return problem.Coded(problem.Forbidden, "messaging.off", "", "text messages are not set up on this server")
	}
	cc, err := tp.CallCenter(ctx)
	if err != nil {
		return problem.Coded(problem.Forbidden, "messaging.off", "", "text messages need a call center that allows them: %v", err)
	}
	if !cc.AllowTextMessage {
		return problem.Coded(problem.Forbidden, "messaging.off", "", "the call center %q does not allow text messages (allowTextMessage)", cc.Name)
	}
	return nil
}

func agentlessOut(m messaging.Message, userName string) AgentlessMessage {
	out := AgentlessMessage{ID: m.ID, ConversationID: m.ConversationID, FromAddress: m.FromAddress, ToAddress: m.ToAddress,
		MessengerType: m.MessengerType, TextBody: m.Text, Timestamp: Time(m.Time),
		SelfURI: "/api/v2/conversations/messages/agentless/" + m.ID}
	if m.UserID != "" {
		out.User = &Ref{ID: m.UserID, Name: userName, SelfURI: "/api/v2/users/" + m.UserID}
	}
	return out
}

func integrationOut(in messaging.Integration) OpenIntegration {
	ref := func(id string) *Ref {
		if id == "" {
			return nil
		}
		return &Ref{ID: id, SelfURI: "/api/v2/users/" + id}
	}
	h := in.Headers
	if h == nil {
		h = map[string]string{}
	}
	return OpenIntegration{ID: in.ID, Name: in.Name, OutboundNotificationWebhookURL: in.WebhookURL, WebhookHeaders: h,
		MessengerTypes: in.MessengerTypes, SignatureSecretTokenSet: in.SecretSet, Status: in.Status, CreateStatus: "Completed",
		DateCreated: Time(in.Created), DateModified: Time(in.Modified), CreatedBy: ref(in.CreatedBy), ModifiedBy: ref(in.ModifiedBy),
		SelfURI: openIntegrations + "/" + in.ID}
}

// registerMessaging registers agentless messages and Open Messaging integrations.
func (s *Server) registerMessaging(api huma.API) {
	const tag = "Messaging"
	o := withStatus(op("postConversationsMessagesAgentless", http.MethodPost, "/api/v2/conversations/messages/agentless",
		"Send an agentless outbound text message (SMS, WhatsApp, Open Messaging)", tag, auth.Agent), 202)
	o.Description += " Only when the call center in use allows text messages (allowTextMessage). The message is accepted (202) and" +
		" delivered to the integration's webhook, signed, with retries; GET its selfUri for the delivery state."
	huma.Register(api, o, func(ctx context.Context, in *struct{ Body AgentlessMessageBody }) (*Body[AgentlessMessage], error) {
		if err := s.textMessagesAllowed(ctx); err != nil {
			return nil, err
		}
		p := principal(ctx)
		b := in.Body
		if b.ConversationID != "" {
			if err := needUUID("conversationId", b.ConversationID); err != nil {
				return nil, err
			}
			if _, err := s.Conversations.Get(ctx, actor(ctx), b.ConversationID); err != nil {
				return nil, err
			}
		}
		userName := ""
		if p.UserID != "" {
			if u, err := s.Directory.GetUser(ctx, p.UserID); err == nil {
				userName = u.Name
			}
		}
		m, err := s.Messaging.Send(ctx, messaging.SendRequest{FromAddress: b.FromAddress, ToAddress: b.ToAddress,
			MessengerType: b.ToAddressMessengerType, Text: b.TextBody, UserID: p.UserID, UserName: userName, ConversationID: b.ConversationID})
		if err != nil {
			return nil, err
		}
		return body(agentlessOut(m, userName)), nil
	})
	huma.Register(api, op("getConversationsMessagesAgentlessMessage", http.MethodGet, "/api/v2/conversations/messages/agentless/{messageId}",
		"An agentless message and its delivery (Centralita)", tag, auth.Agent),
		func(ctx context.Context, in *MessageIDPath) (*Body[AgentlessMessageStatus], error) {
			if err := needUUID("messageId", in.MessageID); err != nil {
				return nil, err
			}
			if s.Messaging == nil {
				return nil, problem.NotFoundf("message %s not found", in.MessageID)
			}
			m, err := s.Messaging.Message(ctx, in.MessageID)
			if err != nil {
				return nil, err
			}
			if p := principal(ctx); !p.Has(auth.Supervisor) && (p.UserID == "" || m.UserID != p.UserID) {
				return nil, problem.NotFoundf("message %s not found", in.MessageID)
			}
			return body(AgentlessMessageStatus{AgentlessMessage: agentlessOut(m, ""), State: m.State, Attempts: m.Attempts,
				LastError: m.LastError, StatusCode: m.StatusCode, DateDelivered: Time(m.DateDelivered)}), nil
		})

	huma.Register(api, op("getConversationsMessagingIntegrationsOpen", http.MethodGet, openIntegrations,
		"List Open Messaging integrations", tag, auth.Admin),
		func(ctx context.Context, in *struct{ PageParams }) (*Body[*Listing[OpenIntegration]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			if s.Messaging == nil {
				return body(listing(ctx, []OpenIntegration{}, 0, size, num)), nil
			}
			ins, total, err := s.Messaging.ListIntegrations(ctx, pg.Limit, pg.Offset)
			if err != nil {
				return nil, err
			}
			out := make([]OpenIntegration, len(ins))
			for i, x := range ins {
				out[i] = integrationOut(x)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postConversationsMessagingIntegrationsOpen", http.MethodPost, openIntegrations,
		"Create an Open Messaging integration", tag, auth.Admin),
		func(ctx context.Context, in *struct{ Body OpenIntegrationRequest }) (*Body[OpenIntegration], error) {
			if s.Messaging == nil {
				return nil, problem.Forbiddenf("text messages are not set up on this server")
			}
			b := in.Body
			x := messaging.Integration{Headers: b.WebhookHeaders, MessengerTypes: b.MessengerTypes, CreatedBy: principal(ctx).UserID}
			if b.Name != nil {
				x.Name = *b.Name
			}
			if b.OutboundNotificationWebhookURL != nil {
				x.WebhookURL = *b.OutboundNotificationWebhookURL
			}
			if b.SignatureSecretToken != nil {
				x.SecretToken = *b.SignatureSecretToken
			}
			if b.Status != nil {
				x.Status = *b.Status
			}
			if b.MessengerTypes == nil {
				x.MessengerTypes = append([]string(nil), messaging.MessengerTypes...)
			}
			created, err := s.Messaging.CreateIntegration(ctx, x)
			if err != nil {
				return nil, err
			}
			return body(integrationOut(created)), nil
		})
	huma.Register(api, op("getConversationsMessagingIntegrationsOpenIntegrationId", http.MethodGet, openIntegrations+"/{integrationId}",
		"Get an Open Messaging integration", tag, auth.Admin),
		func(ctx context.Context, in *IntegrationIDPath) (*Body[OpenIntegration], error) {
			if err := needUUID("integrationId", in.IntegrationID); err != nil {
				return nil, err
			}
			if s.Messaging == nil {
				return nil, problem.NotFoundf("messaging integration %s not found", in.IntegrationID)
			}
			x, err := s.Messaging.GetIntegration(ctx, in.IntegrationID)
			if err != nil {
				return nil, err
			}
			return body(integrationOut(x)), nil
		})
	huma.Register(api, op("patchConversationsMessagingIntegrationsOpenIntegrationId", http.MethodPatch, openIntegrations+"/{integrationId}",
		"Change an Open Messaging integration (the fields given)", tag, auth.Admin),
		func(ctx context.Context, in *struct {
			IntegrationIDPath
			Body OpenIntegrationRequest
		}) (*Body[OpenIntegration], error) {
			if err := needUUID("integrationId", in.IntegrationID); err != nil {
				return nil, err
			}
			if s.Messaging == nil {
				return nil, problem.NotFoundf("messaging integration %s not found", in.IntegrationID)
			}
			b := in.Body
			p := messaging.IntegrationPatch{Name: b.Name, WebhookURL: b.OutboundNotificationWebhookURL, SecretToken: b.SignatureSecretToken,
				Status: b.Status, By: principal(ctx).UserID}
			if b.WebhookHeaders != nil {
				p.Headers = &b.WebhookHeaders
			}
			if b.MessengerTypes != nil {
				p.MessengerTypes = &b.MessengerTypes
			}
			x, err := s.Messaging.UpdateIntegration(ctx, in.IntegrationID, p)
			if err != nil {
				return nil, err
			}
			return body(integrationOut(x)), nil
		})
	huma.Register(api, withStatus(op("deleteConversationsMessagingIntegrationsOpenIntegrationId", http.MethodDelete, openIntegrations+"/{integrationId}",
		"Delete an Open Messaging integration (its undelivered messages fail)", tag, auth.Admin), 204),
		func(ctx context.Context, in *IntegrationIDPath) (*struct{}, error) {
			if err := needUUID("integrationId", in.IntegrationID); err != nil {
				return nil, err
			}
			if s.Messaging == nil {
				return nil, problem.NotFoundf("messaging integration %s not found", in.IntegrationID)
			}
			return nil, s.Messaging.DeleteIntegration(ctx, in.IntegrationID)
		})
}
