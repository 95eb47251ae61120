// Package session keeps agent sessions: the station (device) an agent is
// logged into, the presence the agent chose — a system presence or one of
// the admin's numbered break states — and the routing status derived from
// both and from what the agent is doing (an offer ringing, a call, wrap-up).
//
// Routing status is never set by hand. It is OFF_QUEUE unless the agent is
// logged into a station and On Queue; then NOT_RESPONDING after a missed
// offer (until the agent picks a presence again), INTERACTING while an ACD
// offer rings, an ACD call is up or its wrap-up is pending, COMMUNICATING on
// any other call, and IDLE otherwise. Only IDLE agents get offers.
//
// Every change is committed with its events (v2.users.{id}.presence,
// .routingStatus, .station) through the outbox, and sessions survive
// restarts. What an agent is doing (activities) is not stored here: the
// conversation service, which owns the calls, tells the session again after
// a restart.
package session

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Status is a routing status.
type Status string

// Routing statuses, as the platform API names them.
const (
	OffQueue      Status = "OFF_QUEUE"
	Idle          Status = "IDLE"
	Interacting   Status = "INTERACTING"
	NotResponding Status = "NOT_RESPONDING"
	Communicating Status = "COMMUNICATING"
)

// Well-known system presence ids (the same in every platform org).
const (
	PresenceAvailable = "6a3af858-942f-489d-9700-5f9bcdcdae9b"
	PresenceOnQueue   = "e08eaf1b-ee47-4fa9-a231-1200e284798f"
	PresenceOffline   = "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5"
	PresenceBusy      = "31fe3bac-dea6-44b7-bed7-47f91660a1a0"
	PresenceAway      = "5e5c5c66-ea97-4e7f-ac41-6424784829f2"
	PresenceBreak     = "227b37e2-f1d0-4dd0-8f50-badd7cf6d158"
	PresenceMeal      = "3fd96123-badb-4f69-bc03-1b1ccc6d8014"
	PresenceMeeting   = "bbdff279-7ae1-48ea-bade-7831d7234c64"
	PresenceTraining  = "d2390a99-8546-bad9-8f0a-219548e8aeb0"
	PresenceIdle      = "7ffa01cd-7866-4ad7-8faa-31e11b42f51f"
)

// Activity is something an agent is doing, reported by the conversation
// service per participant (one agent participant = one key).
type Activity string

const (
	// Alerting: an ACD offer rings at the agent's station.
	Alerting Activity = "alerting"
	// Connected: the agent is on an ACD call.
	Connected Activity = "connected"
	// Wrapup: the ACD call ended and its wrap-up is pending.
	Wrapup Activity = "wrapup"
	// Calling: any other call (placed by the agent, internal, consult,
	// monitoring).
	Calling Activity = "calling"
)

// Presence is the presence an agent chose.
type Presence struct {
	DefinitionID   string
	SystemPresence string // as the directory names it: "On Queue", "Break", ...
	Label          string // "On Queue", or a break state's "1 - Descanso"
	BreakNumber    int
	Message        string
	Modified       time.Time
}

// View is a copy of a session.
type View struct {
	UserID        string
	StationID     string // "" when not logged into a station
	StationName   string
	StationSince  time.Time
	Presence      Presence
	Status        Status
	StatusStart   time.Time
	NotResponding bool
	Activities    map[string]Activity // participant id → activity
}

// Available reports whether the agent may be offered ACD work.
func (v View) Available() bool { return v.Status == Idle }

// Busy reports whether the agent has a call ringing or up (wrap-up is not
// a call).
func (v View) Busy() bool {
	for _, a := range v.Activities {
		if a != Wrapup {
			return true
		}
	}
	return false
}

// Directory is what sessions need of the directory.
type Directory interface {
	GetUser(ctx context.Context, id string) (directory.User, error)
	GetStation(ctx context.Context, id string) (directory.Station, error)
	GetStationByName(ctx context.Context, name string) (directory.Station, error)
	StationPassword(ctx context.Context, name string) (string, error)
	GetPresence(ctx context.Context, id string) (directory.PresenceDefinition, error)
	ListPresences(ctx context.Context, includeDeactivated bool, p directory.Page) ([]directory.PresenceDefinition, int, error)
}

// Events is what sessions need of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// maxTombstones bounds how many ended activity keys an agent remembers, so a
// late report about an ended participant cannot bring it back.
const maxTombstones = 256

type session struct {
	View
	ended []string
}

// Service keeps every agent's session.
type Service struct {
	db     *store.DB
	events Events
	dir    Directory
	clock  clock.Clock

	mu       sync.Mutex
	sessions map[string]*session
	onStatus func(v View)
}

// New returns the session service; call Load before using it.
func New(db *store.DB, events Events, dir Directory, c clock.Clock) *Service {
	return &Service{db: db, events: events, dir: dir, clock: c, sessions: map[string]*session{}}
}

// OnStatus registers f, called (under the service's lock, so in order, and
// after the change committed) whenever an agent's routing status or station
// changes. f must not call back into the service.
func (s *Service) OnStatus(f func(v View)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onStatus = f
}

// Load reads the stored sessions. Statuses are kept as stored until Settle,
// so the conversation service can report restored activities first.
func (s *Service) Load(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, COALESCE(station_id, ''), station_name, station_since, presence_id, presence_message,
		presence_modified, not_responding, routing_status, routing_status_start FROM agent_sessions`)
	if err != nil {
		return err
	}
	var loaded []*session
	for rows.Next() {
		se := &session{}
		var since, modified, start int64
		var status string
		if err := rows.Scan(&se.UserID, &se.StationID, &se.StationName, &since, &se.Presence.DefinitionID, &se.Presence.Message,
			&modified, &se.NotResponding, &status, &start); err != nil {
			rows.Close()
			return err
		}
		se.StationSince, se.Presence.Modified, se.StatusStart = store.Time(since), store.Time(modified), store.Time(start)
		se.Status = Status(status)
		if se.StationID == "" {
			se.StationSince = time.Time{}
		}
		se.Activities = map[string]Activity{}
		loaded = append(loaded, se)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, se := range loaded {
		def, err := s.dir.GetPresence(ctx, se.Presence.DefinitionID)
		if err != nil {
			// The break state was deleted meanwhile: the agent is on a break.
			def, err = s.dir.GetPresence(ctx, PresenceBreak)
			if err != nil {
				return err
			}
		}
		msg, mod := se.Presence.Message, se.Presence.Modified
		se.Presence = presenceOf(def)
		se.Presence.Message, se.Presence.Modified = msg, mod
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, se := range loaded {
		s.sessions[se.UserID] = se
	}
	return nil
}

// Settle derives every agent's status again (after Load and the restore of
// activities) and commits what changed.
func (s *Service) Settle(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		if err := s.update(ctx, id, func(*session) error { return nil }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Get returns a user's session; a user never seen is Offline and off queue.
func (s *Service) Get(userID string) View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(userID).copy()
}

// List returns every known session, sorted by user id.
func (s *Service) List() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.sessions))
	for _, se := range s.sessions {
		out = append(out, se.copy())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out
}

// StationOf returns the name of the station a user is logged into.
func (s *Service) StationOf(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if se, ok := s.sessions[userID]; ok && se.StationID != "" {
		return se.StationName, true
	}
	return "", false
}

// UserAtStation returns the user logged into a station (by name).
func (s *Service) UserAtStation(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, se := range s.sessions {
		if se.StationID != "" && se.StationName == name {
			return se.UserID, true
		}
	}
	return "", false
}

func (se *session) copy() View {
	v := se.View
	v.Activities = make(map[string]Activity, len(se.Activities))
	for k, a := range se.Activities {
		v.Activities[k] = a
	}
	return v
}

// get returns the session or a default one (not stored until it changes).
func (s *Service) get(userID string) *session {
	if se, ok := s.sessions[userID]; ok {
		return se
	}
	return &session{View: View{UserID: userID, Status: OffQueue,
		Presence:   Presence{DefinitionID: PresenceOffline, SystemPresence: "Offline", Label: "Offline"},
		Activities: map[string]Activity{}}}
}

// StationRef names a station by id or by name.
type StationRef struct {
	ID, Name string
}

// Login ties a user to a station after checking the station's password. A
// station serves one agent at a time; an agent moving to another station
// leaves the old one. Logging in again to the same station is a no-op.
func (s *Service) Login(ctx context.Context, userID string, ref StationRef, password string) (View, error) {
	u, err := s.dir.GetUser(ctx, userID)
	if err != nil {
		return View{}, err
	}
	if u.State != "active" {
		return View{}, problem.Coded(problem.Conflict, "user.inactive", "", "user %s is %s and cannot log into a station", u.Name, u.State)
	}
	var st directory.Station
	switch {
	case ref.ID != "":
		if !directory.IsUUID(ref.ID) {
			return View{}, problem.Coded(problem.Invalid, "station.unknown", "stationId", "%q is not a station id", ref.ID)
		}
		st, err = s.dir.GetStation(ctx, ref.ID)
		if err != nil {
			return View{}, problem.Coded(problem.Invalid, "station.unknown", "stationId", "there is no station with id %s", ref.ID)
		}
	case ref.Name != "":
		st, err = s.dir.GetStationByName(ctx, ref.Name)
		if err != nil {
			return View{}, problem.Coded(problem.Invalid, "station.unknown", "stationName", "there is no station (device) named %q", ref.Name)
		}
	default:
		return View{}, problem.Coded(problem.Invalid, "bad.request", "stationName", "name the station (device) to log into: stationName or stationId")
	}
	if st.Type != directory.StationRemote || st.HasPassword {
		want, err := s.dir.StationPassword(ctx, st.Name)
		if err != nil {
			return View{}, err
		}
		if want != "" && password != want {
			return View{}, problem.Coded(problem.Invalid, "station.bad.password", "password", "wrong password for station %s", st.Name)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, other := range s.sessions {
		if other.UserID != userID && other.StationID == st.ID {
			name := other.UserID
			if ou, err := s.dir.GetUser(ctx, other.UserID); err == nil {
				name = ou.Name
			}
			return View{}, problem.Coded(problem.Conflict, "station.in.use", "stationName", "station %s is in use by %s; they must log out of it first", st.Name, name)
		}
	}
	cur := s.get(userID)
	if cur.StationID == st.ID {
		return cur.copy(), nil
	}
	if cur.StationID != "" && cur.Busy() {
		return View{}, problem.Coded(problem.Conflict, "agent.busy", "", "you have a call on station %s: end it before moving to station %s", cur.StationName, st.Name)
	}
	err = s.update(ctx, userID, func(se *session) error {
		se.StationID, se.StationName, se.StationSince = st.ID, st.Name, s.clock.Now()
		return nil
	})
	if err != nil {
		if store.IsUniqueViolation(err) {
			return View{}, problem.Coded(problem.Conflict, "station.in.use", "stationName", "station %s is in use by another agent", st.Name)
		}
		return View{}, err
	}
	return s.sessions[userID].copy(), nil
}

// Logout unties a user from the station. An agent On Queue becomes
// Available (no phone, no calls). Refused while a call rings or is up.
func (s *Service) Logout(ctx context.Context, userID string) (View, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.get(userID)
	if cur.StationID == "" {
		return cur.copy(), nil
	}
	if cur.Busy() {
		return View{}, problem.Coded(problem.Conflict, "agent.busy", "", "a call is ringing or in progress on station %s: end it before logging out", cur.StationName)
	}
	var avail directory.PresenceDefinition
	if cur.Presence.DefinitionID == PresenceOnQueue {
		var err error
		if avail, err = s.dir.GetPresence(ctx, PresenceAvailable); err != nil {
			return View{}, err
		}
	}
	err := s.update(ctx, userID, func(se *session) error {
		se.StationID, se.StationName, se.StationSince = "", "", time.Time{}
		se.NotResponding = false
		if avail.ID != "" {
			se.Presence = presenceOf(avail)
			se.Presence.Modified = s.clock.Now()
		}
		return nil
	})
	if err != nil {
		return View{}, err
	}
	return s.sessions[userID].copy(), nil
}

// ForceLogout ends a session whatever the agent is doing (the user was
// deactivated or deleted): the station is freed, the presence is Offline
// and no more offers come. Calls in progress go on until they end.
func (s *Service) ForceLogout(ctx context.Context, userID string) error {
	offline, err := s.dir.GetPresence(ctx, PresenceOffline)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[userID]; !ok {
		return nil
	}
	return s.update(ctx, userID, func(se *session) error {
		se.StationID, se.StationName, se.StationSince = "", "", time.Time{}
		se.NotResponding = false
		if se.Presence.DefinitionID != PresenceOffline {
			se.Presence = presenceOf(offline)
			se.Presence.Modified = s.clock.Now()
		}
		return nil
	})
}

// SetPresence moves the agent into a presence (a system presence by its
// well-known id, or a break state by its id) at once; message, when not nil,
// replaces the presence message. Choosing any presence ends NOT_RESPONDING.
// On Queue needs a station.
func (s *Service) SetPresence(ctx context.Context, userID, definitionID string, message *string) (View, error) {
	u, err := s.dir.GetUser(ctx, userID)
	if err != nil {
		return View{}, err
	}
	if u.State != "active" {
		return View{}, problem.Coded(problem.Conflict, "user.inactive", "", "user %s is %s", u.Name, u.State)
	}
	if message != nil && len(*message) > 500 {
		return View{}, problem.Invalidf("message", "must be at most 500 characters")
	}
	var def directory.PresenceDefinition
	if definitionID != "" {
		if !directory.IsUUID(definitionID) {
			return View{}, problem.Coded(problem.Invalid, "presence.unknown", "presenceDefinition.id", "%q is not a presence definition id", definitionID)
		}
		def, err = s.dir.GetPresence(ctx, definitionID)
		if err != nil {
			return View{}, problem.Coded(problem.Invalid, "presence.unknown", "presenceDefinition.id", "there is no presence definition %s", definitionID)
		}
		if def.Deactivated {
			return View{}, problem.Coded(problem.Invalid, "presence.deactivated", "presenceDefinition.id", "presence %q is deactivated", def.Name())
		}
	}
	return s.setPresence(ctx, userID, def, message)
}

// SetBreak moves the agent into the break state with that number.
func (s *Service) SetBreak(ctx context.Context, userID string, number int, message *string) (View, error) {
	defs, _, err := s.dir.ListPresences(ctx, false, directory.Page{Limit: 1000})
	if err != nil {
		return View{}, err
	}
	var known []string
	for _, d := range defs {
		if d.BreakNumber == number && number > 0 {
			return s.SetPresence(ctx, userID, d.ID, message)
		}
		if d.BreakNumber > 0 {
			known = append(known, d.Name())
		}
	}
	if len(known) == 0 {
		return View{}, problem.Coded(problem.Invalid, "break.unknown", "breakNumber", "there is no break state number %d: no break states are defined", number)
	}
	return View{}, problem.Coded(problem.Invalid, "break.unknown", "breakNumber", "there is no break state number %d (break states: %s)", number, strings.Join(known, ", "))
}

// Pause is the quick way into a break: the system Break presence.
func (s *Service) Pause(ctx context.Context, userID string) (View, error) {
	return s.SetPresence(ctx, userID, PresenceBreak, nil)
}

// Unpause is the quick way back: On Queue.
func (s *Service) Unpause(ctx context.Context, userID string) (View, error) {
	return s.SetPresence(ctx, userID, PresenceOnQueue, nil)
}

func (s *Service) setPresence(ctx context.Context, userID string, def directory.PresenceDefinition, message *string) (View, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.get(userID)
	if def.ID == PresenceOnQueue && cur.StationID == "" {
		return View{}, problem.Coded(problem.Conflict, "station.required", "presenceDefinition.id", "log into a station (device) before going On Queue")
	}
	err := s.update(ctx, userID, func(se *session) error {
		now := s.clock.Now()
		if def.ID != "" {
			msg := se.Presence.Message
			se.Presence = presenceOf(def)
			se.Presence.Message = msg
			se.NotResponding = false
		}
		if message != nil {
			se.Presence.Message = *message
		}
		se.Presence.Modified = now
		return nil
	})
	if err != nil {
		return View{}, err
	}
	return s.sessions[userID].copy(), nil
}

// SetActivity records what the agent is doing for one participant key. A
// key that already ended is ignored (a late report).
func (s *Service) SetActivity(ctx context.Context, userID, key string, a Activity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.get(userID)
	if cur.Activities[key] == a {
		return nil
	}
	for _, k := range cur.ended {
		if k == key {
			return nil
		}
	}
	return s.update(ctx, userID, func(se *session) error {
		se.Activities[key] = a
		return nil
	})
}

// EndActivity records that the agent is done with a participant key.
// Ending a key twice, or one never seen, is harmless.
func (s *Service) EndActivity(ctx context.Context, userID, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.get(userID)
	for _, k := range cur.ended {
		if k == key {
			return nil
		}
	}
	return s.update(ctx, userID, func(se *session) error {
		delete(se.Activities, key)
		se.ended = append(se.ended, key)
		if len(se.ended) > maxTombstones {
			se.ended = se.ended[len(se.ended)-maxTombstones:]
		}
		return nil
	})
}

// MarkNotResponding records a missed offer: the agent gets no more offers
// until choosing a presence again (or logging out).
func (s *Service) MarkNotResponding(ctx context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.get(userID)
	if cur.NotResponding || cur.StationID == "" || cur.Presence.DefinitionID != PresenceOnQueue {
		return nil
	}
	return s.update(ctx, userID, func(se *session) error {
		se.NotResponding = true
		return nil
	})
}

// derive computes the routing status of a session.
func derive(v *View) Status {
	if v.StationID == "" || v.Presence.DefinitionID != PresenceOnQueue {
		return OffQueue
	}
	if v.NotResponding {
		return NotResponding
	}
	acd, other := false, false
	for _, a := range v.Activities {
		switch a {
		case Alerting, Connected, Wrapup:
			acd = true
		case Calling:
			other = true
		}
	}
	switch {
	case acd:
		return Interacting
	case other:
		return Communicating
	}
	return Idle
}

// update applies change to a copy of the user's session, derives the
// status, commits the row and the events of whatever changed, and only then
// installs the copy and tells the listener. Called with s.mu held.
func (s *Service) update(ctx context.Context, userID string, change func(*session) error) error {
	old := s.get(userID)
	next := &session{View: old.copy(), ended: append([]string(nil), old.ended...)}
	if err := change(next); err != nil {
		return err
	}
	now := s.clock.Now()
	if st := derive(&next.View); st != next.Status {
		next.Status, next.StatusStart = st, now
	}
	if next.StatusStart.IsZero() {
		next.StatusStart = now
	}
	stationChanged := next.StationID != old.StationID
	presenceChanged := next.Presence != old.Presence
	statusChanged := next.Status != old.Status || !next.StatusStart.Equal(old.StatusStart)
	_, stored := s.sessions[userID]
	rowChanged := !stored || stationChanged || presenceChanged || statusChanged || next.NotResponding != old.NotResponding
	if rowChanged {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			var station any
			if next.StationID != "" {
				station = next.StationID
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO agent_sessions (user_id, station_id, station_name, station_since, presence_id, presence_message,
				presence_modified, not_responding, routing_status, routing_status_start) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (user_id) DO UPDATE SET station_id = $2, station_name = $3, station_since = $4, presence_id = $5, presence_message = $6,
				presence_modified = $7, not_responding = $8, routing_status = $9, routing_status_start = $10`,
				userID, station, next.StationName, millis(next.StationSince), next.Presence.DefinitionID, next.Presence.Message,
				millis(next.Presence.Modified), next.NotResponding, string(next.Status), millis(next.StatusStart))
			if err != nil {
				return err
			}
			if stationChanged {
				if err := s.events.Add(ctx, tx, "v2.users."+userID+".station", stationEvent(&next.View)); err != nil {
					return err
				}
			}
			if presenceChanged {
				if err := s.events.Add(ctx, tx, "v2.users."+userID+".presence", PresenceEvent(&next.View)); err != nil {
					return err
				}
			}
			if next.Status != old.Status {
				if err := s.events.Add(ctx, tx, "v2.users."+userID+".routingStatus", RoutingStatusEvent(&next.View)); err != nil {
					return err
				}
			}
			if next.Status != old.Status || presenceChanged {
				if err := s.events.Add(ctx, tx, "v2.users."+userID+".activity", ActivityEvent(&next.View)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	s.sessions[userID] = next
	if (statusChanged || stationChanged || !stored) && s.onStatus != nil {
		s.onStatus(next.copy())
	}
	return nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return store.Millis(t)
}

func presenceOf(d directory.PresenceDefinition) Presence {
	return Presence{DefinitionID: d.ID, SystemPresence: d.SystemPresence, Label: d.Name(), BreakNumber: d.BreakNumber}
}
