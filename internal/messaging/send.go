package messaging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Delivery states of a message.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// SendRequest is an agentless outbound message.
type SendRequest struct {
	// FromAddress is the integration's id; empty picks the first active
	// integration (by name) that carries MessengerType.
	FromAddress   string
	ToAddress     string // E.164 for sms and whatsapp; the recipient's id for open
	MessengerType string // sms | whatsapp | open
	Text          string
	UserID        string // the person sending; empty for an OAuth client
	UserName      string
	// ConversationID ties the message to a call (the softphone's); empty
	// starts a new messaging conversation.
	ConversationID string
}

// Message is an accepted message and how its delivery goes.
type Message struct {
	ID             string
	ConversationID string
	IntegrationID  string
	FromAddress    string
	ToAddress      string
	MessengerType  string
	Text           string
	UserID         string
	Time           time.Time
	State          string // Pending, Delivered, Failed
	Attempts       int
	LastError      string
	StatusCode     int // the webhook's last HTTP status (0: no answer)
	DateDelivered  time.Time
	NextAttempt    time.Time // when pending
}

// e164 is a number in E.164: + and 7 to 15 digits, no leading zero.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// messageTopic is the event of an accepted or delivered message.
func messageTopic(id string) string { return "v2.messaging.messages." + id }

// MessageEvent is the body of v2.messaging.messages.{id}.
type MessageEvent struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	IntegrationID  string `json:"integrationId"`
	ToAddress      string `json:"toAddress"`
	MessengerType  string `json:"messengerType"`
	UserID         string `json:"userId,omitempty"`
	State          string `json:"state"`
}

// checkSend validates a request's fields, naming each bad one.
func checkSend(r *SendRequest) error {
	var c problem.Collector
	r.MessengerType = strings.ToLower(strings.TrimSpace(r.MessengerType))
	r.ToAddress = strings.TrimSpace(r.ToAddress)
	r.FromAddress = strings.TrimSpace(r.FromAddress)
	switch r.MessengerType {
	case SMS, WhatsApp:
		compact := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "").Replace(r.ToAddress)
		if !e164.MatchString(compact) {
			c.Add("toAddress", "%q is not a phone number in E.164 form (+ and country code, 7 to 15 digits, e.g. +34911234567)", r.ToAddress)
		} else {
			r.ToAddress = compact
		}
	case Open:
		if r.ToAddress == "" || len(r.ToAddress) > 255 {
			c.Add("toAddress", "is required (the recipient's id on the open channel, at most 255 characters)")
		}
	case "":
		c.Add("toAddressMessengerType", "is required: sms, whatsapp or open")
	default:
		c.Add("toAddressMessengerType", "%q is not a messenger type: use sms, whatsapp or open", r.MessengerType)
	}
	switch n := utf8.RuneCountInString(r.Text); {
	case strings.TrimSpace(r.Text) == "":
		c.Add("textBody", "is required: the message has no text")
	case n > MaxTextRunes:
		c.Add("textBody", "is %d characters long; at most %d", n, MaxTextRunes)
	case !utf8.ValidString(r.Text):
		c.Add("textBody", "is not valid UTF-8")
	}
	return c.Err()
}

// pickIntegration finds the integration a request goes through.
func (s *Service) pickIntegration(ctx context.Context, tx *store.Tx, r SendRequest) (Integration, error) {
	if r.FromAddress != "" {
		if _, err := uuid.Parse(r.FromAddress); err != nil {
			return Integration{}, problem.Invalidf("fromAddress", "%q is not a messaging integration id", r.FromAddress)
		}
		in, _, err := getIntegration(ctx, tx, r.FromAddress)
		if err != nil {
			return Integration{}, problem.Invalidf("fromAddress", "no messaging integration %s", r.FromAddress)
		}
		switch {
		case in.Status != Active:
			return Integration{}, problem.Coded(problem.Conflict, "messaging.integration.inactive", "fromAddress", "messaging integration %q is inactive", in.Name)
		case !in.Carries(r.MessengerType):
			return Integration{}, problem.Invalidf("toAddressMessengerType", "messaging integration %q does not carry %s (it carries %s)",
				in.Name, r.MessengerType, strings.Join(in.MessengerTypes, ", "))
		}
		return in, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+integrationCols+` FROM messaging_integrations WHERE status = 'Active' ORDER BY lower(name), id`)
	if err != nil {
		return Integration{}, err
	}
	defer rows.Close()
	for rows.Next() {
		in, _, err := scanIntegration(rows)
		if err != nil {
			return Integration{}, err
		}
		if in.Carries(r.MessengerType) {
			return in, nil
		}
	}
	if err := rows.Err(); err != nil {
		return Integration{}, err
	}
	return Integration{}, problem.Coded(problem.Conflict, "messaging.no.integration", "toAddressMessengerType",
		"no active messaging integration carries %s messages: an administrator adds one under /api/v2/conversations/messaging/integrations/open", r.MessengerType)
}

// Send validates and accepts a message: its row and event commit together
// and the writer delivers it to the integration's webhook.
func (s *Service) Send(ctx context.Context, r SendRequest) (Message, error) {
	if err := checkSend(&r); err != nil {
		return Message{}, err
	}
	if r.ConversationID == "" {
		r.ConversationID = uuid.NewString()
	}
	m := Message{ID: uuid.NewString(), ConversationID: r.ConversationID, ToAddress: r.ToAddress, MessengerType: r.MessengerType,
		Text: r.Text, UserID: r.UserID, Time: s.now(), State: Pending}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		in, err := s.pickIntegration(ctx, tx, r)
		if err != nil {
			return err
		}
		m.IntegrationID, m.FromAddress = in.ID, in.ID
		payload, err := json.Marshal(outboundBody(m, in, r.UserID != ""))
		if err != nil {
			return err
		}
		at := store.Millis(m.Time)
		_, err = tx.ExecContext(ctx, `INSERT INTO messaging_messages (id, conversation_id, integration_id, from_address, to_address,
			messenger_type, text_body, user_id, payload, state, attempts, next_attempt_at, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10, $10)`,
			m.ID, m.ConversationID, m.IntegrationID, m.FromAddress, m.ToAddress, m.MessengerType, m.Text, m.UserID, string(payload), at)
		if err != nil {
			return err
		}
		tx.AfterCommit(s.signal)
		return s.announce(ctx, tx, m)
	})
	if err != nil {
		return Message{}, err
	}
	m.NextAttempt = m.Time
	return m, nil
}

// announce commits a message's event, and the same body on its sender's
// topic (v2.users.{id}.messages), where the softphone follows delivery.
func (s *Service) announce(ctx context.Context, tx *store.Tx, m Message) error {
	ev := eventOf(m)
	if err := s.events.Add(ctx, tx, messageTopic(m.ID), ev); err != nil {
		return err
	}
	if m.UserID == "" {
		return nil
	}
	return s.events.Add(ctx, tx, userTopic(m.UserID), ev)
}

// userTopic is where a user hears of the messages they sent: accepted,
// delivered or failed.
func userTopic(userID string) string { return "v2.users." + userID + ".messages" }

func eventOf(m Message) MessageEvent {
	return MessageEvent{ID: m.ID, ConversationID: m.ConversationID, IntegrationID: m.IntegrationID, ToAddress: m.ToAddress,
		MessengerType: m.MessengerType, UserID: m.UserID, State: m.State}
}

// Message returns a message and its delivery state.
func (s *Service) Message(ctx context.Context, id string) (Message, error) {
	var m Message
	var created, delivered, next int64
	err := s.db.QueryRowContext(ctx, `SELECT id, conversation_id, integration_id, from_address, to_address, messenger_type, text_body,
			user_id, state, attempts, last_error, status_code, created_at, delivered_at, next_attempt_at FROM messaging_messages WHERE id = $1`, id).
		Scan(&m.ID, &m.ConversationID, &m.IntegrationID, &m.FromAddress, &m.ToAddress, &m.MessengerType, &m.Text,
			&m.UserID, &m.State, &m.Attempts, &m.LastError, &m.StatusCode, &created, &delivered, &next)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, problem.NotFoundf("message %s not found", id)
	}
	if err != nil {
		return Message{}, err
	}
	m.Time = store.Time(created)
	if delivered != 0 {
		m.DateDelivered = store.Time(delivered)
	}
	if m.State == Pending {
		m.NextAttempt = store.Time(next)
	}
	return m, nil
}

// ---- the webhook body (reference §4.3) -----------------------------------------

// OutboundMessage is the normalised outbound message POSTed to a webhook.
type OutboundMessage struct {
	ID                string          `json:"id"`
	Channel           OutboundChannel `json:"channel"`
	Type              string          `json:"type"`
	Text              string          `json:"text"`
	OriginatingEntity string          `json:"originatingEntity"`
	Direction         string          `json:"direction"`
	ConversationID    string          `json:"conversationId"`
	Reasons           []any           `json:"reasons"`
	RelatedMessages   []any           `json:"relatedMessages"`
}

// OutboundChannel is the message's channel: who it goes to and from.
type OutboundChannel struct {
	ID        string          `json:"id"`
	Platform  string          `json:"platform"`
	Type      string          `json:"type"`
	MessageID string          `json:"messageId"`
	To        Party           `json:"to"`
	From      Party           `json:"from"`
	Time      string          `json:"time"`
	Metadata  ChannelMetadata `json:"metadata"`
}

// Party is a channel end.
type Party struct {
	ID       string `json:"id"`
	IDType   string `json:"idType"`
	Nickname string `json:"nickname,omitempty"`
}

// ChannelMetadata carries the messenger type the middleware sends through.
type ChannelMetadata struct {
	CustomAttributes map[string]string `json:"customAttributes"`
}

func outboundBody(m Message, in Integration, human bool) OutboundMessage {
	idType := "Phone"
	if m.MessengerType == Open {
		idType = "Opaque"
	}
	origin := "Bot"
	if human {
		origin = "Human"
	}
	return OutboundMessage{
		ID: m.ID,
		Channel: OutboundChannel{ID: in.ID, Platform: "Open", Type: "Private", MessageID: m.ID,
			To:       Party{ID: m.ToAddress, IDType: idType},
			From:     Party{ID: in.ID, IDType: "Opaque", Nickname: in.Name},
			Time:     m.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
			Metadata: ChannelMetadata{CustomAttributes: map[string]string{"messengerType": m.MessengerType}}},
		Type: "Text", Text: m.Text, OriginatingEntity: origin, Direction: "Outbound", ConversationID: m.ConversationID,
		Reasons: []any{}, RelatedMessages: []any{},
	}
}
