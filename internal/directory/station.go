package directory

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Station types: a SIP phone that registers, the browser phone in the
// softphone page, or a number the platform calls (remote agent).
const (
	StationSIP    = "sip"
	StationWebRTC = "webrtc"
	StationRemote = "remote"
)

// Station is a device an agent logs in with. Its SIP password is stored
// encrypted under the master key and never returned by the API.
type Station struct {
	ID           string
	Name         string // the extension, e.g. "1001"
	Type         string
	RemoteNumber string
	HasPassword  bool
	Created      time.Time
	Modified     time.Time
}

// StationInput creates or replaces a station. An empty Password on update
// keeps the current one.
type StationInput struct {
	Name, Type, Password, RemoteNumber string
}

func (in *StationInput) validate(creating bool) error {
	var c problem.Collector
	in.Name = strings.TrimSpace(in.Name)
	checkText(&c, "name", in.Name, true)
	for _, r := range in.Name {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' || r == '.') {
			c.Add("name", "may only contain letters, digits, '-', '_' and '.' (it is the SIP user name)")
			break
		}
	}
	if in.Type == "" {
		in.Type = StationSIP
	}
	switch in.Type {
	case StationSIP, StationWebRTC:
		if creating && in.Type == StationSIP && in.Password == "" {
			c.Add("password", "a SIP station needs a password for digest authentication")
		}
	case StationRemote:
		if in.RemoteNumber == "" {
			c.Add("remoteNumber", "a remote station needs the number to call")
		}
	default:
		c.Add("type", "must be sip, webrtc or remote, got %q", in.Type)
	}
	if len(in.Password) > 128 {
		c.Add("password", "must be at most 128 characters")
	}
	checkText(&c, "remoteNumber", in.RemoteNumber, false)
	return c.Err()
}

// CreateStation adds a station.
func (s *Service) CreateStation(ctx context.Context, in StationInput) (Station, error) {
	if err := in.validate(true); err != nil {
		return Station{}, err
	}
	sealed, err := s.box.Seal(in.Password)
	if err != nil {
		return Station{}, err
	}
	id := uuid.NewString()
	now := store.Millis(s.clock.Now())
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO stations (id, name, type, secret, remote_number, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
			id, in.Name, in.Type, sealed, in.RemoteNumber, now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a station named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.stations."+id, Change{Action: "created", Entity: "station", ID: id, Name: in.Name})
	})
	if err != nil {
		return Station{}, err
	}
	return s.GetStation(ctx, id)
}

// UpdateStation replaces a station's settings.
func (s *Service) UpdateStation(ctx context.Context, id string, in StationInput) (Station, error) {
	if _, err := s.GetStation(ctx, id); err != nil {
		return Station{}, err
	}
	if err := in.validate(false); err != nil {
		return Station{}, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		q, args := `UPDATE stations SET name = $1, type = $2, remote_number = $3, modified_at = $4 WHERE id = $5`,
			[]any{in.Name, in.Type, in.RemoteNumber, store.Millis(s.clock.Now()), id}
		if in.Password != "" {
			sealed, err := s.box.Seal(in.Password)
			if err != nil {
				return err
			}
			q = `UPDATE stations SET name = $1, type = $2, remote_number = $3, modified_at = $4, secret = $6 WHERE id = $5`
			args = append(args, sealed)
		}
		_, err := tx.ExecContext(ctx, q, args...)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a station named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.stations."+id, Change{Action: "updated", Entity: "station", ID: id, Name: in.Name})
	})
	if err != nil {
		return Station{}, err
	}
	return s.GetStation(ctx, id)
}

// DeleteStation removes a station.
func (s *Service) DeleteStation(ctx context.Context, id string) error {
	st, err := s.GetStation(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM stations WHERE id = $1`, id); err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.stations."+id, Change{Action: "deleted", Entity: "station", ID: id, Name: st.Name})
	})
}

const stationColumns = `id, name, type, remote_number, secret <> '', created_at, modified_at`

func scanStation(row interface{ Scan(...any) error }) (Station, error) {
	var st Station
	var created, modified int64
	err := row.Scan(&st.ID, &st.Name, &st.Type, &st.RemoteNumber, &st.HasPassword, &created, &modified)
	st.Created, st.Modified = store.Time(created), store.Time(modified)
	return st, err
}

// GetStation returns a station by id.
func (s *Service) GetStation(ctx context.Context, id string) (Station, error) {
	st, err := scanStation(s.db.QueryRowContext(ctx, `SELECT `+stationColumns+` FROM stations WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Station{}, problem.NotFoundf("station %s not found", id)
	}
	return st, err
}

// GetStationByName returns a station by its name (extension).
func (s *Service) GetStationByName(ctx context.Context, name string) (Station, error) {
	st, err := scanStation(s.db.QueryRowContext(ctx, `SELECT `+stationColumns+` FROM stations WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Station{}, problem.NotFoundf("station %q not found", name)
	}
	return st, err
}

// StationPassword returns the decrypted SIP password of a station, for the
// registrar's digest check. It is never exposed through the API.
func (s *Service) StationPassword(ctx context.Context, name string) (string, error) {
	var sealed string
	err := s.db.QueryRowContext(ctx, `SELECT secret FROM stations WHERE name = $1`, name).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", problem.NotFoundf("station %q not found", name)
	}
	if err != nil {
		return "", err
	}
	return s.box.Open(sealed)
}

// ListStations returns a page of stations sorted by name, and the total.
func (s *Service) ListStations(ctx context.Context, name string, p Page) ([]Station, int, error) {
	cond, args := "", []any{}
	if name != "" {
		cond, args = ` WHERE name LIKE $1 ESCAPE '\'`, append(args, likePattern(name))
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM stations`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT `+stationColumns+` FROM stations`+cond+` ORDER BY name LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Station
	for rows.Next() {
		st, err := scanStation(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, st)
	}
	return out, total, rows.Err()
}
