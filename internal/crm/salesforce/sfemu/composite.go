package sfemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// MaxCompositeRequests is how many subrequests one /composite call may hold.
const MaxCompositeRequests = 25

// compositeSub is one element of compositeRequest.
type compositeSub struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// compositeResult is one element of compositeResponse.
type compositeResult struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

var (
	refIDRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	refUseRe = regexp.MustCompile(`@\{([A-Za-z][A-Za-z0-9_]*)\.([^}]+)\}`)
)

const haltedRollback = "The transaction was rolled back since another operation in the same transaction failed."

func errorBody(code, msg string) json.RawMessage {
	b, _ := json.Marshal([]apiError{{Message: msg, ErrorCode: code}})
	return b
}

// snapshot is the mutable state an allOrNone composite restores on failure.
type snapshot struct {
	records map[string][]map[string]any
	cursors map[string][]map[string]any
	seq     int
}

func (e *Emulator) snapshot() snapshot {
	s := snapshot{records: make(map[string][]map[string]any, len(e.records)), cursors: make(map[string][]map[string]any, len(e.cursors)), seq: e.seq}
	for obj, list := range e.records {
		c := make([]map[string]any, len(list))
		for i, r := range list {
			c[i] = cloneRec(r)
		}
		s.records[obj] = c
	}
	for k, v := range e.cursors {
		s.cursors[k] = v
	}
	return s
}

func (e *Emulator) restore(s snapshot) {
	e.records, e.cursors, e.seq = s.records, s.cursors, s.seq
}

// composite answers POST /composite: the subrequests run in order through
// dispatch (so they see each other's writes), each url and string in each
// body has its @{ref.path} references replaced by the value at path in the
// body answered to the subrequest named ref; with allOrNone the first
// failure (status ≥ 300) restores the store as it was before the composite
// and every other subrequest answers 400 PROCESSING_HALTED. The top-level
// answer is 200 whatever the subrequests did; the whole counts as one API
// request (Handler counts it, subrequests are not counted again).
func (e *Emulator) composite(r *http.Request, version string) reply {
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are POST")
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	var in struct {
		AllOrNone        bool           `json:"allOrNone"`
		CompositeRequest []compositeSub `json:"compositeRequest"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return fail(400, "JSON_PARSER_ERROR", "Unexpected body: "+err.Error())
	}
	if len(in.CompositeRequest) == 0 {
		return fail(400, "INVALID_INPUT", "compositeRequest must hold at least one subrequest")
	}
	if len(in.CompositeRequest) > MaxCompositeRequests {
		return fail(400, "LIMIT_EXCEEDED", fmt.Sprintf("Composite request count limit exceeded: %d subrequests, at most %d", len(in.CompositeRequest), MaxCompositeRequests))
	}
	seen := map[string]bool{}
	for _, s := range in.CompositeRequest {
		if !refIDRe.MatchString(s.ReferenceID) {
			return fail(400, "INVALID_INPUT", fmt.Sprintf("Invalid referenceId %q: it must start with a letter and hold only letters, digits and underscores", s.ReferenceID))
		}
		if seen[s.ReferenceID] {
			return fail(400, "INVALID_INPUT", "Duplicate ReferenceId provided in the request: "+s.ReferenceID)
		}
		seen[s.ReferenceID] = true
		switch s.Method {
		case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		default:
			return fail(400, "INVALID_INPUT", fmt.Sprintf("Invalid method %q for subrequest %s", s.Method, s.ReferenceID))
		}
	}

	var snap snapshot
	if in.AllOrNone {
		snap = e.snapshot()
	}
	out := make([]compositeResult, len(in.CompositeRequest))
	done := map[string]any{} // referenceId → decoded body of a successful subrequest
	failed := -1
	for i, s := range in.CompositeRequest {
		res := e.runSub(s, version, done)
		out[i] = res
		if res.HTTPStatusCode >= 300 {
			if in.AllOrNone {
				failed = i
				break
			}
			continue
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(res.Body))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			done[s.ReferenceID] = v
		}
	}
	if failed >= 0 {
		e.restore(snap)
		for i, s := range in.CompositeRequest {
			if i != failed {
				out[i] = compositeResult{Body: errorBody("PROCESSING_HALTED", haltedRollback), HTTPHeaders: map[string]string{}, HTTPStatusCode: 400, ReferenceID: s.ReferenceID}
			}
		}
	}
	return reply{200, map[string]any{"compositeResponse": out}}
}

// runSub resolves the references of one subrequest and answers it.
func (e *Emulator) runSub(s compositeSub, version string, done map[string]any) compositeResult {
	res := compositeResult{HTTPHeaders: map[string]string{}, ReferenceID: s.ReferenceID}
	halt := func(status int, code, msg string) compositeResult {
		res.HTTPStatusCode, res.Body = status, errorBody(code, msg)
		return res
	}
	target, bad := resolveRefs(s.URL, done)
	if bad != "" {
		return halt(400, "PROCESSING_HALTED", bad)
	}
	var body io.Reader = http.NoBody
	if len(s.Body) > 0 && string(s.Body) != "null" {
		var v any
		dec := json.NewDecoder(bytes.NewReader(s.Body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return halt(400, "JSON_PARSER_ERROR", "Unexpected body: "+err.Error())
		}
		v, bad = resolveIn(v, done)
		if bad != "" {
			return halt(400, "PROCESSING_HALTED", bad)
		}
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	rest, ok := strings.CutPrefix(target, "/services/data/")
	ver, rest, _ := strings.Cut(rest, "/")
	if !ok || len(ver) < 2 || ver[0] != 'v' || rest == "" {
		return halt(404, "NOT_FOUND", "The requested resource does not exist: subrequest urls start with /services/data/vXX.X/")
	}
	if strings.HasPrefix(rest, "composite") {
		return halt(400, "INVALID_INPUT", "A composite subrequest cannot be a composite request")
	}
	req, err := http.NewRequest(s.Method, "http://sfemu"+target, body)
	if err != nil {
		return halt(400, "INVALID_INPUT", "Invalid subrequest url: "+err.Error())
	}
	for k, v := range s.HTTPHeaders {
		req.Header.Set(k, v)
	}
	if len(s.Body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rest, _ = strings.CutPrefix(req.URL.EscapedPath(), "/services/data/"+ver+"/")
	rep := e.dispatch(req, ver, rest)
	res.HTTPStatusCode = rep.status
	res.Body, _ = json.Marshal(rep.body) // nil → null
	if rep.status == http.StatusCreated {
		if m, ok := rep.body.(map[string]any); ok {
			segs := strings.Split(strings.Trim(rest, "/"), "/")
			if id, _ := m["id"].(string); id != "" && len(segs) >= 2 && segs[0] == "sobjects" {
				res.HTTPHeaders["Location"] = "/services/data/" + ver + "/sobjects/" + segs[1] + "/" + id
			}
		}
	}
	return res
}

// resolveIn replaces the references in every string of a decoded body.
func resolveIn(v any, done map[string]any) (any, string) {
	switch x := v.(type) {
	case string:
		return resolveRefs(x, done)
	case map[string]any:
		for k, el := range x {
			r, bad := resolveIn(el, done)
			if bad != "" {
				return nil, bad
			}
			x[k] = r
		}
	case []any:
		for i, el := range x {
			r, bad := resolveIn(el, done)
			if bad != "" {
				return nil, bad
			}
			x[i] = r
		}
	}
	return v, ""
}

// resolveRefs replaces each @{ref.path} in s; the second result is the
// error message when a reference has no value.
func resolveRefs(s string, done map[string]any) (string, string) {
	bad := ""
	out := refUseRe.ReplaceAllStringFunc(s, func(m string) string {
		sm := refUseRe.FindStringSubmatch(m)
		root, ok := done[sm[1]]
		var val any
		if ok {
			val, ok = lookup(root, sm[2])
		}
		if !ok || val == nil {
			if bad == "" {
				bad = fmt.Sprintf("Invalid reference specified. No value for %s.%s found in %s. Provided referenceId ('%s') must match a successful earlier subrequest.", sm[1], sm[2], sm[1], sm[1])
			}
			return m
		}
		switch x := val.(type) {
		case string:
			return x
		case json.Number:
			return x.String()
		case bool:
			return strconv.FormatBool(x)
		default:
			b, _ := json.Marshal(x)
			return string(b)
		}
	})
	return out, bad
}

// lookup evaluates a path such as "id", "records[0].Id" or
// "attributes.type" in a decoded JSON value.
func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		name, idx, _ := strings.Cut(part, "[")
		if name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[name]; !ok {
				return nil, false
			}
		}
		for idx != "" {
			n, after, ok := strings.Cut(idx, "]")
			if !ok {
				return nil, false
			}
			i, err := strconv.Atoi(n)
			arr, isArr := v.([]any)
			if err != nil || !isArr || i < 0 || i >= len(arr) {
				return nil, false
			}
			v = arr[i]
			idx, _ = strings.CutPrefix(after, "[")
			if after != "" && !strings.HasPrefix(after, "[") {
				return nil, false
			}
		}
	}
	return v, true
}
