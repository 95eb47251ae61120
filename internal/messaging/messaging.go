// Package messaging sends text messages to customers (SMS, WhatsApp, Open
// Messaging) through messaging integrations shaped like Genesys Cloud's
// Open Messaging ones: the platform POSTs each outbound message, signed
// with the integration's secret (X-Hub-Signature-256, base64 HMAC-SHA256),
// to the integration's webhook, and the middleware behind it talks to the
// SMS or WhatsApp provider (reference data-actions-messaging-flows.md §4).
//
// A message is accepted in one transaction (its row and its event) and
// delivered by a single writer goroutine (Run) that retries with backoff
// while the webhook is down, so an accepted message is never lost: a crash
// leaves the row pending for the next run, like the CRM activity log.
// Webhook URLs are dialed through a guard that refuses loopback, private
// and link-local addresses unless the installation allows them (the demo's
// built-in receiver, tests).
package messaging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
)

// Messenger types a message is sent as (toAddressMessengerType).
const (
	SMS      = "sms"
	WhatsApp = "whatsapp"
	Open     = "open"
)

// MessengerTypes are the known messenger types.
var MessengerTypes = []string{SMS, WhatsApp, Open}

// Integration statuses.
const (
	Active   = "Active"
	Inactive = "Inactive"
)

// Limits.
const (
	MaxTextRunes   = 4096 // a message's text, in characters
	MinSecretLen   = 16   // the signature secret: "longer than 15 characters"
	maxSecretLen   = 256
	maxNameLen     = 200
	maxURLLen      = 2000
	maxHeaders     = 20
	maxHeaderValue = 1000
)

// Events is what the service needs of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Integration is an Open Messaging integration: where outbound messages go.
type Integration struct {
	ID         string
	Name       string
	WebhookURL string
	// SecretToken signs every webhook call. Write-only: set it on create or
	// update; it is stored sealed and never returned (SecretSet says
	// whether one is stored).
	SecretToken    string
	SecretSet      bool
	Headers        map[string]string // sent on every webhook call
	MessengerTypes []string          // what it carries: sms, whatsapp, open
	Status         string            // Active | Inactive
	CreatedBy      string
	ModifiedBy     string
	Created        time.Time
	Modified       time.Time
}

// Carries reports whether the integration sends messages of type t.
func (in Integration) Carries(t string) bool { return slices.Contains(in.MessengerTypes, t) }

// IntegrationPatch changes an integration; nil fields stay.
type IntegrationPatch struct {
	Name           *string
	WebhookURL     *string
	SecretToken    *string
	Headers        *map[string]string
	MessengerTypes *[]string
	Status         *string
	By             string // the user making the change
}

// Options tune the service.
type Options struct {
	// AllowInternal lets webhooks point at loopback, private and link-local
	// addresses and use plain http on any port (the demo, tests). Off, a
	// webhook must be https on port 443 and resolve to a public address.
	AllowInternal bool
	// Timeout bounds one webhook call (default 10 s, the platform's).
	Timeout time.Duration
}

// Service keeps integrations and messages and delivers messages.
type Service struct {
	db     *store.DB
	events Events
	box    *secret.Box
	clock  clock.Clock
	opts   Options
	client *http.Client

	mu   sync.Mutex
	busy bool          // the writer has work to look at (tests wait for !busy)
	wake chan struct{} // capacity 1
}

// New returns the messaging service; call Run to deliver.
func New(db *store.DB, ev Events, box *secret.Box, c clock.Clock, o Options) *Service {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return &Service{db: db, events: ev, box: box, clock: c, opts: o, client: guardedClient(o.AllowInternal, o.Timeout),
		wake: make(chan struct{}, 1), busy: true}
}

// AllowInternal reports whether webhooks may reach internal addresses.
func (s *Service) AllowInternal() bool { return s.opts.AllowInternal }

func (s *Service) now() time.Time { return store.Time(store.Millis(s.clock.Now())) }

func integrationTopic(id string) string { return "v2.messaging.integrations." + id }

// IntegrationChange is the body of v2.messaging.integrations.{id} (no secret).
type IntegrationChange struct {
	Integration Integration `json:"integration"`
	Deleted     bool        `json:"deleted,omitempty"`
}

// ---- validation --------------------------------------------------------------

func (in *Integration) normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.WebhookURL = strings.TrimSpace(in.WebhookURL)
	if in.Status == "" {
		in.Status = Active
	}
	for i, t := range in.MessengerTypes {
		in.MessengerTypes[i] = strings.ToLower(strings.TrimSpace(t))
	}
	if in.Headers == nil {
		in.Headers = map[string]string{}
	}
}

// validate checks an integration; secretRequired on create.
func (s *Service) validate(in Integration, secretRequired bool) error {
	var c problem.Collector
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		c.Add("name", "is required")
	case n > maxNameLen:
		c.Add("name", "is %d characters long; at most %d", n, maxNameLen)
	}
	if err := CheckWebhookURL(in.WebhookURL, s.opts.AllowInternal); err != nil {
		c.Add("outboundNotificationWebhookUrl", "%v", err)
	}
	switch n := len(in.SecretToken); {
	case n == 0 && secretRequired:
		c.Add("outboundNotificationWebhookSignatureSecretToken", "is required: it signs every webhook call (X-Hub-Signature-256)")
	case n > 0 && n < MinSecretLen:
		c.Add("outboundNotificationWebhookSignatureSecretToken", "is %d characters long; it must be longer than 15", n)
	case n > maxSecretLen:
		c.Add("outboundNotificationWebhookSignatureSecretToken", "is %d characters long; at most %d", n, maxSecretLen)
	}
	if len(in.MessengerTypes) == 0 {
		c.Add("messengerTypes", "name at least one of %s", strings.Join(MessengerTypes, ", "))
	}
	seen := map[string]bool{}
	for _, t := range in.MessengerTypes {
		switch {
		case !slices.Contains(MessengerTypes, t):
			c.Add("messengerTypes", "%q is not a messenger type: use %s", t, strings.Join(MessengerTypes, ", "))
		case seen[t]:
			c.Add("messengerTypes", "%q is listed twice", t)
		}
		seen[t] = true
	}
	if in.Status != Active && in.Status != Inactive {
		c.Add("status", "%q is not a status: use Active or Inactive", in.Status)
	}
	if len(in.Headers) > maxHeaders {
		c.Add("webhookHeaders", "has %d headers; at most %d", len(in.Headers), maxHeaders)
	}
	for k, v := range in.Headers {
		switch {
		case !validHeaderName(k):
			c.Add("webhookHeaders", "%q is not a valid header name", k)
		case reservedHeader(k):
			c.Add("webhookHeaders", "%q is set by the platform and cannot be replaced", k)
		case strings.ContainsAny(v, "\r\n\x00") || len(v) > maxHeaderValue:
			c.Add("webhookHeaders", "the value of %q has a line break or is longer than %d bytes", k, maxHeaderValue)
		}
	}
	return c.Err()
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 100 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

func reservedHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Content-Type", "Content-Length", "Host", "X-Hub-Signature-256", "User-Agent", "Transfer-Encoding", "Connection":
		return true
	}
	return false
}

// CheckWebhookURL says why u cannot be a webhook: not an absolute http(s)
// URL, credentials in it, or (unless allowInternal) not https on port 443,
// or a literal internal address. Host names are checked again when dialed.
func CheckWebhookURL(u string, allowInternal bool) error {
	if u == "" {
		return errors.New("is required")
	}
	if len(u) > maxURLLen {
		return fmt.Errorf("is %d characters long; at most %d", len(u), maxURLLen)
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", u)
	}
	if p.User != nil {
		return errors.New("must not carry credentials: use webhookHeaders")
	}
	if allowInternal {
		return nil
	}
	if p.Scheme != "https" || (p.Port() != "" && p.Port() != "443") {
		return fmt.Errorf("%q must be https on port 443", u)
	}
	if ip, err := netip.ParseAddr(strings.Trim(p.Hostname(), "[]")); err == nil && internal(ip) {
		return fmt.Errorf("%q points at an internal address (%s)", u, ip)
	}
	if h := strings.ToLower(p.Hostname()); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%q points at this machine", u)
	}
	return nil
}

// ---- integrations ------------------------------------------------------------

// CreateIntegration validates and stores an integration.
func (s *Service) CreateIntegration(ctx context.Context, in Integration) (Integration, error) {
	in.normalize()
	if err := s.validate(in, true); err != nil {
		return Integration{}, err
	}
	sealed, err := s.box.Seal(in.SecretToken)
	if err != nil {
		return Integration{}, err
	}
	in.ID = uuid.NewString()
	in.Created = s.now()
	in.Modified, in.ModifiedBy = in.Created, in.CreatedBy
	in.SecretToken, in.SecretSet = "", true
	hj, _ := json.Marshal(in.Headers)
	tj, _ := json.Marshal(in.MessengerTypes)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO messaging_integrations (id, name, webhook_url, secret, headers, messenger_types, status,
			created_by, modified_by, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9)`,
			in.ID, in.Name, in.WebhookURL, sealed, string(hj), string(tj), in.Status, in.CreatedBy, store.Millis(in.Created))
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a messaging integration named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, integrationTopic(in.ID), IntegrationChange{Integration: in})
	})
	if err != nil {
		return Integration{}, err
	}
	return in, nil
}

// UpdateIntegration applies a patch.
func (s *Service) UpdateIntegration(ctx context.Context, id string, p IntegrationPatch) (Integration, error) {
	var out Integration
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		in, sealed, err := getIntegration(ctx, tx, id)
		if err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&in.Name, p.Name)
		set(&in.WebhookURL, p.WebhookURL)
		set(&in.Status, p.Status)
		if p.Headers != nil {
			in.Headers = *p.Headers
		}
		if p.MessengerTypes != nil {
			in.MessengerTypes = slices.Clone(*p.MessengerTypes)
		}
		in.SecretToken = ""
		if p.SecretToken != nil {
			in.SecretToken = *p.SecretToken
		}
		in.normalize()
		if err := s.validate(in, false); err != nil {
			return err
		}
		if in.SecretToken != "" {
			if sealed, err = s.box.Seal(in.SecretToken); err != nil {
				return err
			}
		}
		in.SecretToken = ""
		in.Modified, in.ModifiedBy = s.now(), p.By
		hj, _ := json.Marshal(in.Headers)
		tj, _ := json.Marshal(in.MessengerTypes)
		_, err = tx.ExecContext(ctx, `UPDATE messaging_integrations SET name = $1, webhook_url = $2, secret = $3, headers = $4,
			messenger_types = $5, status = $6, modified_by = $7, modified_at = $8 WHERE id = $9`,
			in.Name, in.WebhookURL, sealed, string(hj), string(tj), in.Status, in.ModifiedBy, store.Millis(in.Modified), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a messaging integration named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		out = in
		return s.events.Add(ctx, tx, integrationTopic(id), IntegrationChange{Integration: in})
	})
	return out, err
}

// DeleteIntegration removes an integration; its undelivered messages fail.
func (s *Service) DeleteIntegration(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		in, _, err := getIntegration(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM messaging_integrations WHERE id = $1`, id); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, integrationTopic(id), IntegrationChange{Integration: in, Deleted: true})
	})
}

// GetIntegration returns an integration (without its secret).
func (s *Service) GetIntegration(ctx context.Context, id string) (Integration, error) {
	in, _, err := getIntegration(ctx, s.db, id)
	return in, err
}

// IntegrationByName finds an integration by name, ignoring case.
func (s *Service) IntegrationByName(ctx context.Context, name string) (Integration, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+integrationCols+` FROM messaging_integrations WHERE lower(name) = lower($1)`, name)
	in, _, err := scanIntegration(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Integration{}, problem.NotFoundf("no messaging integration named %q", name)
	}
	return in, err
}

// ListIntegrations returns a page of integrations by name, and the total.
func (s *Service) ListIntegrations(ctx context.Context, limit, offset int) ([]Integration, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM messaging_integrations`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+integrationCols+` FROM messaging_integrations ORDER BY lower(name), id LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Integration
	for rows.Next() {
		in, _, err := scanIntegration(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, in)
	}
	return out, total, rows.Err()
}

const integrationCols = `id, name, webhook_url, secret, headers, messenger_types, status, created_by, modified_by, created_at, modified_at`

func scanIntegration(row interface{ Scan(...any) error }) (Integration, string, error) {
	var in Integration
	var sealed, hj, tj string
	var created, modified int64
	if err := row.Scan(&in.ID, &in.Name, &in.WebhookURL, &sealed, &hj, &tj, &in.Status, &in.CreatedBy, &in.ModifiedBy, &created, &modified); err != nil {
		return Integration{}, "", err
	}
	if err := json.Unmarshal([]byte(hj), &in.Headers); err != nil {
		return Integration{}, "", fmt.Errorf("messaging: integration %s headers: %w", in.ID, err)
	}
	if err := json.Unmarshal([]byte(tj), &in.MessengerTypes); err != nil {
		return Integration{}, "", fmt.Errorf("messaging: integration %s messenger types: %w", in.ID, err)
	}
	in.SecretSet = sealed != ""
	in.Created, in.Modified = store.Time(created), store.Time(modified)
	return in, sealed, nil
}

func getIntegration(ctx context.Context, q store.Querier, id string) (Integration, string, error) {
	in, sealed, err := scanIntegration(q.QueryRowContext(ctx, `SELECT `+integrationCols+` FROM messaging_integrations WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Integration{}, "", problem.NotFoundf("messaging integration %s not found", id)
	}
	return in, sealed, err
}
