// Package prompt keeps the audio the switch plays by name: the built-in
// prompts (telephony/audio: moh, queue-wait, abandon, echo) and operators'
// own prompts, stored in the database (table prompts, migration 00016) as
// the WAV they uploaded — 8 kHz mono 16-bit PCM, at most MaxAudioBytes. An
// operator's prompt named like a built-in one replaces it (their own music
// on hold is a prompt named "moh").
//
// A prompt is created with a name and description, then given its audio;
// until then it is not playable and not a known name. Whoever plays prompts
// (the switches) learns of changes through OnChange and reads the audio
// with Live.
package prompt

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// Limits.
const (
	MaxAudioBytes      = 10 << 20  // an uploaded WAV: 10 MB is about 11 minutes at 8 kHz
	MaxTotalAudioBytes = 100 << 20 // every prompt's audio: the SIP switch keeps it all in memory
	MaxDescription     = 1000
	MaxPrompts         = 1000
	BuiltInPrefix      = "builtin-" // ids of built-in prompts: "builtin-moh"
	DefaultAbandon     = "abandon"
	DefaultQueueWait   = "queue-wait"
	DefaultMusicOnHold = "moh"
)

// nameRE is what a prompt name looks like: it travels in URLs, settings
// and switch requests, so plain lower-case words with dashes.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Prompt is a built-in or operator prompt.
type Prompt struct {
	ID          string // a UUID; a built-in prompt's is BuiltInPrefix + name
	Name        string
	Description string
	BuiltIn     bool
	// Overridden: a built-in prompt replaced by an operator prompt of the
	// same name (which is what plays).
	Overridden bool
	HasAudio   bool
	Duration   time.Duration
	Size       int64 // bytes of the WAV (built-in: as served)
	Created    time.Time
	Modified   time.Time
}

// Service keeps the operators' prompts.
type Service struct {
	db    *store.DB
	clock clock.Clock

	mu       sync.Mutex
	onChange []func()
}

// New returns the prompt service.
func New(db *store.DB, c clock.Clock) *Service {
	return &Service{db: db, clock: c}
}

// OnChange registers f, called (in its own goroutine) after every change
// to a prompt's existence or audio.
func (s *Service) OnChange(f func()) {
	s.mu.Lock()
	s.onChange = append(s.onChange, f)
	s.mu.Unlock()
}

func (s *Service) changed() {
	s.mu.Lock()
	fs := slices.Clone(s.onChange)
	s.mu.Unlock()
	for _, f := range fs {
		go f()
	}
}

// CheckName reports a malformed prompt name as a problem on field.
func CheckName(field, name string) error {
	if !nameRE.MatchString(name) {
		return problem.Invalidf(field, badName, name)
	}
	return nil
}

const badName = "%q is not a prompt name: 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit"

// builtIns returns the built-in prompts (decoded once by audio.Prompt).
func builtIns() []Prompt {
	var out []Prompt
	for _, n := range audio.PromptNames() {
		pcm, err := audio.Prompt(n)
		if err != nil {
			continue // embedded files are checked by audio's tests
		}
		out = append(out, Prompt{ID: BuiltInPrefix + n, Name: n, BuiltIn: true, HasAudio: true,
			Duration: samplesDuration(int64(len(pcm))), Size: wavSize(len(pcm))})
	}
	return out
}

func samplesDuration(n int64) time.Duration { return time.Duration(n) * time.Second / audio.SampleRate }

func wavSize(samples int) int64 { return 44 + 2*int64(samples) }

const columns = `id, name, description, samples, audio IS NOT NULL, COALESCE(LENGTH(audio), 0), created_at, modified_at`

func scan(row interface{ Scan(...any) error }) (Prompt, error) {
	var p Prompt
	var samples, created, modified int64
	err := row.Scan(&p.ID, &p.Name, &p.Description, &samples, &p.HasAudio, &p.Size, &created, &modified)
	p.Duration, p.Created, p.Modified = samplesDuration(samples), store.Time(created), store.Time(modified)
	return p, err
}

// List returns the operators' prompts and the built-in ones, by name (an
// operator prompt before the built-in one it overrides).
func (s *Service) List(ctx context.Context) ([]Prompt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM prompts ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Prompt
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, b := range builtIns() {
		b.Overridden = slices.ContainsFunc(out, func(p Prompt) bool { return !p.BuiltIn && p.Name == b.Name && p.HasAudio })
		out = append(out, b)
	}
	slices.SortStableFunc(out, func(a, b Prompt) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if a.BuiltIn == b.BuiltIn {
			return 0
		}
		if a.BuiltIn {
			return 1
		}
		return -1
	})
	return out, nil
}

// Get returns a prompt by id (a built-in one's too).
func (s *Service) Get(ctx context.Context, id string) (Prompt, error) {
	if name, ok := strings.CutPrefix(id, BuiltInPrefix); ok {
		for _, b := range builtIns() {
			if b.Name == name {
				var n int
				if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM prompts WHERE name = $1 AND audio IS NOT NULL`, name).Scan(&n); err != nil {
					return Prompt{}, err
				}
				b.Overridden = n > 0
				return b, nil
			}
		}
		return Prompt{}, problem.NotFoundf("prompt %s not found", id)
	}
	p, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM prompts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Prompt{}, problem.NotFoundf("prompt %s not found", id)
	}
	return p, err
}

// Create adds an operator prompt, without audio yet (SetAudio).
func (s *Service) Create(ctx context.Context, name, description string) (Prompt, error) {
	var c problem.Collector
	name = strings.TrimSpace(name)
	if !nameRE.MatchString(name) {
		c.Add("name", badName, name)
	}
	if len(description) > MaxDescription {
		c.Add("description", "must be at most %d characters, got %d", MaxDescription, len(description))
	}
	if err := c.Err(); err != nil {
		return Prompt{}, err
	}
	id := uuid.NewString()
	now := store.Millis(s.clock.Now())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM prompts`).Scan(&n); err != nil {
			return err
		}
		if n >= MaxPrompts {
			return problem.Conflictf("", "at most %d prompts: delete some first", MaxPrompts)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO prompts (id, name, description, created_at, modified_at) VALUES ($1, $2, $3, $4, $4)`,
			id, name, description, now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a prompt named %q already exists", name)
		}
		return err
	})
	if err != nil {
		return Prompt{}, err
	}
	return s.Get(ctx, id)
}

// Decode checks an uploaded WAV and returns its samples: a RIFF/WAVE file
// of 8 kHz mono 16-bit PCM with some audio, at most MaxAudioBytes. The
// error says what is wrong (and how to convert).
func Decode(wav []byte) ([]int16, error) {
	const convert = " (convert with: sox in.wav -r 8000 -c 1 -b 16 out.wav)"
	if len(wav) == 0 {
		return nil, problem.Invalidf("body", "no audio: upload the WAV file as the request body (Content-Type: audio/wav)")
	}
	if len(wav) > MaxAudioBytes {
		return nil, problem.Invalidf("body", "the WAV file is %d bytes, more than the %d allowed", len(wav), MaxAudioBytes)
	}
	pcm, err := audio.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		return nil, problem.Invalidf("body", "not a usable prompt: %s; prompts are 8 kHz mono 16-bit PCM WAV files%s",
			strings.TrimPrefix(err.Error(), "audio: "), convert)
	}
	if len(pcm) == 0 {
		return nil, problem.Invalidf("body", "the WAV file has no samples")
	}
	return pcm, nil
}

// SetAudio stores a prompt's audio (see Decode), replacing any earlier.
func (s *Service) SetAudio(ctx context.Context, id string, wav []byte) (Prompt, error) {
	if strings.HasPrefix(id, BuiltInPrefix) {
		return Prompt{}, problem.Coded(problem.Conflict, "prompt.builtin", "", "built-in prompts are read-only: create a prompt with the same name to replace one")
	}
	if _, err := s.Get(ctx, id); err != nil {
		return Prompt{}, err
	}
	pcm, err := Decode(wav)
	if err != nil {
		return Prompt{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var others int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(LENGTH(audio)), 0) FROM prompts WHERE id <> $1`, id).Scan(&others); err != nil {
			return err
		}
		if others+int64(len(wav)) > MaxTotalAudioBytes {
			return problem.Coded(problem.Conflict, "prompt.space", "", "the prompts' audio would take %d MB, more than the %d MB allowed: delete some prompts first",
				(others+int64(len(wav)))>>20, MaxTotalAudioBytes>>20)
		}
		res, err := tx.ExecContext(ctx, `UPDATE prompts SET audio = $1, samples = $2, modified_at = $3 WHERE id = $4`,
			wav, len(pcm), store.Millis(s.clock.Now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("prompt %s not found", id)
		}
		return nil
	})
	if err != nil {
		return Prompt{}, err
	}
	s.changed()
	return s.Get(ctx, id)
}

// Audio returns a prompt's WAV file (a built-in one's too).
func (s *Service) Audio(ctx context.Context, id string) (Prompt, []byte, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return Prompt{}, nil, err
	}
	if p.BuiltIn {
		pcm, err := audio.Prompt(p.Name)
		if err != nil {
			return Prompt{}, nil, err
		}
		var b bytes.Buffer
		if err := audio.WriteWAV(&b, pcm); err != nil {
			return Prompt{}, nil, err
		}
		return p, b.Bytes(), nil
	}
	var wav []byte
	if err := s.db.QueryRowContext(ctx, `SELECT audio FROM prompts WHERE id = $1`, id).Scan(&wav); err != nil {
		return Prompt{}, nil, err
	}
	if wav == nil {
		return Prompt{}, nil, problem.Coded(problem.NotFound, "prompt.no.audio", "", "prompt %s has no audio yet: upload it with PUT .../audio", p.Name)
	}
	return p, wav, nil
}

// Delete removes an operator prompt (a built-in one it replaced plays
// again).
func (s *Service) Delete(ctx context.Context, id string) error {
	if strings.HasPrefix(id, BuiltInPrefix) {
		return problem.Coded(problem.Conflict, "prompt.builtin", "", "built-in prompts cannot be deleted")
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := s.checkUnused(ctx, p.Name); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM prompts WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.NotFoundf("prompt %s not found", id)
	}
	s.changed()
	return nil
}

// checkUnused refuses to delete a prompt that settings name — a queue's
// waiting audio, a campaign's abandon message — unless a built-in prompt
// of the same name would play instead.
func (s *Service) checkUnused(ctx context.Context, name string) error {
	if slices.Contains(audio.PromptNames(), name) {
		return nil
	}
	var users []string
	for _, q := range []struct{ what, sql string }{
		{"queue", `SELECT name FROM queues WHERE wait_prompt = $1 OR hold_music = $1 ORDER BY name`},
		{"campaign", `SELECT name FROM campaigns WHERE abandon_prompt = $1 ORDER BY name`},
	} {
		rows, err := s.db.QueryContext(ctx, q.sql, name)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			users = append(users, q.what+" "+strconv.Quote(n))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(users) > 0 {
		return problem.Coded(problem.Conflict, "prompt.in.use", "", "prompt %q is used by %s: change them first", name, strings.Join(users, ", "))
	}
	return nil
}

// Names returns every playable prompt name — built-in, and operators'
// prompts that have audio — with its duration.
func (s *Service) Names(ctx context.Context) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, b := range builtIns() {
		out[b.Name] = b.Duration
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, samples FROM prompts WHERE audio IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = samplesDuration(n)
	}
	return out, rows.Err()
}

// Check reports, as a problem on field, a name that is no playable prompt.
func (s *Service) Check(ctx context.Context, field, name string) error {
	if err := CheckName(field, name); err != nil {
		return err
	}
	names, err := s.Names(ctx)
	if err != nil {
		return err
	}
	if _, ok := names[name]; !ok {
		known := make([]string, 0, len(names))
		for n := range names {
			known = append(known, n)
		}
		slices.Sort(known)
		if len(known) > 20 {
			known = append(known[:20], "…")
		}
		return problem.Invalidf(field, "there is no prompt %q with audio (known: %s)", name, strings.Join(known, ", "))
	}
	return nil
}

// Live returns the samples of every operator prompt with audio, by name:
// what the SIP switch plays before its built-in prompts.
func (s *Service) Live(ctx context.Context) (map[string][]int16, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, audio FROM prompts WHERE audio IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]int16{}
	for rows.Next() {
		var name string
		var wav []byte
		if err := rows.Scan(&name, &wav); err != nil {
			return nil, err
		}
		pcm, err := audio.ReadWAV(bytes.NewReader(wav))
		if err != nil {
			return nil, fmt.Errorf("prompt %s: stored audio: %w", name, err)
		}
		out[name] = pcm
	}
	return out, rows.Err()
}
