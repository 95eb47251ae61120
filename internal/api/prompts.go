package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/prompt"
)

// Prompts (docs/telephony.md "Prompts and music"): audio the switch plays
// by name — queue waiting messages, music on hold, abandon messages. Shaped
// like the platform's Architect prompts where the two share fields; the
// audio is one WAV per prompt (8 kHz mono 16-bit PCM) instead of one
// resource per language. Built-in prompts are listed read-only (builtIn,
// ids "builtin-NAME"); an operator's prompt of the same name replaces one.
// Supervisors and admins read, admins change.

const (
	promptsTag  = "Prompts"
	promptsPath = "/api/v2/architect/prompts"
)

// MaxPromptBytes is the body limit of an audio upload: a WAV of
// prompt.MaxAudioBytes, and one byte more so that a larger file gets the
// prompt's own 400 rather than a bare 413.
const MaxPromptBytes = prompt.MaxAudioBytes + 1

// isPromptUpload tells the outer body limit (bodyLimit) which requests may
// carry MaxPromptBytes.
func isPromptUpload(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, promptsPath+"/") && strings.HasSuffix(r.URL.Path, "/audio")
}

// Prompt is a built-in or operator prompt.
type Prompt struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	BuiltIn     bool   `json:"builtIn" doc:"Centralita extension: shipped with Centralita, read-only."`
	Overridden  bool   `json:"overridden,omitempty" doc:"Centralita extension: a built-in prompt replaced by an operator prompt of the same name."`
	HasAudio    bool   `json:"hasAudio" doc:"Centralita extension: audio uploaded; only then the prompt plays."`
	DurationMs  int64  `json:"durationMs"`
	SizeBytes   int64  `json:"sizeBytes"`
	MediaURI    string `json:"mediaUri,omitempty" doc:"The WAV (download with the same bearer token)."`
	// Read-only fields a client may echo back.
	DateCreated  *Time  `json:"dateCreated,omitempty"`
	DateModified *Time  `json:"dateModified,omitempty"`
	SelfURI      string `json:"selfUri"`
}

func promptOut(p prompt.Prompt) Prompt {
	self := promptsPath + "/" + p.ID
	out := Prompt{ID: p.ID, Name: p.Name, Description: p.Description, BuiltIn: p.BuiltIn, Overridden: p.Overridden, HasAudio: p.HasAudio,
		DurationMs: p.Duration.Milliseconds(), SizeBytes: p.Size, SelfURI: self}
	if p.HasAudio {
		out.MediaURI = self + "/audio"
	}
	if !p.BuiltIn {
		c, m := Time(p.Created), Time(p.Modified)
		out.DateCreated, out.DateModified = &c, &m
	}
	return out
}

// PromptInput creates a prompt; its audio follows with PUT .../audio.
type PromptInput struct {
	Name        string `json:"name" minLength:"1" maxLength:"64" doc:"^[a-z0-9][a-z0-9-]{0,63}$: what settings name (a queue's waitPrompt, a campaign's abandonPrompt). moh, queue-wait, abandon or echo replace the built-in prompt."`
	Description string `json:"description,omitempty" maxLength:"1000"`
	ID          string `json:"id,omitempty" readOnly:"true"`
	SelfURI     string `json:"selfUri,omitempty" readOnly:"true"`
}

// PromptIDPath is the {promptId} path parameter.
type PromptIDPath struct {
	PromptID string `path:"promptId" doc:"A prompt's id: a UUID, or builtin-NAME for a built-in one."`
}

func (p PromptIDPath) check() error {
	if strings.HasPrefix(p.PromptID, prompt.BuiltInPrefix) {
		return nil
	}
	return needUUID("promptId", p.PromptID)
}

func (s *Server) registerPrompts(api huma.API) {
	if s.Prompts == nil {
		return
	}
	huma.Register(api, op("getArchitectPrompts", http.MethodGet, promptsPath, "List prompts (built-in ones too)", promptsTag, auth.Supervisor),
		func(ctx context.Context, in *struct{}) (*Body[*Listing[Prompt]], error) {
			ps, err := s.Prompts.List(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]Prompt, len(ps))
			for i, p := range ps {
				out[i] = promptOut(p)
			}
			return body(listing(ctx, out, len(out), max(len(out), 1), 1)), nil
		})
	huma.Register(api, op("getArchitectPrompt", http.MethodGet, promptsPath+"/{promptId}", "Get a prompt", promptsTag, auth.Supervisor),
		func(ctx context.Context, in *PromptIDPath) (*Body[Prompt], error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			p, err := s.Prompts.Get(ctx, in.PromptID)
			if err != nil {
				return nil, err
			}
			return body(promptOut(p)), nil
		})
	huma.Register(api, op("postArchitectPrompts", http.MethodPost, promptsPath, "Create a prompt (then upload its audio)", promptsTag, auth.Admin),
		func(ctx context.Context, in *struct{ Body PromptInput }) (*Body[Prompt], error) {
			p, err := s.Prompts.Create(ctx, in.Body.Name, in.Body.Description)
			if err != nil {
				return nil, err
			}
			return body(promptOut(p)), nil
		})
	huma.Register(api, withStatus(op("deleteArchitectPrompt", http.MethodDelete, promptsPath+"/{promptId}", "Delete a prompt", promptsTag, auth.Admin), 204),
		func(ctx context.Context, in *PromptIDPath) (*struct{}, error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			return nil, s.Prompts.Delete(ctx, in.PromptID)
		})
	put := op("putArchitectPromptAudio", http.MethodPut, promptsPath+"/{promptId}/audio",
		"Upload a prompt's audio: a WAV file, 8 kHz mono 16-bit PCM, at most 10 MB", promptsTag, auth.Admin)
	put.MaxBodyBytes = MaxPromptBytes
	huma.Register(api, put,
		func(ctx context.Context, in *struct {
			PromptIDPath
			RawBody []byte `contentType:"audio/wav"`
		}) (*Body[Prompt], error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			p, err := s.Prompts.SetAudio(ctx, in.PromptID, in.RawBody)
			if err != nil {
				return nil, err
			}
			return body(promptOut(p)), nil
		})
	get := op("getArchitectPromptAudio", http.MethodGet, promptsPath+"/{promptId}/audio", "Download a prompt's audio (audio/wav)", promptsTag, auth.Supervisor)
	get.Responses = map[string]*huma.Response{"200": {Description: "The WAV file", Content: map[string]*huma.MediaType{"audio/wav": {}}}}
	huma.Register(api, get,
		func(ctx context.Context, in *PromptIDPath) (*huma.StreamResponse, error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			p, wav, err := s.Prompts.Audio(ctx, in.PromptID)
			if err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				req, w := humago.Unwrap(hctx)
				w.Header().Set("Content-Type", "audio/wav")
				w.Header().Set("Content-Disposition", `inline; filename="`+p.Name+`.wav"`)
				w.Header().Set("Cache-Control", "private, no-store")
				http.ServeContent(w, req, "", p.Modified, bytes.NewReader(wav))
			}}, nil
		})
}
