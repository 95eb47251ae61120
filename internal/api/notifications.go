package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/notify"
)

// NotificationChannel is the platform's Channel.
type NotificationChannel struct {
	ID         string `json:"id" doc:"streaming-<n>-<random>; the id is the secret that opens the WebSocket."`
	ConnectURI string `json:"connectUri" doc:"Open a WebSocket here: ws://HOST/channels/<id>, or wss:// behind TLS."`
	Expires    Time   `json:"expires" doc:"24 hours after creation; setting subscriptions renews it."`
}

// NotificationChannelListing is the platform's ChannelEntityListing.
type NotificationChannelListing struct {
	Entities []NotificationChannel `json:"entities"`
}

// NotificationChannelTopic is the platform's ChannelTopic.
type NotificationChannelTopic struct {
	ID                 string   `json:"id"`
	State              string   `json:"state" enum:"Permitted,Rejected"`
	RejectionReason    string   `json:"rejectionReason,omitempty"`
	MissingPermissions []string `json:"missingPermissions,omitempty"`
	SelfURI            string   `json:"selfUri"`
}

// NotificationChannelTopicListing is the platform's ChannelTopicEntityListing.
type NotificationChannelTopicListing struct {
	Entities []NotificationChannelTopic `json:"entities"`
}

// NotificationTopicInput names a topic to subscribe to; other ChannelTopic
// fields a client echoes back are ignored.
type NotificationTopicInput struct {
	_  struct{} `additionalProperties:"true"`
	ID string   `json:"id" minLength:"1" maxLength:"1000" doc:"A topic name, e.g. v2.users.<id>.presence, or a combined topic such as v2.users.<id>?presence&routingStatus (at most 200 characters)."`
}

// NotificationAvailableTopic is the platform's AvailableTopic.
type NotificationAvailableTopic struct {
	ID                              string         `json:"id"`
	Description                     string         `json:"description"`
	RequiresPermissions             []string       `json:"requiresPermissions"`
	RequiresCurrentUser             bool           `json:"requiresCurrentUser"`
	RequiresCurrentUserOrPermission bool           `json:"requiresCurrentUserOrPermission"`
	Enforced                        bool           `json:"enforced"`
	Visibility                      string         `json:"visibility"`
	Transports                      []string       `json:"transports"`
	TopicParameters                 []string       `json:"topicParameters"`
	Schema                          map[string]any `json:"schema,omitempty"`
	PermissionRule                  string         `json:"permissionRule" doc:"Centralita extension: who may subscribe, in words. Permissions are roles here."`
}

// NotificationAvailableTopicListing is the platform's AvailableTopicEntityListing.
type NotificationAvailableTopicListing struct {
	Entities []NotificationAvailableTopic `json:"entities"`
}

// channelOrigin captures what the connect URI is built from: the request's
// Host, and whether it came over TLS (directly or per X-Forwarded-Proto).
type channelOrigin struct {
	host string
	tls  bool
}

func (o *channelOrigin) Resolve(ctx huma.Context) []error {
	proto, _, _ := strings.Cut(ctx.Header("X-Forwarded-Proto"), ",")
	o.host = ctx.Host()
	o.tls = ctx.TLS() != nil || strings.EqualFold(strings.TrimSpace(proto), "https")
	return nil
}

func (o *channelOrigin) connectURI(id string) string {
	scheme := "ws"
	if o.tls {
		scheme = "wss"
	}
	return scheme + "://" + o.host + "/channels/" + id
}

// ChannelIDPath is the channelId path parameter.
type ChannelIDPath struct {
	ChannelID string `path:"channelId" maxLength:"200"`
}

// subscriptionsInput is the input of POST and PUT on subscriptions.
type subscriptionsInput struct {
	ChannelIDPath
	IgnoreErrors bool `query:"ignoreErrors" doc:"When true, topics the caller may not have, and unknown topics, are answered as Rejected instead of failing the request."`
	Body         []NotificationTopicInput
}

func (s *Server) hub() (*notify.Hub, error) {
	if s.Notify == nil {
		return nil, newError(503, "service.unavailable", "Notifications are not available on this server.")
	}
	return s.Notify, nil
}

func channelOut(o *channelOrigin, ch notify.Channel) NotificationChannel {
	return NotificationChannel{ID: ch.ID, ConnectURI: o.connectURI(ch.ID), Expires: Time(ch.Expires)}
}

func topicsOut(channelID string, ts []notify.TopicState) *NotificationChannelTopicListing {
	out := make([]NotificationChannelTopic, len(ts))
	for i, t := range ts {
		out[i] = NotificationChannelTopic{ID: t.ID, State: t.State, RejectionReason: t.RejectionReason,
			MissingPermissions: t.MissingPermissions, SelfURI: "/api/v2/notifications/channels/" + channelID + "/subscriptions"}
	}
	return &NotificationChannelTopicListing{Entities: out}
}

func (s *Server) registerNotifications(api huma.API) {
	const tag = "Notifications"
	huma.Register(api, op("postNotificationsChannels", http.MethodPost, "/api/v2/notifications/channels", "Create a notification channel", tag, ""),
		func(ctx context.Context, in *struct{ channelOrigin }) (*Body[NotificationChannel], error) {
			h, err := s.hub()
			if err != nil {
				return nil, err
			}
			ch, err := h.CreateChannel(principal(ctx))
			if err != nil {
				return nil, err
			}
			return body(channelOut(&in.channelOrigin, ch)), nil
		})
	huma.Register(api, op("getNotificationsChannels", http.MethodGet, "/api/v2/notifications/channels", "List the caller's notification channels", tag, ""),
		func(ctx context.Context, in *struct {
			channelOrigin
			IncludeChannels string `query:"includechannels" enum:"token,oauthclient," doc:"token (default): channels of the caller's session; oauthclient: the caller's channels made through this OAuth client."`
		}) (*Body[NotificationChannelListing], error) {
			h, err := s.hub()
			if err != nil {
				return nil, err
			}
			scope := notify.ScopeToken
			if in.IncludeChannels == "oauthclient" {
				scope = notify.ScopeClient
			}
			chs := h.Channels(principal(ctx), scope)
			out := make([]NotificationChannel, len(chs))
			for i, ch := range chs {
				out[i] = channelOut(&in.channelOrigin, ch)
			}
			return body(NotificationChannelListing{Entities: out}), nil
		})
	huma.Register(api, op("headNotificationsChannel", http.MethodHead, "/api/v2/notifications/channels/{channelId}", "Check that a channel exists and is valid", tag, ""),
		func(ctx context.Context, in *ChannelIDPath) (*struct{}, error) {
			h, err := s.hub()
			if err != nil {
				return nil, err
			}
			_, err = h.Channel(principal(ctx), in.ChannelID)
			return nil, err
		})
	huma.Register(api, op("getNotificationsChannelSubscriptions", http.MethodGet, "/api/v2/notifications/channels/{channelId}/subscriptions", "List a channel's topics", tag, ""),
		func(ctx context.Context, in *ChannelIDPath) (*Body[*NotificationChannelTopicListing], error) {
			h, err := s.hub()
			if err != nil {
				return nil, err
			}
			ts, err := h.Subscriptions(principal(ctx), in.ChannelID)
			if err != nil {
				return nil, err
			}
			return body(topicsOut(in.ChannelID, ts)), nil
		})
	subscribe := func(mode notify.Mode) func(context.Context, *subscriptionsInput) (*Body[*NotificationChannelTopicListing], error) {
		return func(ctx context.Context, in *subscriptionsInput) (*Body[*NotificationChannelTopicListing], error) {
			h, err := s.hub()
			if err != nil {
				return nil, err
			}
			names := make([]string, len(in.Body))
			for i, t := range in.Body {
				names[i] = t.ID
			}
			ts, err := h.Subscribe(ctx, principal(ctx), in.ChannelID, names, mode, in.IgnoreErrors)
			if err != nil {
				return nil, err
			}
			return body(topicsOut(in.ChannelID, ts)), nil
		}
	}
	huma.Register(api, op("postNotificationsChannelSubscriptions", http.MethodPost, "/api/v2/notifications/channels/{channelId}/subscriptions",
		"Add topics to a channel (at most 1,000 in all)", tag, ""), subscribe(notify.Add))
	huma.Register(api, op("putNotificationsChannelSubscriptions", http.MethodPut, "/api/v2/notifications/channels/{channelId}/subscriptions",
		"Replace a channel's topics (at most 1,000)", tag, ""), subscribe(notify.Replace))
	huma.Register(api, withStatus(op("deleteNotificationsChannelSubscriptions", http.MethodDelete, "/api/v2/notifications/channels/{channelId}/subscriptions",
		"Remove every topic of a channel", tag, ""), 204),
		func(ctx context.Context, in *ChannelIDPath) (*struct{}, error) {
			h, err := s.hub()
			if err != nil {
				return nil, err
			}
			return nil, h.DeleteSubscriptions(principal(ctx), in.ChannelID)
		})
	huma.Register(api, op("getNotificationsAvailabletopics", http.MethodGet, "/api/v2/notifications/availabletopics", "List the topics a channel may subscribe to", tag, ""),
		func(ctx context.Context, in *struct {
			Expand         []string `query:"expand,explode" doc:"Accepted for compatibility; every field is always returned."`
			IncludePreview bool     `query:"includePreview" doc:"Accepted for compatibility."`
		}) (*Body[NotificationAvailableTopicListing], error) {
			h, err := s.hub()
			if err != nil {
				return nil, err
			}
			ts := h.Topics()
			out := make([]NotificationAvailableTopic, len(ts))
			for i, t := range ts {
				a := NotificationAvailableTopic{ID: t.Template, Description: t.Description, RequiresPermissions: []string{},
					Enforced: true, Visibility: "Public", Transports: []string{"Websocket"}, TopicParameters: []string{},
					Schema: t.Schema, PermissionRule: t.Rule.String()}
				if strings.Contains(t.Template, notify.Placeholder) {
					a.TopicParameters = []string{"id"}
				}
				switch t.Rule {
				case notify.SelfOrSupervisor:
					a.RequiresCurrentUserOrPermission = true
					a.RequiresPermissions = []string{"supervisor"}
				case notify.Supervisor, notify.ParticipantOrSupervisor:
					a.RequiresPermissions = []string{"supervisor"}
				}
				out[i] = a
			}
			return body(NotificationAvailableTopicListing{Entities: out}), nil
		})
}

// notificationSocket serves GET /channels/{channelId}: the channel's
// WebSocket. It is a plain handler, outside huma and its bearer
// authentication: the channel id is the secret.
func (s *Server) notificationSocket(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		http.Error(w, "notifications are not available on this server", http.StatusServiceUnavailable)
		return
	}
	s.Notify.ServeWebSocket(w, r, r.PathValue("channelId"))
}
