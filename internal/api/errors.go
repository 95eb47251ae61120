package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/problem"
)

// ErrorBody is the platform API's error shape. Clients read status, code
// (dotted lower case), message and contextId (the correlation id).
type ErrorBody struct {
	Status            int               `json:"status"`
	Code              string            `json:"code"`
	Message           string            `json:"message"`
	MessageWithParams string            `json:"messageWithParams"`
	MessageParams     map[string]string `json:"messageParams"`
	ContextID         string            `json:"contextId"`
	Details           []ErrorDetail     `json:"details"`
	Errors            []ErrorBody       `json:"errors"`
}

// ErrorDetail names the field or entity a problem is about.
type ErrorDetail struct {
	ErrorCode  string `json:"errorCode"`
	FieldName  string `json:"fieldName,omitempty"`
	EntityID   string `json:"entityId,omitempty"`
	EntityName string `json:"entityName,omitempty"`
	Message    string `json:"message,omitempty"`
}

func (e *ErrorBody) Error() string  { return e.Message }
func (e *ErrorBody) GetStatus() int { return e.Status }

// ContentType keeps errors plain JSON: the platform SDKs parse any non-2xx
// body as JSON and choke on problem+json media types only by accident.
func (e *ErrorBody) ContentType(string) string { return "application/json" }

var statusCodes = map[int]string{
	400: "bad.request", 401: "authentication.required", 403: "not.authorized", 404: "not.found",
	405: "method.not.allowed", 408: "request.timeout", 409: "conflict", 413: "request.entity.too.large",
	415: "unsupported.media.type", 429: "too.many.requests", 500: "internal.server.error",
	503: "service.unavailable", 504: "request.timeout",
}

func newError(status int, code, msg string) *ErrorBody {
	if code == "" {
		code = statusCodes[status]
		if code == "" {
			code = "error"
		}
	}
	return &ErrorBody{Status: status, Code: code, Message: msg, MessageWithParams: msg,
		MessageParams: map[string]string{}, Details: []ErrorDetail{}, Errors: []ErrorBody{}}
}

// fromProblems builds the body for domain problems; all share the first
// problem's kind, which decides the status.
func fromProblems(ps []*problem.Problem) *ErrorBody {
	status, code := 400, "bad.request"
	switch ps[0].Kind {
	case problem.NotFound:
		status, code = 404, "not.found"
	case problem.Conflict:
		status, code = 409, "conflict"
	case problem.Forbidden:
		status, code = 403, "not.authorized"
	case problem.Duplicate:
		code = "duplicate.value"
	}
	if ps[0].Code != "" {
		code = ps[0].Code
	}
	msgs := make([]string, len(ps))
	e := newError(status, code, "")
	for i, p := range ps {
		msgs[i] = p.Error()
		if p.Field != "" || p.Kind == problem.Invalid || p.Kind == problem.Duplicate {
			dc := "invalid.value"
			if p.Kind == problem.Duplicate {
				dc = "duplicate.value"
			}
			e.Details = append(e.Details, ErrorDetail{ErrorCode: dc, FieldName: p.Field, Message: p.Message})
		}
	}
	e.Message = strings.Join(msgs, "; ")
	e.MessageWithParams = e.Message
	return e
}

// toError is huma's error constructor: it maps domain problems and huma's
// own validation failures (422) to the platform's error body and statuses.
func toError(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	var e *ErrorBody
	var ps []*problem.Problem
	for _, err := range errs {
		ps = append(ps, problem.All(err)...)
	}
	switch {
	case len(ps) > 0:
		e = fromProblems(ps)
	case status == 500 && anyIs(errs, auth.ErrBadLogin):
		e = newError(401, "bad.credentials", "Invalid login credentials.")
	default:
		if status == http.StatusUnprocessableEntity {
			status = 400 // the platform API reports every malformed request as 400
		}
		e = newError(status, "", msg)
		var parts []string
		for _, err := range errs {
			if err == nil {
				continue
			}
			var d huma.ErrorDetailer
			if errors.As(err, &d) {
				det := d.ErrorDetail()
				field := det.Location
				for _, p := range []string{"body.", "query.", "path.", "header."} {
					field = strings.TrimPrefix(field, p)
				}
				if field == "body" {
					field = ""
				}
				// A missing required property is reported on its parent
				// object; name the property itself so clients see which field.
				if prop, ok := requiredProperty(det.Message); ok {
					if field == "" {
						field = prop
					} else {
						field += "." + prop
					}
				}
				e.Details = append(e.Details, ErrorDetail{ErrorCode: "invalid.value", FieldName: field, Message: det.Message})
				if field != "" {
					parts = append(parts, fmt.Sprintf("%s: %s", field, det.Message))
				} else {
					parts = append(parts, det.Message)
				}
			} else if status < 500 {
				parts = append(parts, err.Error())
			}
		}
		if len(parts) > 0 {
			e.Message = msg + ": " + strings.Join(parts, "; ")
			e.MessageWithParams = e.Message
		}
		if status >= 500 {
			e.Message = "The server failed to handle the request; quote the contextId when reporting it."
			e.MessageWithParams = e.Message
		}
	}
	if ctx != nil {
		e.ContextID = bus.CorrelationID(ctx.Context())
		if status >= 500 || e.Status >= 500 {
			logFrom(ctx.Context()).Error("request failed", "status", e.Status, "errs", errs)
		}
	}
	return e
}

func anyIs(errs []error, target error) bool {
	for _, err := range errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// requiredProperty extracts the property name from huma's "expected required
// property NAME to be present" message.
func requiredProperty(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "expected required property ")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, " to be present")
	if !ok || name == "" || strings.Contains(name, " ") {
		return "", false
	}
	return name, true
}
