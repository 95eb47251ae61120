// Package campaign holds campaign definitions (inbound and outbound, with
// dialing mode, lists, calling hours, retry rules, do-not-call lists, caller
// id and abandon cap), which agents are logged into which outbound campaign
// (the seed's Login_Campaign / Logout_Campaign) and scheduled callbacks
// (the "agenda"). Every change is committed with its event through the
// outbox; the dialer follows them through the outbox's OnCommit observer.
package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // calling hours in any IANA zone without the host's zoneinfo

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Events is what campaigns need of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Contacts is what campaigns need of the contact store.
type Contacts interface {
	// ListSchema returns the list's schema id; a problem NotFound when absent.
	ListSchema(ctx context.Context, listID string) (string, error)
	// ContactList returns the contact's list id; a problem NotFound when absent.
	ContactList(ctx context.Context, contactID string) (string, error)
	// ContactPhone returns the contact's first phone (E.164) or "".
	ContactPhone(ctx context.Context, contactID string) (string, error)
	// SetStatus changes a contact's status inside the caller's transaction:
	// "callback" when a callback is scheduled, "retry" when it is cancelled.
	SetStatus(ctx context.Context, tx *store.Tx, contactID, status string) error
	// DNCListExists returns a problem NotFound when the do-not-call list is absent.
	DNCListExists(ctx context.Context, id string) error
}

// Queues is what campaigns need of the directory's queues.
type Queues interface {
	// QueueExists returns a problem NotFound when the queue is absent.
	QueueExists(ctx context.Context, id string) error
}

// Users is what campaigns need of the directory's users.
type Users interface {
	// UserExists returns a problem NotFound when the user is absent.
	UserExists(ctx context.Context, id string) error
}

// Service keeps campaigns, agent logins and callbacks.
type Service struct {
	db     *store.DB
	events Events
	clock  clock.Clock

	mu       sync.RWMutex
	contacts Contacts
	queues   Queues
	users    Users
	prompts  Prompts // abandonPrompt's check (prompts.go)
}

// New returns the campaign service. Call SetDeps before serving.
func New(db *store.DB, ev Events, c clock.Clock) *Service {
	return &Service{db: db, events: ev, clock: c}
}

// SetDeps gives the service the facts other packages own: lists, contacts
// and do-not-call lists, queues and users.
func (s *Service) SetDeps(c Contacts, q Queues, u Users) {
	s.mu.Lock()
	s.contacts, s.queues, s.users = c, q, u
	s.mu.Unlock()
}

var errNotWired = errors.New("campaign: dependencies not set (Service.SetDeps)")

func (s *Service) deps() (Contacts, Queues, Users, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.contacts == nil || s.queues == nil || s.users == nil {
		return nil, nil, nil, errNotWired
	}
	return s.contacts, s.queues, s.users, nil
}

// Page selects a slice of a listing.
type Page struct {
	Limit, Offset int
}

// Directions, states and limits.
const (
	Inbound  = "inbound"
	Outbound = "outbound"

	On  = "on"
	Off = "off"

	MaxNumber          = 9999
	MaxLists           = 50
	MaxTransferNumbers = 50
	MaxWindows         = 50
	MaxRetryDelay      = 30 * 24 * 3600 // seconds
)

// DialingModes are the dialing modes of an outbound campaign.
var DialingModes = []string{"preview", "progressive", "power", "predictive"}

// RetryOutcomes are the attempt outcomes a retry rule may name.
var RetryOutcomes = []string{"busy", "no-answer", "failed", "machine", "agent-disconnected", "abandoned"}

// Days are the day names of calling-hour windows, indexed by time.Weekday.
var Days = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Campaign is an inbound or outbound campaign. Its JSON form is the API's
// and the body of v2.outbound.campaigns.{id}.
type Campaign struct {
	ID                          string           `json:"id"`
	Name                        string           `json:"name"`
	Number                      int              `json:"number"`
	Direction                   string           `json:"direction"`
	DialingMode                 string           `json:"dialingMode"`
	PowerRatio                  float64          `json:"powerRatio"`
	ContactListIDs              []string         `json:"contactListIds"`
	SchemaID                    string           `json:"schemaId"` // derived from the lists
	QueueID                     string           `json:"queueId"`
	InboundListID               string           `json:"inboundListId"`
	TransferNumbers             []TransferNumber `json:"transferNumbers"`
	CallingHours                CallingHours     `json:"callingHours"`
	RetryRules                  []RetryRule      `json:"retryRules"`
	MaxAttempts                 int              `json:"maxAttempts"`
	DNCListIDs                  []string         `json:"dncListIds"`
	CallerID                    string           `json:"callerId"`
	AbandonCapPercent           float64          `json:"abandonCapPercent"`
	RingTimeoutSeconds          int              `json:"ringTimeoutSeconds"`
	AbandonPrompt               string           `json:"abandonPrompt"`
	AllowReleaseWithoutCategory bool             `json:"allowReleaseWithoutCategory"`
	AutoReleaseSeconds          int              `json:"autoReleaseSeconds"` // -1 = never
	State                       string           `json:"state"`
	Created                     time.Time        `json:"dateCreated"`
	Modified                    time.Time        `json:"dateModified"`
}

// TransferNumber is a number agents may transfer a call to.
type TransferNumber struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// CallingHours say when contacts may be called.
type CallingHours struct {
	TimeZone string   `json:"timeZone"` // IANA; "" = UTC
	Windows  []Window `json:"windows"`  // none = any time
}

// Window is a daily span of calling hours: [Start, End) on each of Days.
type Window struct {
	Days  []string `json:"days"`  // mon … sun
	Start string   `json:"start"` // HH:MM
	End   string   `json:"end"`   // HH:MM, after Start
}

// RetryRule says whether and after how long an outcome is dialed again.
type RetryRule struct {
	Outcome      string `json:"outcome"`
	Retry        bool   `json:"retry"`
	DelaySeconds int    `json:"delaySeconds"`
}

// CampaignChange is the body of v2.outbound.campaigns.{id}: the campaign,
// with deleted set when it was just deleted.
type CampaignChange struct {
	Campaign
	Deleted bool `json:"deleted,omitempty"`
}

// Defaults are the settings of a campaign created with only its name,
// number, mode and lists.
func Defaults() Campaign {
	return Campaign{Direction: Outbound, MaxAttempts: 3, AbandonCapPercent: 3, RingTimeoutSeconds: 25,
		AbandonPrompt: "abandon", AllowReleaseWithoutCategory: true, AutoReleaseSeconds: -1, State: Off}
}

// Topics of the events.
func campaignTopic(id string) string { return "v2.outbound.campaigns." + id }
func agentsTopic(id string) string   { return "v2.outbound.campaigns." + id + ".agents" }
func userTopic(id string) string     { return "v2.users." + id + ".outboundcampaign" }
func callbackTopic(id string) string { return "v2.outbound.callbacks." + id }

var (
	phoneRE = regexp.MustCompile(`^\+?[0-9]{3,20}$`)
	hhmmRE  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// IsPhone reports whether s is a dialable number: digits with an optional
// leading +, 3 to 20 digits.
func IsPhone(s string) bool { return phoneRE.MatchString(s) }

// minutes parses HH:MM.
func minutes(hhmm string) (int, bool) {
	if !hhmmRE.MatchString(hhmm) {
		return 0, false
	}
	h, _ := strconv.Atoi(hhmm[:2])
	m, _ := strconv.Atoi(hhmm[3:])
	return h*60 + m, true
}

// normalize turns nil slices into empty ones, so the JSON forms carry [].
func (c *Campaign) normalize() {
	if c.ContactListIDs == nil {
		c.ContactListIDs = []string{}
	}
	if c.TransferNumbers == nil {
		c.TransferNumbers = []TransferNumber{}
	}
	if c.CallingHours.Windows == nil {
		c.CallingHours.Windows = []Window{}
	}
	for i := range c.CallingHours.Windows {
		if c.CallingHours.Windows[i].Days == nil {
			c.CallingHours.Windows[i].Days = []string{}
		}
	}
	if c.RetryRules == nil {
		c.RetryRules = []RetryRule{}
	}
	if c.DNCListIDs == nil {
		c.DNCListIDs = []string{}
	}
}

// dedupe drops empty and repeated ids, keeping the order.
func dedupe(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// validate checks everything that needs no lookup and clears what the
// direction ignores.
func (c *Campaign) validate(col *problem.Collector) {
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case c.Name == "":
		col.Add("name", "is required")
	case len(c.Name) > 200:
		col.Add("name", "must be at most 200 characters")
	}
	if c.Number < 1 || c.Number > MaxNumber {
		col.Add("number", "must be between 1 and %d, got %d", MaxNumber, c.Number)
	}
	if c.Direction == "" {
		c.Direction = Outbound
	}
	if c.State == "" {
		c.State = Off
	}
	if c.State != On && c.State != Off {
		col.Add("state", "must be on or off, got %q", c.State)
	}
	for i, tn := range c.TransferNumbers {
		f := "transferNumbers[" + strconv.Itoa(i) + "]."
		if strings.TrimSpace(tn.Name) == "" || len(tn.Name) > 200 {
			col.Add(f+"name", "is required (at most 200 characters)")
		}
		if !IsPhone(tn.Number) {
			col.Add(f+"number", "%q is not a phone number: digits with an optional leading +, 3 to 20 digits", tn.Number)
		}
	}
	if len(c.TransferNumbers) > MaxTransferNumbers {
		col.Add("transferNumbers", "at most %d, got %d", MaxTransferNumbers, len(c.TransferNumbers))
	}
	if c.AutoReleaseSeconds != -1 && (c.AutoReleaseSeconds < 0 || c.AutoReleaseSeconds > 3600) {
		col.Add("autoReleaseSeconds", "must be -1 (never) or between 0 and 3600, got %d", c.AutoReleaseSeconds)
	}
	if len(c.AbandonPrompt) > 200 {
		col.Add("abandonPrompt", "must be at most 200 characters")
	}
	switch c.Direction {
	case Inbound:
		c.validateInbound(col)
	case Outbound:
		c.validateOutbound(col)
	default:
		col.Add("direction", "must be inbound or outbound, got %q", c.Direction)
	}
}

func (c *Campaign) validateInbound(col *problem.Collector) {
	// Dialing settings mean nothing to an inbound campaign: they are
	// dropped rather than checked.
	d := Defaults()
	c.DialingMode, c.PowerRatio, c.ContactListIDs, c.DNCListIDs = "", 0, []string{}, []string{}
	c.CallingHours, c.RetryRules, c.CallerID = CallingHours{}, nil, ""
	c.MaxAttempts, c.AbandonCapPercent, c.RingTimeoutSeconds = d.MaxAttempts, d.AbandonCapPercent, d.RingTimeoutSeconds
	c.QueueID, c.InboundListID = strings.TrimSpace(c.QueueID), strings.TrimSpace(c.InboundListID)
	if c.QueueID == "" {
		col.Add("queueId", "is required for an inbound campaign")
	}
	if c.InboundListID == "" {
		col.Add("inboundListId", "is required for an inbound campaign: find-or-create inserts contacts there")
	}
}

func (c *Campaign) validateOutbound(col *problem.Collector) {
	c.InboundListID = ""
	c.QueueID = strings.TrimSpace(c.QueueID)
	if !slices.Contains(DialingModes, c.DialingMode) {
		col.Add("dialingMode", "must be one of %v, got %q", DialingModes, c.DialingMode)
	}
	switch {
	case c.DialingMode == "power" && (math.IsNaN(c.PowerRatio) || c.PowerRatio < 1 || c.PowerRatio > 10):
		col.Add("powerRatio", "must be between 1 and 10 in power mode, got %v", c.PowerRatio)
	case c.DialingMode != "power" && c.PowerRatio != 0:
		col.Add("powerRatio", "applies to the power dialing mode only")
	}
	c.ContactListIDs = dedupe(c.ContactListIDs)
	switch {
	case len(c.ContactListIDs) == 0:
		col.Add("contactListIds", "a campaign with no list: an outbound campaign needs at least one contact list")
	case len(c.ContactListIDs) > MaxLists:
		col.Add("contactListIds", "at most %d lists, got %d", MaxLists, len(c.ContactListIDs))
	}
	c.DNCListIDs = dedupe(c.DNCListIDs)
	if len(c.DNCListIDs) > MaxLists {
		col.Add("dncListIds", "at most %d lists, got %d", MaxLists, len(c.DNCListIDs))
	}
	if c.RingTimeoutSeconds < 15 || c.RingTimeoutSeconds > 120 {
		col.Add("ringTimeoutSeconds", "must be between 15 and 120 seconds (at least 15 s: regulation), got %d", c.RingTimeoutSeconds)
	}
	if math.IsNaN(c.AbandonCapPercent) || c.AbandonCapPercent < 0 || c.AbandonCapPercent > 3 {
		col.Add("abandonCapPercent", "must be between 0 and 3, got %v", c.AbandonCapPercent)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		col.Add("maxAttempts", "must be between 1 and 100, got %d", c.MaxAttempts)
	}
	if c.CallerID != "" && !IsPhone(c.CallerID) {
		col.Add("callerId", "%q is not a phone number: digits with an optional leading +, 3 to 20 digits", c.CallerID)
	}
	c.CallingHours.validate(col)
	seen := map[string]bool{}
	for i, r := range c.RetryRules {
		f := "retryRules[" + strconv.Itoa(i) + "]."
		switch {
		case !slices.Contains(RetryOutcomes, r.Outcome):
			col.Add(f+"outcome", "must be one of %v, got %q", RetryOutcomes, r.Outcome)
		case seen[r.Outcome]:
			col.Add(f+"outcome", "%q has a rule already: one rule per outcome", r.Outcome)
		}
		seen[r.Outcome] = true
		if r.DelaySeconds < 0 || r.DelaySeconds > MaxRetryDelay {
			col.Add(f+"delaySeconds", "must be between 0 and %d (30 days), got %d", MaxRetryDelay, r.DelaySeconds)
		}
	}
}

func (h *CallingHours) validate(col *problem.Collector) {
	h.TimeZone = strings.TrimSpace(h.TimeZone)
	if h.TimeZone != "" {
		if _, err := loadZone(h.TimeZone); err != nil {
			col.Add("callingHours.timeZone", "%q is not a known IANA time zone", h.TimeZone)
		}
	}
	if len(h.Windows) > MaxWindows {
		col.Add("callingHours.windows", "at most %d windows, got %d", MaxWindows, len(h.Windows))
	}
	for i, w := range h.Windows {
		f := "callingHours.windows[" + strconv.Itoa(i) + "]."
		if len(w.Days) == 0 {
			col.Add(f+"days", "name at least one day (mon … sun)")
		}
		var days []string
		for j, d := range w.Days {
			d = strings.ToLower(strings.TrimSpace(d))
			if !slices.Contains(Days, d) {
				col.Add(f+"days["+strconv.Itoa(j)+"]", "must be one of mon, tue, wed, thu, fri, sat, sun, got %q", w.Days[j])
			} else if !slices.Contains(days, d) {
				days = append(days, d)
			}
		}
		if days != nil {
			h.Windows[i].Days = days
		}
		start, okS := minutes(w.Start)
		end, okE := minutes(w.End)
		if !okS {
			col.Add(f+"start", "must be HH:MM (24 h), got %q", w.Start)
		}
		if !okE {
			col.Add(f+"end", "must be HH:MM (24 h), got %q", w.End)
		}
		if okS && okE && start >= end {
			col.Add(f+"end", "must be after start (%s): windows cannot cross midnight, split them in two", w.Start)
		}
	}
}

// checkRefs checks, through the dependencies, that what c names exists,
// and derives the schema.
func (s *Service) checkRefs(ctx context.Context, c *Campaign, col *problem.Collector) error {
	contacts, queues, _, err := s.deps()
	if err != nil {
		return err
	}
	if err := s.checkPrompt(ctx, c, col); err != nil { // prompts.go
		return err
	}
	// missing turns a NotFound into a problem on field; other errors stop.
	missing := func(field, what, id string, err error) error {
		if err == nil {
			return nil
		}
		if isNotFound(err) {
			col.Add(field, "%s %s does not exist", what, id)
			return nil
		}
		return err
	}
	if c.QueueID != "" {
		if err := missing("queueId", "queue", c.QueueID, queues.QueueExists(ctx, c.QueueID)); err != nil {
			return err
		}
	}
	c.SchemaID = ""
	if c.Direction == Inbound && c.InboundListID != "" {
		schema, err := contacts.ListSchema(ctx, c.InboundListID)
		if err := missing("inboundListId", "contact list", c.InboundListID, err); err != nil {
			return err
		}
		c.SchemaID = schema
	}
	if c.Direction == Outbound && len(c.ContactListIDs) <= MaxLists {
		for i, id := range c.ContactListIDs {
			f := "contactListIds[" + strconv.Itoa(i) + "]"
			schema, err := contacts.ListSchema(ctx, id)
			if err != nil {
				if err := missing(f, "contact list", id, err); err != nil {
					return err
				}
				continue
			}
			if c.SchemaID == "" {
				c.SchemaID = schema
			} else if schema != c.SchemaID {
				col.Add(f, "list %s uses schema %s, the campaign's other lists schema %s: all lists of a campaign share one schema", id, schema, c.SchemaID)
			}
		}
	}
	if c.Direction == Outbound && len(c.DNCListIDs) <= MaxLists {
		for i, id := range c.DNCListIDs {
			if err := missing("dncListIds["+strconv.Itoa(i)+"]", "do-not-call list", id, contacts.DNCListExists(ctx, id)); err != nil {
				return err
			}
		}
	}
	return nil
}

func isNotFound(err error) bool {
	for _, p := range problem.All(err) {
		if p.Kind == problem.NotFound {
			return true
		}
	}
	return errors.Is(err, store.ErrNotFound)
}

// clone copies the slices of c, which validation rewrites.
func (c *Campaign) clone() {
	c.ContactListIDs = slices.Clone(c.ContactListIDs)
	c.DNCListIDs = slices.Clone(c.DNCListIDs)
	c.TransferNumbers = slices.Clone(c.TransferNumbers)
	c.RetryRules = slices.Clone(c.RetryRules)
	ws := slices.Clone(c.CallingHours.Windows)
	for i := range ws {
		ws[i].Days = slices.Clone(ws[i].Days)
	}
	c.CallingHours.Windows = ws
}

// check validates c completely (nothing written).
func (s *Service) check(ctx context.Context, c *Campaign) error {
	c.clone()
	var col problem.Collector
	c.validate(&col)
	if err := s.checkRefs(ctx, c, &col); err != nil {
		return err
	}
	c.normalize()
	return col.Err()
}

// unique reports a name or number another campaign has.
func unique(ctx context.Context, tx *store.Tx, c Campaign) error {
	var col []error
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns WHERE lower(name) = lower($1) AND id <> $2`, c.Name, c.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		col = append(col, problem.Duplicatef("name", "a campaign named %q already exists", c.Name))
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns WHERE number = $1 AND id <> $2`, c.Number, c.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		col = append(col, problem.Duplicatef("number", "campaign number %d is taken", c.Number))
	}
	return errors.Join(col...)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings and numbers
	}
	return string(b)
}

// writeLists records which lists the campaign names (ListInUse reads them).
func writeLists(ctx context.Context, tx *store.Tx, c Campaign) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_lists WHERE campaign_id = $1`, c.ID); err != nil {
		return err
	}
	add := func(kind, id string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO campaign_lists (campaign_id, kind, list_id) VALUES ($1, $2, $3)`, c.ID, kind, id)
		return err
	}
	for _, id := range c.ContactListIDs {
		if err := add("contact", id); err != nil {
			return err
		}
	}
	if c.InboundListID != "" {
		if err := add("contact", c.InboundListID); err != nil {
			return err
		}
	}
	for _, id := range c.DNCListIDs {
		if err := add("dnc", id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) now() time.Time { return store.Time(store.Millis(s.clock.Now())) }

// Create adds a campaign with the settings in c, all validated (a zero
// setting is not replaced by its default): start from Defaults.
func (s *Service) Create(ctx context.Context, c Campaign) (Campaign, error) {
	c.ID = ""
	if err := s.check(ctx, &c); err != nil {
		return Campaign{}, err
	}
	c.ID = uuid.NewString()
	c.Created = s.now()
	c.Modified = c.Created
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := unique(ctx, tx, c); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, name, number, direction, dialing_mode, power_ratio, schema_id, queue_id,
			inbound_list_id, contact_list_ids, dnc_list_ids, transfer_numbers, calling_hours, retry_rules, max_attempts, caller_id,
			abandon_cap_percent, ring_timeout_s, abandon_prompt, allow_release_without_category, auto_release_s, state, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $23)`,
			c.ID, c.Name, c.Number, c.Direction, c.DialingMode, c.PowerRatio, c.SchemaID, c.QueueID,
			c.InboundListID, mustJSON(c.ContactListIDs), mustJSON(c.DNCListIDs), mustJSON(c.TransferNumbers), mustJSON(c.CallingHours),
			mustJSON(c.RetryRules), c.MaxAttempts, c.CallerID, c.AbandonCapPercent, c.RingTimeoutSeconds, c.AbandonPrompt,
			c.AllowReleaseWithoutCategory, c.AutoReleaseSeconds, c.State, store.Millis(c.Created))
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a campaign with this name or number already exists")
		}
		if err != nil {
			return err
		}
		if err := writeLists(ctx, tx, c); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, campaignTopic(c.ID), CampaignChange{Campaign: c})
	})
	if err != nil {
		return Campaign{}, err
	}
	return c, nil
}

// Update replaces a campaign's settings; an empty State keeps the current
// one. Turning a campaign inbound logs its agents out.
func (s *Service) Update(ctx context.Context, id string, c Campaign) (Campaign, error) {
	old, err := s.Get(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	c.ID = id
	if c.State == "" {
		c.State = old.State
	}
	if err := s.check(ctx, &c); err != nil {
		return Campaign{}, err
	}
	c.Created = old.Created
	c.Modified = s.now()
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := unique(ctx, tx, c); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = $1, number = $2, direction = $3, dialing_mode = $4, power_ratio = $5,
			schema_id = $6, queue_id = $7, inbound_list_id = $8, contact_list_ids = $9, dnc_list_ids = $10, transfer_numbers = $11,
			calling_hours = $12, retry_rules = $13, max_attempts = $14, caller_id = $15, abandon_cap_percent = $16, ring_timeout_s = $17,
			abandon_prompt = $18, allow_release_without_category = $19, auto_release_s = $20, state = $21, modified_at = $22
			WHERE id = $23`,
			c.Name, c.Number, c.Direction, c.DialingMode, c.PowerRatio, c.SchemaID, c.QueueID, c.InboundListID,
			mustJSON(c.ContactListIDs), mustJSON(c.DNCListIDs), mustJSON(c.TransferNumbers), mustJSON(c.CallingHours),
			mustJSON(c.RetryRules), c.MaxAttempts, c.CallerID, c.AbandonCapPercent, c.RingTimeoutSeconds, c.AbandonPrompt,
			c.AllowReleaseWithoutCategory, c.AutoReleaseSeconds, c.State, store.Millis(c.Modified), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a campaign with this name or number already exists")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("campaign %s not found", id)
		}
		if err := writeLists(ctx, tx, c); err != nil {
			return err
		}
		if err := s.events.Add(ctx, tx, campaignTopic(id), CampaignChange{Campaign: c}); err != nil {
			return err
		}
		if c.Direction == Inbound {
			return s.logoutAll(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return c, nil
}

// Delete removes a campaign: its agents are logged out, its callbacks still
// scheduled are cancelled (their contacts go back to "retry") and every
// callback row of the campaign goes with it.
func (s *Service) Delete(ctx context.Context, id string) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.logoutAll(ctx, tx, id); err != nil {
			return err
		}
		cbs, err := queryCallbacks(ctx, tx, ` WHERE campaign_id = $1 AND state IN ('scheduled', 'missed') ORDER BY at, id`, id)
		if err != nil {
			return err
		}
		now := s.now()
		for _, cb := range cbs {
			if _, err := tx.ExecContext(ctx, `UPDATE callbacks SET state = 'cancelled', modified_at = $1 WHERE id = $2`, store.Millis(now), cb.ID); err != nil {
				return err
			}
			if err := s.releaseContact(ctx, tx, cb.ContactID); err != nil {
				return err
			}
			cb.State, cb.Modified = "cancelled", now
			if err := s.events.Add(ctx, tx, callbackTopic(cb.ID), cb); err != nil {
				return err
			}
		}
		for _, q := range []string{`DELETE FROM callbacks WHERE campaign_id = $1`, `DELETE FROM campaign_lists WHERE campaign_id = $1`,
			`DELETE FROM campaign_agents WHERE campaign_id = $1`, `DELETE FROM campaigns WHERE id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		c.Modified = now
		return s.events.Add(ctx, tx, campaignTopic(id), CampaignChange{Campaign: c, Deleted: true})
	})
}

const campaignColumns = `id, name, number, direction, dialing_mode, power_ratio, schema_id, queue_id, inbound_list_id,
	contact_list_ids, dnc_list_ids, transfer_numbers, calling_hours, retry_rules, max_attempts, caller_id, abandon_cap_percent,
	ring_timeout_s, abandon_prompt, allow_release_without_category, auto_release_s, state, created_at, modified_at`

func scanCampaign(row interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var lists, dnc, tns, hours, rules string
	var created, modified int64
	err := row.Scan(&c.ID, &c.Name, &c.Number, &c.Direction, &c.DialingMode, &c.PowerRatio, &c.SchemaID, &c.QueueID, &c.InboundListID,
		&lists, &dnc, &tns, &hours, &rules, &c.MaxAttempts, &c.CallerID, &c.AbandonCapPercent,
		&c.RingTimeoutSeconds, &c.AbandonPrompt, &c.AllowReleaseWithoutCategory, &c.AutoReleaseSeconds, &c.State, &created, &modified)
	if err != nil {
		return Campaign{}, err
	}
	for _, f := range []struct {
		raw string
		v   any
	}{{lists, &c.ContactListIDs}, {dnc, &c.DNCListIDs}, {tns, &c.TransferNumbers}, {hours, &c.CallingHours}, {rules, &c.RetryRules}} {
		if err := json.Unmarshal([]byte(f.raw), f.v); err != nil {
			return Campaign{}, fmt.Errorf("campaign %s: %w", c.ID, err)
		}
	}
	c.Created, c.Modified = store.Time(created), store.Time(modified)
	c.normalize()
	return c, nil
}

// Get returns a campaign by id.
func (s *Service) Get(ctx context.Context, id string) (Campaign, error) {
	return getCampaign(ctx, s.db, id)
}

func getCampaign(ctx context.Context, q store.Querier, id string) (Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, problem.NotFoundf("campaign %s not found", id)
	}
	return c, err
}

// Filter narrows List.
type Filter struct {
	Name      string // * wildcards allowed
	Direction string // inbound, outbound or "" (both)
	State     string // on, off or "" (both)
}

// List returns a page of campaigns sorted by name, and the total.
func (s *Service) List(ctx context.Context, f Filter, p Page) ([]Campaign, int, error) {
	cond, args := "", []any{}
	add := func(w string, v any) {
		args = append(args, v)
		w = strings.ReplaceAll(w, "$?", "$"+strconv.Itoa(len(args)))
		if cond == "" {
			cond = " WHERE " + w
		} else {
			cond += " AND " + w
		}
	}
	if f.Name != "" {
		add(`name LIKE $? ESCAPE '\'`, likePattern(f.Name))
	}
	if f.Direction != "" {
		add(`direction = $?`, f.Direction)
	}
	if f.State != "" {
		add(`state = $?`, f.State)
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if p.Limit <= 0 {
		p.Limit = 25
	}
	n := len(args)
	out, err := s.queryCampaigns(ctx, cond+` ORDER BY name, id LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, p.Limit, p.Offset)...)
	return out, total, err
}

func (s *Service) queryCampaigns(ctx context.Context, tail string, args ...any) ([]Campaign, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns`+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Running returns the outbound campaigns whose state is on, by name.
func (s *Service) Running(ctx context.Context) ([]Campaign, error) {
	return s.queryCampaigns(ctx, ` WHERE direction = 'outbound' AND state = 'on' ORDER BY name, id`)
}

// ListInUse returns a Conflict with code list.in.use when a campaign names
// the contact list (to dial or as its inbound list). The contact store asks
// before deleting a list.
func (s *Service) ListInUse(ctx context.Context, listID string) error {
	return s.inUse(ctx, "contact", listID, "list.in.use", "contact list")
}

// DNCListInUse returns a Conflict with code dnclist.in.use when a campaign
// names the do-not-call list.
func (s *Service) DNCListInUse(ctx context.Context, listID string) error {
	return s.inUse(ctx, "dnc", listID, "dnclist.in.use", "do-not-call list")
}

func (s *Service) inUse(ctx context.Context, kind, listID, code, what string) error {
	var name string
	var number int
	err := s.db.QueryRowContext(ctx, `SELECT c.name, c.number FROM campaign_lists l JOIN campaigns c ON c.id = l.campaign_id
		WHERE l.kind = $1 AND l.list_id = $2 ORDER BY c.name LIMIT 1`, kind, listID).Scan(&name, &number)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return problem.Coded(problem.Conflict, code, "", "the %s is used by campaign %d - %s", what, number, name)
}

// likePattern turns a platform-style name filter ("*sales*") into a LIKE
// pattern; without stars it matches the name exactly.
func likePattern(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return strings.ReplaceAll(r.Replace(name), "*", "%")
}
