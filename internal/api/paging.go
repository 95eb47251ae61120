package api

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
)

// Paging inputs; 0 means "use the default" because the platform SDKs always
// send integer parameters, 0 when the caller set none.
type PageParams struct {
	PageSize   int `query:"pageSize" minimum:"0" maximum:"500" doc:"Page size (default 25, at most 500)."`
	PageNumber int `query:"pageNumber" minimum:"0" doc:"Page number, from 1 (default 1)."`
}

const defaultPageSize = 25

func (p PageParams) page(max int) (directory.Page, int, int, error) {
	size, num := p.PageSize, p.PageNumber
	if size == 0 {
		size = defaultPageSize
	}
	if num == 0 {
		num = 1
	}
	if size > max {
		return directory.Page{}, 0, 0, problem.Invalidf("pageSize", "must be at most %d, got %d", max, size)
	}
	return directory.Page{Limit: size, Offset: (num - 1) * size}, size, num, nil
}

// Listing is the platform's entity listing envelope.
type Listing[T any] struct {
	Entities    []T    `json:"entities"`
	PageSize    int    `json:"pageSize"`
	PageNumber  int    `json:"pageNumber"`
	Total       int    `json:"total"`
	PageCount   int    `json:"pageCount"`
	FirstURI    string `json:"firstUri"`
	SelfURI     string `json:"selfUri"`
	NextURI     string `json:"nextUri,omitempty"`
	PreviousURI string `json:"previousUri,omitempty"`
	LastURI     string `json:"lastUri"`
}

// listing builds the envelope; URIs are relative and keep the request's
// other query parameters.
func listing[T any](ctx context.Context, items []T, total, size, num int) *Listing[T] {
	if items == nil {
		items = []T{}
	}
	pages := (total + size - 1) / size
	l := &Listing[T]{Entities: items, PageSize: size, PageNumber: num, Total: total, PageCount: pages}
	u := requestURL(ctx)
	uri := func(n int) string {
		q := url.Values{}
		for k, v := range u.Query() {
			q[k] = v
		}
		q.Set("pageSize", strconv.Itoa(size))
		q.Set("pageNumber", strconv.Itoa(n))
		return u.Path + "?" + q.Encode()
	}
	last := max(pages, 1)
	l.FirstURI, l.SelfURI, l.LastURI = uri(1), uri(num), uri(last)
	if num < pages {
		l.NextURI = uri(num + 1)
	}
	if num > 1 {
		l.PreviousURI = uri(min(num-1, last))
	}
	return l
}

// Body wraps a response body.
type Body[T any] struct {
	Body T
}

func body[T any](v T) *Body[T] { return &Body[T]{Body: v} }

// Time is a date-time rendered as the platform does: UTC, milliseconds and a
// literal Z (the Go SDK parses with a layout that requires the Z).
type Time time.Time

func (t Time) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// Schema describes Time in the OpenAPI document.
func (Time) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: "string", Format: "date-time", Examples: []any{"2026-05-01T10:00:00.000Z"}}
}

// ids splits multi-valued id parameters: the Go SDK sends "a,b", other
// clients repeat the key.
func ids(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// needUUID checks that a path or query id is a UUID.
func needUUID(field string, vs ...string) error {
	var c problem.Collector
	for _, v := range vs {
		if !directory.IsUUID(v) {
			c.Add(field, "%q is not a valid id: ids are lowercase UUIDs", v)
		}
	}
	return c.Err()
}

// Ref is an entity reference.
type Ref struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri,omitempty"`
}

// Division is the single home division; the platform's clients expect one.
var homeDivision = &Ref{ID: "00000000-0000-4000-8000-000000000001", Name: "Home", SelfURI: "/api/v2/authorization/divisions/00000000-0000-4000-8000-000000000001"}
