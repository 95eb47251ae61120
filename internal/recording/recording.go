// Package recording indexes call recordings. The switch writes each
// recording as a stereo WAV (8 kHz PCM16; left: what the party said,
// right: what it heard) into the recordings directory and names the file
// when it stops; this package records a row for it (table recordings,
// migration 00014) with its conversation, participant, times and size, lists
// a conversation's recordings and opens one for download. Who may list or
// download is the API's business (it asks the conversation first).
package recording

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Recording is one recorded stretch of a participant's leg.
type Recording struct {
	ID             string
	ConversationID string
	ParticipantID  string
	UserID         string // the participant's user ("" for a customer)
	File           string // name inside the recordings directory
	Start, End     time.Time
	Duration       time.Duration
	Size           int64 // bytes of the WAV file
}

// Service keeps the index of recordings in dir.
type Service struct {
	db    *store.DB
	dir   string
	clock clock.Clock
}

// New returns the recordings index for files in dir.
func New(db *store.DB, dir string, c clock.Clock) *Service {
	return &Service{db: db, dir: dir, clock: c}
}

// Dir is the recordings directory.
func (s *Service) Dir() string { return s.dir }

// Add indexes a finished recording: file is its name in the directory, end
// when it stopped. The start and duration come from the audio itself.
func (s *Service) Add(ctx context.Context, conversationID, participantID, userID, file string, end time.Time) (Recording, error) {
	path, err := s.path(file)
	if err != nil {
		return Recording{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Recording{}, fmt.Errorf("recording %s: %w", file, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Recording{}, err
	}
	d, err := Duration(f, st.Size())
	if err != nil {
		return Recording{}, fmt.Errorf("recording %s: %w", file, err)
	}
	r := Recording{ID: uuid.NewString(), ConversationID: conversationID, ParticipantID: participantID, UserID: userID, File: file,
		Start: end.Add(-d), End: end, Duration: d, Size: st.Size()}
	_, err = s.db.ExecContext(ctx, `INSERT INTO recordings (id, conversation_id, participant_id, user_id, file, start_time, end_time, duration_ms, size_bytes, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r.ID, r.ConversationID, r.ParticipantID, r.UserID, r.File,
		store.Millis(r.Start), store.Millis(r.End), d.Milliseconds(), r.Size, store.Millis(s.clock.Now()))
	if store.IsUniqueViolation(err) {
		return Recording{}, problem.Duplicatef("file", "recording %s is indexed already", file)
	}
	if err != nil {
		return Recording{}, err
	}
	r.Start, r.End = store.Time(store.Millis(r.Start)), store.Time(store.Millis(r.End))
	return r, nil
}

// path is file inside the directory; anything but a plain file name is refused.
func (s *Service) path(file string) (string, error) {
	if file == "" || file != filepath.Base(file) || strings.HasPrefix(file, ".") || strings.ContainsAny(file, `/\`) {
		return "", problem.Invalidf("file", "%q is not a recording file name", file)
	}
	return filepath.Join(s.dir, file), nil
}

const columns = `id, conversation_id, participant_id, user_id, file, start_time, end_time, duration_ms, size_bytes`

func scan(row interface{ Scan(...any) error }) (Recording, error) {
	var r Recording
	var start, end, ms int64
	if err := row.Scan(&r.ID, &r.ConversationID, &r.ParticipantID, &r.UserID, &r.File, &start, &end, &ms, &r.Size); err != nil {
		return Recording{}, err
	}
	r.Start, r.End, r.Duration = store.Time(start), store.Time(end), time.Duration(ms)*time.Millisecond
	return r, nil
}

// List returns a conversation's recordings, oldest first.
func (s *Service) List(ctx context.Context, conversationID string) ([]Recording, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM recordings WHERE conversation_id = $1 ORDER BY start_time, id`, conversationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Recording{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Recent returns a page of recordings across conversations, newest first
// (by start, then id so pages are stable), and how many there are in all.
func (s *Service) Recent(ctx context.Context, limit, offset int) ([]Recording, int, error) {
	if limit <= 0 || offset < 0 {
		return nil, 0, problem.Invalidf("pageSize", "limit %d and offset %d: want a positive limit and a non-negative offset", limit, offset)
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM recordings`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM recordings ORDER BY start_time DESC, id DESC LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Recording{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// Get returns one recording of a conversation.
func (s *Service) Get(ctx context.Context, conversationID, id string) (Recording, error) {
	r, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM recordings WHERE id = $1 AND conversation_id = $2`, id, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return Recording{}, problem.NotFoundf("recording %s of conversation %s not found", id, conversationID)
	}
	return r, err
}

// Open opens a recording's audio. A file removed from the directory is NotFound.
func (s *Service) Open(r Recording) (*os.File, error) {
	path, err := s.path(r.File)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, problem.NotFoundf("the audio of recording %s is no longer in the recordings directory", r.ID)
	}
	return f, err
}

// Duration reads a WAV header (RIFF, PCM) and returns how long its audio
// lasts; size is the file's size, so a file whose header sizes were never
// patched (the writer died) still gets the length of what it holds.
func Duration(r io.Reader, size int64) (time.Duration, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WAVE" {
		return 0, errors.New("not a WAV file")
	}
	off := int64(12)
	var bytesPerSec uint32
	for i := 0; i < 64; i++ {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return 0, errors.New("WAV file without a data chunk")
		}
		off += 8
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch string(ch[:4]) {
		case "fmt ":
			if n < 16 || n > 64 {
				return 0, errors.New("WAV fmt chunk of a strange size")
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return 0, errors.New("WAV fmt chunk cut short")
			}
			if binary.LittleEndian.Uint16(b) != 1 {
				return 0, errors.New("WAV audio is not PCM")
			}
			bytesPerSec = binary.LittleEndian.Uint32(b[8:])
			off += n + n%2
			if n%2 == 1 {
				io.CopyN(io.Discard, r, 1)
			}
		case "data":
			if bytesPerSec == 0 {
				return 0, errors.New("WAV data before its fmt chunk")
			}
			data := size - off
			if data < 0 {
				data = 0
			}
			return time.Duration(data) * time.Second / time.Duration(bytesPerSec), nil
		default:
			if _, err := io.CopyN(io.Discard, r, n+n%2); err != nil {
				return 0, errors.New("WAV chunk cut short")
			}
			off += n + n%2
		}
	}
	return 0, errors.New("WAV file with too many chunks")
}
