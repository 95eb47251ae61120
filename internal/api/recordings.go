package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/recording"
)

// Call recordings, shaped like the platform's Recording where the two
// share fields. Who may see them: supervisors and admins any
// conversation's; an agent only those of conversations they took part in
// (the conversation's own rule: 403 otherwise). The listing across
// conversations (/api/v2/recordings) is for supervisors and admins only.
// docs/telephony.md.

// The platform's paths are /api/v2/conversations/{conversationId}/recordings...,
// which net/http's ServeMux cannot hold next to
// /api/v2/conversations/calls/{conversationId} (neither pattern is more
// specific than the other). The operations are registered under
// /api/v2/conversations/calls/{conversationId}/recordings... and
// recordingAlias rewrites the platform's form to it before routing, so both
// work.
func recordingAlias(r *http.Request) *http.Request {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v2/conversations/")
	if !ok {
		return r
	}
	id, tail, ok := strings.Cut(rest, "/")
	if !ok || id == "calls" || (tail != "recordings" && !strings.HasPrefix(tail, "recordings/")) {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/api/v2/conversations/calls/" + rest
	r2.URL.RawPath = ""
	return r2
}

// RecordingMediaURI is one downloadable form of a recording.
type RecordingMediaURI struct {
	MediaURI string `json:"mediaUri"`
}

// Recording is a recorded stretch of a participant's leg.
type Recording struct {
	ID             string                       `json:"id"`
	ConversationID string                       `json:"conversationId"`
	ParticipantID  string                       `json:"participantId"`
	UserID         string                       `json:"userId,omitempty"`
	StartTime      Time                         `json:"startTime"`
	EndTime        Time                         `json:"endTime"`
	DurationMs     int64                        `json:"durationMs"`
	Media          string                       `json:"media" doc:"Always audio."`
	FileState      string                       `json:"fileState" doc:"AVAILABLE."`
	ContentType    string                       `json:"contentType" doc:"audio/wav: 8 kHz 16-bit stereo; left = what the party said, right = what it heard."`
	SizeBytes      int64                        `json:"sizeBytes"`
	MediaURIs      map[string]RecordingMediaURI `json:"mediaUris" doc:"S: the stereo WAV (download with the same bearer token)."`
	SelfURI        string                       `json:"selfUri"`
}

func recordingOut(r recording.Recording) Recording {
	self := "/api/v2/conversations/" + r.ConversationID + "/recordings/" + r.ID // the platform's path (see recordingAlias)
	return Recording{ID: r.ID, ConversationID: r.ConversationID, ParticipantID: r.ParticipantID, UserID: r.UserID,
		StartTime: Time(r.Start), EndTime: Time(r.End), DurationMs: r.Duration.Milliseconds(), Media: "audio", FileState: "AVAILABLE",
		ContentType: "audio/wav", SizeBytes: r.Size, MediaURIs: map[string]RecordingMediaURI{"S": {MediaURI: self + "/media"}}, SelfURI: self}
}

// RecordingPath is {conversationId} and {recordingId}.
type RecordingPath struct {
	ConversationID string `path:"conversationId"`
	RecordingID    string `path:"recordingId"`
}

// mayHear checks that the caller may see the conversation's recordings.
func (s *Server) mayHear(ctx context.Context, conversationID string) error {
	if err := needUUID("conversationId", conversationID); err != nil {
		return err
	}
	_, err := s.Conversations.Get(ctx, actor(ctx), conversationID)
	return err
}

func (s *Server) registerRecordings(api huma.API) {
	if s.Recordings == nil || s.Conversations == nil {
		return
	}
	const tag = "Recording"
	huma.Register(api, op("getRecordings", http.MethodGet, "/api/v2/recordings",
		"The latest recordings across conversations, newest first", tag, auth.Supervisor),
		func(ctx context.Context, in *PageParams) (*Body[*Listing[Recording]], error) {
			pg, size, num, err := in.page(100)
			if err != nil {
				return nil, err
			}
			rs, total, err := s.Recordings.Recent(ctx, pg.Limit, pg.Offset)
			if err != nil {
				return nil, err
			}
			out := make([]Recording, len(rs))
			for i, r := range rs {
				out[i] = recordingOut(r)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("getConversationRecordings", http.MethodGet, "/api/v2/conversations/calls/{conversationId}/recordings",
		"A conversation's recordings", tag, auth.Agent),
		func(ctx context.Context, in *ConversationIDPath) (*Body[[]Recording], error) {
			if err := s.mayHear(ctx, in.ConversationID); err != nil {
				return nil, err
			}
			rs, err := s.Recordings.List(ctx, in.ConversationID)
			if err != nil {
				return nil, err
			}
			out := make([]Recording, len(rs))
			for i, r := range rs {
				out[i] = recordingOut(r)
			}
			return body(out), nil
		})
	huma.Register(api, op("getConversationRecording", http.MethodGet, "/api/v2/conversations/calls/{conversationId}/recordings/{recordingId}",
		"A recording's metadata", tag, auth.Agent),
		func(ctx context.Context, in *RecordingPath) (*Body[Recording], error) {
			if err := s.mayHear(ctx, in.ConversationID); err != nil {
				return nil, err
			}
			if err := needUUID("recordingId", in.RecordingID); err != nil {
				return nil, err
			}
			r, err := s.Recordings.Get(ctx, in.ConversationID, in.RecordingID)
			if err != nil {
				return nil, err
			}
			return body(recordingOut(r)), nil
		})
	media := op("getConversationRecordingMedia", http.MethodGet, "/api/v2/conversations/calls/{conversationId}/recordings/{recordingId}/media",
		"Download a recording's audio (audio/wav; Range requests work)", tag, auth.Agent)
	media.Responses = map[string]*huma.Response{"200": {Description: "The stereo WAV", Content: map[string]*huma.MediaType{"audio/wav": {}}}}
	huma.Register(api, media,
		func(ctx context.Context, in *RecordingPath) (*huma.StreamResponse, error) {
			if err := s.mayHear(ctx, in.ConversationID); err != nil {
				return nil, err
			}
			if err := needUUID("recordingId", in.RecordingID); err != nil {
				return nil, err
			}
			r, err := s.Recordings.Get(ctx, in.ConversationID, in.RecordingID)
			if err != nil {
				return nil, err
			}
			f, err := s.Recordings.Open(r)
			if err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				defer f.Close()
				req, w := humago.Unwrap(hctx)
				w.Header().Set("Content-Type", "audio/wav")
				w.Header().Set("Content-Disposition", `attachment; filename="recording-`+r.ID+`.wav"`)
				w.Header().Set("Cache-Control", "private, no-store")
				http.ServeContent(w, req, "", r.End, f)
			}}, nil
		})
}
