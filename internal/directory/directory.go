// Package directory holds who and what the contact center is made of: users
// and their roles, stations (devices), skills, queues and their members,
// wrap-up codes organized by category and subcategory, and presence
// definitions including the admin's numbered break states. Every change is
// committed with its event through the outbox.
package directory

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
)

// Events is what the directory needs of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Service is the directory.
type Service struct {
	db     *store.DB
	events Events
	box    *secret.Box
	clock  clock.Clock

	prompts atomic.Pointer[PromptChecker] // queues' waiting audio (queueaudio.go)
}

// New returns the directory service.
func New(db *store.DB, events Events, box *secret.Box, c clock.Clock) *Service {
	return &Service{db: db, events: events, box: box, clock: c}
}

// Page selects a slice of a listing.
type Page struct {
	Limit, Offset int
}

// Change is the body of directory change events.
type Change struct {
	Action string `json:"action"` // created, updated, deleted
	Entity string `json:"entity"` // user, station, skill, queue, wrapupcode, presencedefinition, queuemembers
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
}

func (s *Service) change(ctx context.Context, tx *store.Tx, topic string, c Change) error {
	return s.events.Add(ctx, tx, topic, c)
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// IsUUID reports whether s is a lowercase canonical UUID.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }

// likePattern turns a platform-style name filter ("*sales*", "sales*") into
// a LIKE pattern; without stars it matches the name exactly.
func likePattern(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	p := r.Replace(name)
	return strings.ReplaceAll(p, "*", "%")
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
