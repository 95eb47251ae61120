package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/centralita/centralita/internal/crm"
)

// MaxSubRequests is how many subrequests one Composite call may carry
// (Salesforce's limit for POST /composite).
const MaxSubRequests = 25

// SubRequest is one subrequest of a Composite call.
type SubRequest struct {
	// Method is GET, POST, PATCH, PUT or DELETE.
	Method string
	// URL is the resource: either absolute from /services/data/vXX.X/ or
	// relative to the configured API version ("/sobjects/Contact"). It may
	// reference earlier subrequests' answers with @{referenceId.path}, e.g.
	// "/sobjects/Contact/@{refContact.id}".
	URL string
	// ReferenceID names the subrequest for later @{ReferenceID.path}
	// references and in its SubResponse: a letter, then letters, digits or
	// underscores; unique within the call.
	ReferenceID string
	// Body is sent as the subrequest's JSON body (nil: none). Its strings
	// may hold @{referenceId.path} references, e.g.
	// {"WhoId": "@{refContact.id}"}; paths are JSON paths such as "id" or
	// "records[0].Id".
	Body any
	// HTTPHeaders are extra headers of the subrequest (optional).
	HTTPHeaders map[string]string
}

// SubResponse is the answer to one SubRequest, in request order.
type SubResponse struct {
	ReferenceID string
	// StatusCode is the subrequest's own HTTP status; the Composite call
	// itself answers 200 even when subrequests fail.
	StatusCode int
	Headers    map[string]string
	// Body is the subrequest's JSON answer (null for 204; an error array
	// on failure).
	Body json.RawMessage
}

// OK reports a 2xx answer.
func (r SubResponse) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Err is nil for a 2xx answer, else the *APIError classified like any
// other answer (unwrapping to crm.ErrRejected, crm.ErrNotFound,
// crm.ErrMultiple, ...).
func (r SubResponse) Err() error {
	if r.OK() {
		return nil
	}
	return classify(r.StatusCode, r.Body)
}

// Halted reports a PROCESSING_HALTED answer: the subrequest was rolled back
// or not run because another one failed (allOrNone), or it referenced a
// failed subrequest.
func (r SubResponse) Halted() bool {
	var ae *APIError
	return errors.As(r.Err(), &ae) && ae.Code == "PROCESSING_HALTED"
}

// ID is the "id" of the answer body (creates and upserts), "" if none.
func (r SubResponse) ID() string {
	var b struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.ID
}

// CompositeError is the error of a Composite answer: nil when every
// subrequest succeeded, else the first failure that is not
// PROCESSING_HALTED (the cause) or, failing that, the first failure,
// wrapped with its reference id.
func CompositeError(resps []SubResponse) error {
	first := -1
	for i, r := range resps {
		if r.OK() {
			continue
		}
		if !r.Halted() {
			return fmt.Errorf("subrequest %s: %w", r.ReferenceID, r.Err())
		}
		if first < 0 {
			first = i
		}
	}
	if first >= 0 {
		return fmt.Errorf("subrequest %s: %w", resps[first].ReferenceID, resps[first].Err())
	}
	return nil
}

var refIDRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

type wireSub struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// Composite sends up to MaxSubRequests subrequests in ONE API call
// (POST /composite): they run in order, later ones referencing earlier
// answers with @{referenceId.path}. With allOrNone a failing subrequest
// rolls back the others, which then answer PROCESSING_HALTED. The answers
// come back in request order; a subrequest's failure is in its
// SubResponse (see Err and CompositeError), not in the returned error,
// which covers the call itself: more than MaxSubRequests, none, or an
// invalid method, url or reference id → crm.ErrRejected before sending;
// otherwise the same token renewal (once, on INVALID_SESSION_ID) and error
// classification as every other call.
func (c *Connector) Composite(ctx context.Context, allOrNone bool, reqs []SubRequest) ([]SubResponse, error) {
	if len(reqs) == 0 {
		return nil, rejected("composite without subrequests")
	}
	if len(reqs) > MaxSubRequests {
		return nil, rejected("composite with %d subrequests, at most %d", len(reqs), MaxSubRequests)
	}
	wire := make([]wireSub, len(reqs))
	seen := make(map[string]bool, len(reqs))
	for i, r := range reqs {
		if !refIDRe.MatchString(r.ReferenceID) {
			return nil, rejected("composite subrequest %d: invalid reference id %q", i, r.ReferenceID)
		}
		if seen[r.ReferenceID] {
			return nil, rejected("composite subrequest %d: duplicate reference id %q", i, r.ReferenceID)
		}
		seen[r.ReferenceID] = true
		m := strings.ToUpper(r.Method)
		switch m {
		case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		default:
			return nil, rejected("composite subrequest %s: invalid method %q", r.ReferenceID, r.Method)
		}
		u := r.URL
		if !strings.HasPrefix(u, "/") || strings.ContainsAny(u, " \r\n") {
			return nil, rejected("composite subrequest %s: invalid url %q", r.ReferenceID, r.URL)
		}
		if !strings.HasPrefix(u, "/services/") {
			u = "/services/data/" + c.cfg.APIVersion + u
		} else if !strings.HasPrefix(u, "/services/data/v") {
			return nil, rejected("composite subrequest %s: url %q is not a data API resource", r.ReferenceID, r.URL)
		}
		wire[i] = wireSub{Method: m, URL: u, ReferenceID: r.ReferenceID, Body: r.Body, HTTPHeaders: r.HTTPHeaders}
	}
	var out struct {
		CompositeResponse []struct {
			Body           json.RawMessage   `json:"body"`
			HTTPHeaders    map[string]string `json:"httpHeaders"`
			HTTPStatusCode int               `json:"httpStatusCode"`
			ReferenceID    string            `json:"referenceId"`
		} `json:"compositeResponse"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/composite", map[string]any{"allOrNone": allOrNone, "compositeRequest": wire}, &out); err != nil {
		return nil, err
	}
	if len(out.CompositeResponse) != len(reqs) {
		return nil, fmt.Errorf("%w: composite answered %d subresponses for %d subrequests", crm.ErrUnavailable, len(out.CompositeResponse), len(reqs))
	}
	resps := make([]SubResponse, len(reqs))
	for i, r := range out.CompositeResponse {
		resps[i] = SubResponse{ReferenceID: r.ReferenceID, StatusCode: r.HTTPStatusCode, Headers: r.HTTPHeaders, Body: bytes.TrimSpace(r.Body)}
	}
	return resps, nil
}

// CreateWithActivity creates a record of typ (Lead, Contact, ...) and
// logs the call's Task on it in ONE API call: a composite (allOrNone) of
// the create and the Task upsert by TaskCallIDField = a.CallID whose WhoId
// (Contact, Lead) or WhatId (other types) is @{record.id}; a.RecordID and
// a.RecordType are ignored. The Task stays idempotent by call id: when it
// already exists Salesforce refuses the create-only TaskSubtype and the
// composite is sent once more without it (the whole first attempt having
// been rolled back). Either both records are written or neither.
func (c *Connector) CreateWithActivity(ctx context.Context, typ string, fields map[string]string, a crm.Activity) (recordID, taskID string, err error) {
	if !validName(typ) {
		return "", "", rejected("invalid record type %q", typ)
	}
	if a.CallID == "" {
		return "", "", rejected("activity without a call id")
	}
	if !validName(c.cfg.TaskCallIDField) {
		return "", "", rejected("invalid Task call-id field %q", c.cfg.TaskCallIDField)
	}
	t := taskBody(a)
	delete(t, "WhoId")
	delete(t, "WhatId")
	if isWho(typ, "") {
		t["WhoId"] = "@{record.id}"
	} else {
		t["WhatId"] = "@{record.id}"
	}
	taskURL := "/sobjects/Task/" + c.cfg.TaskCallIDField + "/" + url.PathEscape(a.CallID)
	send := func(task map[string]any) ([]SubResponse, error) {
		return c.Composite(ctx, true, []SubRequest{
			{Method: http.MethodPost, URL: "/sobjects/" + typ, ReferenceID: "record", Body: body(fields)},
			{Method: http.MethodPatch, URL: taskURL, ReferenceID: "task", Body: task},
		})
	}
	withSubtype := maps(t)
	withSubtype["TaskSubtype"] = "Call"
	resps, err := send(withSubtype)
	if err == nil && subtypeRefused(resps[1].Err()) {
		resps, err = send(t)
	}
	if err != nil {
		return "", "", err
	}
	if err := CompositeError(resps); err != nil {
		return "", "", err
	}
	recordID, taskID = resps[0].ID(), resps[1].ID()
	if taskID == "" { // 204 (older API versions): read the id back
		var row map[string]any
		if _, err := c.do(ctx, http.MethodGet, taskURL+"?fields=Id", nil, &row); err != nil {
			return recordID, "", err
		}
		taskID, _ = row["Id"].(string)
	}
	return recordID, taskID, nil
}
