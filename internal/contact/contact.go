// Package contact holds the outbound contact data: schemas (the seed's
// "CRM": fields, the Clave_1 key field, the disposition tree), contact lists
// (the seed's "bases"), contacts with their attempt history, do-not-call
// lists, CSV import/export and the inbound find-or-create of SPEC 2.6.
package contact

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	_ "time/tzdata" // time zones of contacts without the host's zoneinfo

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/store"
)

// Events is what the contact store needs of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Service keeps schemas, lists, contacts and do-not-call lists.
type Service struct {
	db     *store.DB
	events Events
	clock  clock.Clock

	seq       atomic.Int64 // orders contacts created in the same millisecond
	mu        sync.RWMutex
	listGuard func(ctx context.Context, listID string) error
}

// New returns the contact service.
func New(db *store.DB, ev Events, c clock.Clock) *Service {
	return &Service{db: db, events: ev, clock: c}
}

// SetListGuard installs the check DeleteList runs first: campaigns refuse
// the deletion of a list they name (returning, for instance, a Conflict
// with code "list.in.use"). nil removes it.
func (s *Service) SetListGuard(g func(ctx context.Context, listID string) error) {
	s.mu.Lock()
	s.listGuard = g
	s.mu.Unlock()
}

// Page selects a slice of a listing.
type Page struct {
	Limit, Offset int
}

// Change is the body of the schema, list and do-not-call list events.
type Change struct {
	Action string `json:"action"` // created, updated, deleted
	Entity string `json:"entity"` // schema, contactlist, dnclist
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
}

// ImportStatus is the body of v2.outbound.contactlists.{id}.importstatus.
type ImportStatus struct {
	Imported   int `json:"imported"`
	Updated    int `json:"updated"`
	Skipped    int `json:"skipped"`
	ErrorCount int `json:"errorCount"`
}

// Event topics.
func schemaTopic(id string) string { return "v2.outbound.schemas." + id }
func listTopic(id string) string   { return "v2.outbound.contactlists." + id }
func dncTopic(id string) string    { return "v2.outbound.dnclists." + id }

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

// likePattern turns a platform-style name filter ("*sales*") into a LIKE
// pattern; without stars it matches the name exactly.
func likePattern(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return strings.ReplaceAll(r.Replace(name), "*", "%")
}

// containsPattern is a LIKE pattern matching s as a substring.
func containsPattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

func placeholders(start, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$")
		b.WriteString(strconv.Itoa(start + i))
	}
	return b.String()
}

func checkName(field, v string, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "is required"
	case len(v) > max:
		return "must be at most " + strconv.Itoa(max) + " characters"
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "must not contain control characters"
		}
	}
	return ""
}
