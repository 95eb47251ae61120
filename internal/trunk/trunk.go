// Package trunk keeps the SIP trunks: the carriers' connections customer
// calls come in through and outbound calls go out by. A trunk has an
// address (whose INVITEs the switch accepts as customer calls), optional
// digest credentials for calling out through it (the password sealed with
// the master key, never returned nor logged), a default country that reads
// national numbers as E.164, a caller id, and its inbound numbers (DIDs),
// each routed to a queue. A trunk may also REGISTER with its carrier (with
// the same credentials, at its address) so that the carrier sends its calls
// to the switch. It speaks SIP over UDP or over TLS (Transport), and over
// TLS may encrypt its calls' audio (SRTP). Every change commits an event
// (v2.telephony.sip.trunks.{id}); the application reloads the switch's
// trunks when it sees one.
package trunk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// TopicPrefix starts the topic of every trunk change; the id follows.
const TopicPrefix = "v2.telephony.sip.trunks."

// Limits of a trunk's settings.
const (
	MaxTrunks   = 100
	MaxDIDs     = 1000
	maxField    = 200
	maxPassword = 128

	// The binding time a registering trunk asks its carrier for, in
	// seconds: the default and the range accepted.
	DefaultRegisterExpires = 3600
	MinRegisterExpires     = 60
	MaxRegisterExpires     = 86400
)

// DID is an inbound number and the queue its calls reach.
type DID struct {
	Number  string // E.164 ("+34911000001") or a short number ("2001"), without separators
	QueueID string
}

// Trunk is a SIP trunk as it may be shown: never its password.
type Trunk struct {
	ID             string
	Name           string
	Address        string // "host" or "host:port"
	Transport      string // TransportUDP or TransportTLS
	Username       string // digest user towards the trunk; "" when it asks for none
	HasPassword    bool
	DefaultCountry string // ISO 3166 alpha-2 that national numbers are read in, e.g. "ES"; "" = none
	CallerID       string // E.164 number shown on outbound calls; "" = the caller's own
	DIDs           []DID
	// Register: the switch REGISTERs with the carrier at Address as
	// Username (digest with the password), asking for RegisterExpires
	// seconds, so that the carrier sends the trunk's calls to it.
	Register        bool
	RegisterExpires int
	// SRTP: calls out through the trunk offer encrypted audio (RTP/SAVP,
	// SDES keys) and end if the carrier answers in the clear. Only with
	// TransportTLS: the keys travel in the SDP.
	SRTP     bool
	Created  time.Time
	Modified time.Time
}

// Transports a trunk speaks SIP over.
const (
	TransportUDP = "udp"
	// TransportTLS: SIP over TLS to Address (port 5061 when it has
	// none), the carrier's certificate verified; needs the switch's
	// sip_tls_listen.
	TransportTLS = "tls"
)

// Live is a trunk with its password in clear, for the switch only.
type Live struct {
	Trunk
	Password string
}

// Input creates or replaces a trunk. An empty Password on update keeps the
// current one; ClearPassword removes it. RegisterExpires 0 means
// DefaultRegisterExpires; Transport "" means TransportUDP. SRTP needs
// TransportTLS.
type Input struct {
	Name, Address, Username, Password, DefaultCountry, CallerID string
	Transport                                                   string
	ClearPassword                                               bool
	DIDs                                                        []DID
	Register                                                    bool
	RegisterExpires                                             int
	SRTP                                                        bool
}

// Events is what trunks need of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Box seals and opens secrets (secret.Box).
type Box interface {
	Seal(plain string) (string, error)
	Open(sealed string) (string, error)
}

// Queues checks the queues DIDs point at (directory.Service).
type Queues interface {
	GetQueue(ctx context.Context, id string) (directory.Queue, error)
}

// Service keeps the trunks.
type Service struct {
	db     *store.DB
	events Events
	box    Box
	queues Queues
	clock  clock.Clock
}

// New returns the trunk service.
func New(db *store.DB, ev Events, box Box, queues Queues, c clock.Clock) *Service {
	return &Service{db: db, events: ev, box: box, queues: queues, clock: c}
}

// Change is the body of a trunk event.
type Change struct {
	Action string `json:"action"` // created, updated, deleted
	ID     string `json:"id"`
	Name   string `json:"name"`
}

// CleanNumber drops visual separators (space . - ( ) /) and a "tel:"
// prefix; what remains must be an optional + and 1 to 20 digits.
func CleanNumber(raw string) (string, error) {
	s := strings.TrimPrefix(strings.TrimSpace(raw), "tel:")
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" .-()/", r):
		default:
			return "", fmt.Errorf("%q is not a phone number or extension (digits, an optional leading +)", raw)
		}
	}
	n := b.String()
	if d := strings.TrimPrefix(n, "+"); d == "" || len(d) > 20 {
		return "", fmt.Errorf("%q is not a phone number or extension (1 to 20 digits)", raw)
	}
	return n, nil
}

// e164 reads a national number of country as E.164; ok is false when it is
// not a valid number there (a short extension, say).
func e164(number, country string) (string, bool) {
	if country == "" || strings.HasPrefix(number, "+") {
		return "", false
	}
	n, err := phonenumbers.Parse(number, country)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

func validCountry(c string) bool {
	return len(c) == 2 && c == strings.ToUpper(c) && phonenumbers.GetCountryCodeForRegion(c) != 0
}

// validate checks and normalizes the input: numbers cleaned, national DIDs
// read as E.164 in the default country. hasPassword says whether the trunk
// has a password once the input is applied.
func (s *Service) validate(ctx context.Context, in *Input, hasPassword bool) error {
	var c problem.Collector
	text := func(field, v string, required bool) {
		switch {
		case required && v == "":
			c.Add(field, "is required")
		case len(v) > maxField:
			c.Add(field, "must be at most %d characters", maxField)
		case strings.ContainsAny(v, "\r\n\x00"):
			c.Add(field, "must be one line")
		}
	}
	in.Name = strings.TrimSpace(in.Name)
	in.Address = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in.Address), "sip:"))
	in.Username = strings.TrimSpace(in.Username)
	in.DefaultCountry = strings.ToUpper(strings.TrimSpace(in.DefaultCountry))
	text("name", in.Name, true)
	text("address", in.Address, true)
	text("username", in.Username, false)
	if in.Address != "" {
		if err := checkAddress(in.Address); err != nil {
			c.Add("address", "%v", err)
		}
	}
	switch in.Transport = strings.ToLower(strings.TrimSpace(in.Transport)); in.Transport {
	case "":
		in.Transport = TransportUDP
	case TransportUDP, TransportTLS:
	default:
		c.Add("transport", "must be udp or tls (SIP over TLS, port 5061 by default), got %q", in.Transport)
	}
	if in.SRTP && in.Transport != TransportTLS {
		c.Add("srtp", "needs transport tls: the audio keys travel in the SIP messages, which anyone on the path reads over UDP")
	}
	if len(in.Password) > maxPassword {
		c.Add("password", "must be at most %d characters", maxPassword)
	}
	if strings.ContainsAny(in.Password, "\r\n\x00") {
		c.Add("password", "must be one line")
	}
	if in.Password != "" && in.Username == "" {
		c.Add("username", "is required with a password (the digest user the carrier gave you)")
	}
	if in.RegisterExpires == 0 {
		in.RegisterExpires = DefaultRegisterExpires
	}
	if in.RegisterExpires < MinRegisterExpires || in.RegisterExpires > MaxRegisterExpires {
		c.Add("registerExpires", "must be %d to %d seconds (the registration time asked of the carrier), got %d",
			MinRegisterExpires, MaxRegisterExpires, in.RegisterExpires)
	}
	if in.Register {
		// The carrier knows the switch by these credentials: without them
		// every REGISTER would be refused.
		if in.Username == "" && in.Password == "" { // with a password: said above
			c.Add("username", "is required to register with the carrier (the account the carrier gave you)")
		}
		if !hasPassword {
			c.Add("password", "is required to register with the carrier (the account's digest password)")
		}
	}
	if in.DefaultCountry != "" && !validCountry(in.DefaultCountry) {
		c.Add("defaultCountry", "must be an ISO 3166 alpha-2 country code such as ES or US, got %q", in.DefaultCountry)
	}
	if in.CallerID != "" {
		n, err := CleanNumber(in.CallerID)
		if err != nil {
			c.Add("callerId", "%v", err)
		} else if e, ok := e164(n, in.DefaultCountry); ok {
			in.CallerID = e
		} else {
			in.CallerID = n
		}
	}
	if len(in.DIDs) > MaxDIDs {
		c.Add("dids", "at most %d numbers per trunk, got %d", MaxDIDs, len(in.DIDs))
		return c.Err()
	}
	seen := map[string]int{}
	for i := range in.DIDs {
		d := &in.DIDs[i]
		f := "dids[" + strconv.Itoa(i) + "]"
		n, err := CleanNumber(d.Number)
		if err != nil {
			c.Add(f+".number", "%v", err)
		} else {
			if e, ok := e164(n, in.DefaultCountry); ok {
				n = e
			}
			if j, dup := seen[n]; dup {
				c.Add(f+".number", "%s is listed twice (also dids[%d])", n, j)
			}
			seen[n] = i
			d.Number = n
		}
		if !directory.IsUUID(d.QueueID) {
			c.Add(f+".queueId", "must be a queue id, got %q", d.QueueID)
		} else if _, err := s.queues.GetQueue(ctx, d.QueueID); err != nil {
			c.Add(f+".queueId", "there is no queue %s", d.QueueID)
		}
	}
	return c.Err()
}

// checkAddress accepts "host" or "host:port" (port 1-65535).
func checkAddress(a string) error {
	host, port := a, ""
	if h, p, err := net.SplitHostPort(a); err == nil {
		host, port = h, p
	}
	if host == "" || strings.ContainsAny(host, " /@;?") {
		return fmt.Errorf("must be host or host:port of the carrier's SIP server, e.g. sip.example.net:5060, got %q", a)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port must be 1 to 65535, got %q", port)
		}
	}
	return nil
}

// Create adds a trunk.
func (s *Service) Create(ctx context.Context, in Input) (Trunk, error) {
	if err := s.validate(ctx, &in, in.Password != ""); err != nil {
		return Trunk{}, err
	}
	sealed := ""
	if in.Password != "" {
		var err error
		if sealed, err = s.box.Seal(in.Password); err != nil {
			return Trunk{}, err
		}
	}
	id := uuid.NewString()
	now := store.Millis(s.clock.Now())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sip_trunks`).Scan(&n); err != nil {
			return err
		}
		if n >= MaxTrunks {
			return problem.Conflictf("", "there are %d trunks already, the most this installation keeps", n)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sip_trunks (id, name, address, username, password, default_country, caller_id,
			register_enabled, register_expires, transport, srtp, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`, id, in.Name, in.Address, in.Username, sealed, in.DefaultCountry, in.CallerID,
			in.Register, in.RegisterExpires, in.Transport, in.SRTP, now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a trunk named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		if err := checkBinding(ctx, tx, id, in); err != nil {
			return err
		}
		if err := s.putDIDs(ctx, tx, id, in.DIDs); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, TopicPrefix+id, Change{Action: "created", ID: id, Name: in.Name})
	})
	if err != nil {
		return Trunk{}, err
	}
	return s.Get(ctx, id)
}

// checkBinding refuses a second trunk registering the same account at the
// same carrier: both would hold one binding, and removing either would
// remove it for both.
func checkBinding(ctx context.Context, tx *store.Tx, id string, in Input) error {
	if !in.Register {
		return nil
	}
	var other string
	err := tx.QueryRowContext(ctx, `SELECT name FROM sip_trunks WHERE register_enabled = TRUE AND username = $1 AND address = $2 AND id <> $3`,
		in.Username, in.Address, id).Scan(&other)
	if err == nil {
		return problem.Duplicatef("username", "trunk %q already registers as %s at %s", other, in.Username, in.Address)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// putDIDs replaces a trunk's numbers; a number another trunk has is a
// Duplicate problem naming it.
func (s *Service) putDIDs(ctx context.Context, tx *store.Tx, id string, dids []DID) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sip_trunk_dids WHERE trunk_id = $1`, id); err != nil {
		return err
	}
	for i, d := range dids {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT t.name FROM sip_trunk_dids d JOIN sip_trunks t ON t.id = d.trunk_id WHERE d.number = $1`, d.Number).Scan(&owner)
		if err == nil {
			return problem.Duplicatef("dids["+strconv.Itoa(i)+"].number", "%s already belongs to trunk %q", d.Number, owner)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sip_trunk_dids (number, trunk_id, queue_id) VALUES ($1, $2, $3)`, d.Number, id, d.QueueID); err != nil {
			return err
		}
	}
	return nil
}

// Update replaces a trunk's settings.
func (s *Service) Update(ctx context.Context, id string, in Input) (Trunk, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Trunk{}, err
	}
	// ClearPassword wins over a new password (see below).
	if err := s.validate(ctx, &in, !in.ClearPassword && (in.Password != "" || cur.HasPassword)); err != nil {
		return Trunk{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		q := `UPDATE sip_trunks SET name = $1, address = $2, username = $3, default_country = $4, caller_id = $5,
			register_enabled = $6, register_expires = $7, transport = $8, srtp = $9, modified_at = $10 WHERE id = $11`
		args := []any{in.Name, in.Address, in.Username, in.DefaultCountry, in.CallerID, in.Register, in.RegisterExpires, in.Transport,
			in.SRTP, store.Millis(s.clock.Now()), id}
		switch {
		case in.ClearPassword:
			q = strings.Replace(q, "modified_at = $10", "modified_at = $10, password = ''", 1)
		case in.Password != "":
			sealed, err := s.box.Seal(in.Password)
			if err != nil {
				return err
			}
			q = strings.Replace(q, "modified_at = $10", "modified_at = $10, password = $12", 1)
			args = append(args, sealed)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a trunk named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("trunk %s not found", id)
		}
		if err := checkBinding(ctx, tx, id, in); err != nil {
			return err
		}
		if err := s.putDIDs(ctx, tx, id, in.DIDs); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, TopicPrefix+id, Change{Action: "updated", ID: id, Name: in.Name})
	})
	if err != nil {
		return Trunk{}, err
	}
	return s.Get(ctx, id)
}

// Delete removes a trunk and its numbers.
func (s *Service) Delete(ctx context.Context, id string) error {
	t, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sip_trunk_dids WHERE trunk_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sip_trunks WHERE id = $1`, id); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, TopicPrefix+id, Change{Action: "deleted", ID: id, Name: t.Name})
	})
}

const columns = `id, name, address, username, password, default_country, caller_id, register_enabled, register_expires, transport,
	srtp, created_at, modified_at`

func scan(row interface{ Scan(...any) error }) (Trunk, string, error) {
	var t Trunk
	var sealed string
	var created, modified int64
	if err := row.Scan(&t.ID, &t.Name, &t.Address, &t.Username, &sealed, &t.DefaultCountry, &t.CallerID,
		&t.Register, &t.RegisterExpires, &t.Transport, &t.SRTP, &created, &modified); err != nil {
		return Trunk{}, "", err
	}
	t.HasPassword = sealed != ""
	t.Created, t.Modified = store.Time(created), store.Time(modified)
	t.DIDs = []DID{}
	return t, sealed, nil
}

// Get returns a trunk.
func (s *Service) Get(ctx context.Context, id string) (Trunk, error) {
	t, _, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM sip_trunks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Trunk{}, problem.NotFoundf("trunk %s not found", id)
	}
	if err != nil {
		return Trunk{}, err
	}
	all, err := s.dids(ctx, id)
	if err != nil {
		return Trunk{}, err
	}
	t.DIDs = all[id]
	if t.DIDs == nil {
		t.DIDs = []DID{}
	}
	return t, nil
}

// dids returns the numbers of one trunk, or of all when id is "".
func (s *Service) dids(ctx context.Context, id string) (map[string][]DID, error) {
	q, args := `SELECT trunk_id, number, queue_id FROM sip_trunk_dids ORDER BY number`, []any{}
	if id != "" {
		q, args = `SELECT trunk_id, number, queue_id FROM sip_trunk_dids WHERE trunk_id = $1 ORDER BY number`, []any{id}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]DID{}
	for rows.Next() {
		var t string
		var d DID
		if err := rows.Scan(&t, &d.Number, &d.QueueID); err != nil {
			return nil, err
		}
		out[t] = append(out[t], d)
	}
	return out, rows.Err()
}

// List returns every trunk by name.
func (s *Service) List(ctx context.Context) ([]Trunk, error) {
	live, err := s.list(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]Trunk, len(live))
	for i, l := range live {
		out[i] = l.Trunk
	}
	return out, nil
}

// Live returns every trunk with its password in clear, for the switch.
func (s *Service) Live(ctx context.Context) ([]Live, error) { return s.list(ctx, true) }

func (s *Service) list(ctx context.Context, open bool) ([]Live, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM sip_trunks ORDER BY lower(name), id`)
	if err != nil {
		return nil, err
	}
	var out []Live
	var sealed []string
	for rows.Next() {
		t, sl, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, Live{Trunk: t})
		sealed = append(sealed, sl)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	all, err := s.dids(ctx, "")
	if err != nil {
		return nil, err
	}
	for i := range out {
		if d := all[out[i].ID]; d != nil {
			out[i].DIDs = d
		}
		if open && sealed[i] != "" {
			if out[i].Password, err = s.box.Open(sealed[i]); err != nil {
				return nil, fmt.Errorf("trunk %s: password: %w", out[i].Name, err)
			}
		}
	}
	return out, nil
}

// Route returns the queue a dialled number reaches: the DID equal to it
// once cleaned, or to its E.164 form in a trunk's default country, or —
// for an E.164 number in a trunk's country — to its national part (the
// switch writes what a carrier sends as E.164 with the trunk's country, so
// a short DID such as 2001 arrives as +342001). ok is false when no DID
// matches (the number may still be a queue name or a station).
func (s *Service) Route(ctx context.Context, dialled string) (queueID string, ok bool, err error) {
	n, cerr := CleanNumber(dialled)
	if cerr != nil {
		return "", false, nil
	}
	countries, err := s.countries(ctx)
	if err != nil {
		return "", false, err
	}
	cands := []string{n}
	add := func(c string) {
		if !slices.Contains(cands, c) {
			cands = append(cands, c)
		}
	}
	if strings.HasPrefix(n, "+") {
		if pn, err := phonenumbers.Parse(n, ""); err == nil {
			for _, c := range countries {
				if int(pn.GetCountryCode()) == phonenumbers.GetCountryCodeForRegion(c) {
					add(phonenumbers.GetNationalSignificantNumber(pn))
				}
			}
		}
	} else {
		for _, c := range countries {
			if e, ok := e164(n, c); ok {
				add(e)
			}
		}
	}
	for _, c := range cands {
		err := s.db.QueryRowContext(ctx, `SELECT queue_id FROM sip_trunk_dids WHERE number = $1`, c).Scan(&queueID)
		if err == nil {
			return queueID, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", false, err
		}
	}
	return "", false, nil
}

// countries lists the trunks' default countries.
func (s *Service) countries(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT default_country FROM sip_trunks WHERE default_country <> ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
