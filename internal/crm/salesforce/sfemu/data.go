package sfemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ---- sObjects ----

func (e *Emulator) view(obj, base string, r map[string]any, fields []string) map[string]any {
	out := map[string]any{"attributes": map[string]string{"type": obj, "url": base + "/sobjects/" + obj + "/" + r["Id"].(string)}}
	if fields == nil {
		for f := range e.schema[obj] {
			out[f] = r[f] // nil → null, as Salesforce returns every field
		}
		return out
	}
	for _, f := range fields {
		out[f] = r[f]
	}
	return out
}

func (e *Emulator) sobjects(r *http.Request, base string, segs []string) reply {
	obj := segs[0]
	if e.schema[obj] == nil {
		return fail(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
	switch {
	case len(segs) == 1 && r.Method == http.MethodPost:
		body, rep := e.readBody(r, obj)
		if body == nil {
			return rep
		}
		if missing := required(obj, body); len(missing) > 0 {
			return fail(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
		}
		id := e.insert(obj, body)
		return reply{201, map[string]any{"id": id, "success": true, "errors": []any{}}}
	case len(segs) == 2:
		rec := e.find(obj, segs[1])
		if rec == nil {
			return fail(404, "NOT_FOUND", "The requested resource does not exist")
		}
		switch r.Method {
		case http.MethodGet:
			var fields []string
			if fs := r.URL.Query().Get("fields"); fs != "" {
				fields = splitList(fs)
				if bad := e.unknown(obj, fields); bad != "" {
					return fail(400, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", bad, obj))
				}
			}
			return reply{200, e.view(obj, base, rec, fields)}
		case http.MethodPatch:
			body, rep := e.readBody(r, obj)
			if body == nil {
				return rep
			}
			if rep := e.updatable(obj, body); rep.status != 0 {
				return rep
			}
			e.apply(obj, rec, body)
			return reply{204, nil}
		case http.MethodDelete:
			list := e.records[obj]
			for i, x := range list {
				if x["Id"] == rec["Id"] {
					e.records[obj] = append(list[:i:i], list[i+1:]...)
				}
			}
			return reply{204, nil}
		}
	case len(segs) == 3:
		field, value := segs[1], segs[2]
		if !e.extIDs[obj][field] && field != "Id" {
			return fail(404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+field)
		}
		var matches []map[string]any
		for _, x := range e.records[obj] {
			if fmt.Sprint(x[field]) == value {
				matches = append(matches, x)
			}
		}
		switch r.Method {
		case http.MethodGet:
			if len(matches) == 0 {
				return fail(404, "NOT_FOUND", "The requested resource does not exist")
			}
			if len(matches) > 1 {
				return e.multiple(obj, base, matches)
			}
			return reply{200, e.view(obj, base, matches[0], nil)}
		case http.MethodPatch:
			body, rep := e.readBody(r, obj)
			if body == nil {
				return rep
			}
			switch len(matches) {
			case 0:
				if r.URL.Query().Get("updateOnly") == "true" {
					return fail(404, "NOT_FOUND", "The requested resource does not exist")
				}
				body[field] = value
				if missing := required(obj, body); len(missing) > 0 {
					return fail(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
				}
				id := e.insert(obj, body)
				return reply{201, map[string]any{"id": id, "success": true, "errors": []any{}, "created": true}}
			case 1:
				if rep := e.updatable(obj, body); rep.status != 0 {
					return rep
				}
				e.apply(obj, matches[0], body)
				return reply{200, map[string]any{"id": matches[0]["Id"], "success": true, "errors": []any{}, "created": false}}
			default:
				return e.multiple(obj, base, matches)
			}
		}
	}
	return fail(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed")
}

// multiple is the 300 answer: the URLs of the matching records.
func (e *Emulator) multiple(obj, base string, matches []map[string]any) reply {
	var urls []string
	for _, m := range matches {
		urls = append(urls, base+"/sobjects/"+obj+"/"+m["Id"].(string))
	}
	return reply{http.StatusMultipleChoices, urls}
}

// readBody decodes a JSON object body and checks its fields against the
// schema; nil with the error reply when it is bad.
func (e *Emulator) readBody(r *http.Request, obj string) (map[string]any, reply) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || body == nil {
		return nil, fail(400, "JSON_PARSER_ERROR", "Unexpected body: "+strings.TrimSpace(string(b)))
	}
	delete(body, "attributes")
	for k, v := range body {
		if !e.schema[obj][k] {
			return nil, fail(400, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", k, obj), k)
		}
		if k == "Id" || k == "CreatedDate" || k == "LastModifiedDate" || (k == "Name" && derivedName(obj)) {
			return nil, fail(400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "+k+". Please check the security settings of this field and verify that it is read/write for your profile or permission set.", k)
		}
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				body[k] = i
			} else if f, err := n.Float64(); err == nil {
				body[k] = f
			}
		}
	}
	return body, reply{}
}

// updatable refuses create-only fields on update (Task.TaskSubtype).
func (e *Emulator) updatable(obj string, body map[string]any) reply {
	if _, ok := body["TaskSubtype"]; ok && obj == "Task" {
		return fail(400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: TaskSubtype. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", "TaskSubtype")
	}
	return reply{}
}

func (e *Emulator) apply(obj string, rec, body map[string]any) {
	for k, v := range body {
		if v == nil {
			delete(rec, k)
		} else {
			rec[k] = v
		}
	}
	rec["LastModifiedDate"] = time.Now().UTC().Format("2006-01-02T15:04:05.000+0000")
	fixName(obj, rec)
}

func required(obj string, body map[string]any) []string {
	var need []string
	switch obj {
	case "Contact":
		need = []string{"LastName"}
	case "Lead":
		need = []string{"LastName", "Company"}
	case "Account":
		need = []string{"Name"}
	case "Opportunity":
		need = []string{"Name", "StageName", "CloseDate"}
	}
	var missing []string
	for _, f := range need {
		if s, _ := body[f].(string); s == "" {
			missing = append(missing, f)
		}
	}
	return missing
}

func (e *Emulator) unknown(obj string, fields []string) string {
	for _, f := range fields {
		if !e.schema[obj][f] {
			return f
		}
	}
	return ""
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ---- SOQL ----

// query answers the SOQL subset
//
//	SELECT f, ... FROM Obj [WHERE f op v [AND f op v]...] [ORDER BY f [ASC|DESC]] [LIMIT n]
//
// with op one of = != and v a 'quoted string' (\' \\ escapes), a number,
// true, false or null.
func (e *Emulator) query(r *http.Request, base string) reply {
	q, err := parseSOQL(r.URL.Query().Get("q"))
	if err != nil {
		return fail(400, "MALFORMED_QUERY", err.Error())
	}
	if e.schema[q.obj] == nil {
		return fail(400, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", q.obj))
	}
	if bad := e.unknown(q.obj, q.fields); bad != "" {
		return fail(400, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", bad, q.obj))
	}
	for _, c := range q.where {
		if !e.schema[q.obj][c.field] {
			return fail(400, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", c.field, q.obj))
		}
	}
	var rows []map[string]any
	for _, rec := range e.records[q.obj] {
		if q.match(rec) {
			rows = append(rows, e.view(q.obj, base, rec, q.fields))
		}
	}
	if q.orderBy != "" {
		sortRows(rows, q.orderBy, q.desc)
	}
	if q.limit >= 0 && len(rows) > q.limit {
		rows = rows[:q.limit]
	}
	size := e.PageSize
	if opt := r.Header.Get("Sforce-Query-Options"); opt != "" {
		if v, ok := strings.CutPrefix(strings.TrimSpace(opt), "batchSize="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 && n < size {
				size = n
			}
		}
	}
	return e.page(base, rows, len(rows), size, 0)
}

func (e *Emulator) page(base string, rows []map[string]any, total, size, offset int) reply {
	if size <= 0 {
		size = 2000
	}
	body := map[string]any{"totalSize": total, "done": true}
	if len(rows) > size {
		e.seq++
		loc := fmt.Sprintf("01gKg%010d", e.seq)
		next := offset + size
		e.cursors[fmt.Sprintf("%s-%d", loc, next)] = rows[size:]
		e.cursors[loc+"#size"] = []map[string]any{{"size": size, "total": total}}
		body["done"] = false
		body["nextRecordsUrl"] = fmt.Sprintf("%s/query/%s-%d", base, loc, next)
		rows = rows[:size]
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	body["records"] = rows
	return reply{200, body}
}

func (e *Emulator) queryMore(base, locator string) reply {
	rows, ok := e.cursors[locator]
	loc, off, _ := strings.Cut(locator, "-")
	meta := e.cursors[loc+"#size"]
	if !ok || meta == nil {
		return fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
	}
	delete(e.cursors, locator)
	offset, _ := strconv.Atoi(off)
	return e.page(base, rows, meta[0]["total"].(int), meta[0]["size"].(int), offset)
}

func sortRows(rows []map[string]any, field string, desc bool) {
	less := func(a, b map[string]any) bool { return fmt.Sprint(a[field]) < fmt.Sprint(b[field]) }
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0; j-- {
			a, b := rows[j-1], rows[j]
			if desc {
				a, b = b, a
			}
			if !less(b, a) {
				break
			}
			rows[j-1], rows[j] = rows[j], rows[j-1]
		}
	}
}

type cond struct {
	field, op string
	value     any // string, int64, float64, bool, nil
}

type soql struct {
	fields  []string
	obj     string
	where   []cond
	orderBy string
	desc    bool
	limit   int
}

func (q soql) match(rec map[string]any) bool {
	for _, c := range q.where {
		eq := equalValue(rec[c.field], c.value)
		if (c.op == "=") != eq {
			return false
		}
	}
	return true
}

func equalValue(have, want any) bool {
	if want == nil {
		return have == nil || have == ""
	}
	if have == nil {
		return false
	}
	switch w := want.(type) {
	case string:
		h, ok := have.(string)
		return ok && strings.EqualFold(h, w) // SOQL = on text is case-insensitive
	default:
		return fmt.Sprint(have) == fmt.Sprint(w)
	}
}

type lexer struct {
	s   string
	pos int
}

func (l *lexer) skip() {
	for l.pos < len(l.s) && strings.ContainsRune(" \t\r\n", rune(l.s[l.pos])) {
		l.pos++
	}
}

// next returns the next token: an identifier/number, a quoted string (with
// its quotes, unescaped inside), or punctuation.
func (l *lexer) next() (string, bool, error) {
	l.skip()
	if l.pos >= len(l.s) {
		return "", false, nil
	}
	c := l.s[l.pos]
	switch {
	case c == '\'':
		var b strings.Builder
		l.pos++
		for l.pos < len(l.s) {
			c := l.s[l.pos]
			switch c {
			case '\\':
				if l.pos+1 >= len(l.s) {
					return "", false, fmt.Errorf("unterminated escape")
				}
				n := l.s[l.pos+1]
				switch n {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				case '\'', '"', '\\', '_', '%':
					if n == '_' || n == '%' {
						b.WriteByte('\\')
					}
					b.WriteByte(n)
				default:
					return "", false, fmt.Errorf("invalid escape \\%c", n)
				}
				l.pos += 2
			case '\'':
				l.pos++
				return "'" + b.String(), true, nil
			default:
				b.WriteByte(c)
				l.pos++
			}
		}
		return "", false, fmt.Errorf("unterminated string")
	case c == ',' || c == '(' || c == ')' || c == '=':
		l.pos++
		return string(c), true, nil
	case c == '!' && l.pos+1 < len(l.s) && l.s[l.pos+1] == '=':
		l.pos += 2
		return "!=", true, nil
	}
	start := l.pos
	for l.pos < len(l.s) && !strings.ContainsRune(" \t\r\n,()='!", rune(l.s[l.pos])) {
		l.pos++
	}
	if start == l.pos {
		return "", false, fmt.Errorf("unexpected %q", c)
	}
	return l.s[start:l.pos], true, nil
}

func parseSOQL(s string) (soql, error) {
	l := &lexer{s: s}
	q := soql{limit: -1}
	tok := func() string {
		t, _, err := l.next()
		if err != nil {
			return "\x00" + err.Error()
		}
		return t
	}
	if !strings.EqualFold(tok(), "SELECT") {
		return q, fmt.Errorf("expecting SELECT")
	}
	for {
		f := tok()
		if !isIdent(f) {
			return q, fmt.Errorf("unexpected token: '%s'", f)
		}
		q.fields = append(q.fields, f)
		t := tok()
		if t == "," {
			continue
		}
		if !strings.EqualFold(t, "FROM") {
			return q, fmt.Errorf("unexpected token: '%s'", t)
		}
		break
	}
	q.obj = tok()
	if !isIdent(q.obj) {
		return q, fmt.Errorf("unexpected token: '%s'", q.obj)
	}
	t := tok()
	if strings.EqualFold(t, "WHERE") {
		for {
			var c cond
			c.field = tok()
			if !isIdent(c.field) {
				return q, fmt.Errorf("unexpected token: '%s'", c.field)
			}
			c.op = tok()
			if c.op != "=" && c.op != "!=" {
				return q, fmt.Errorf("unexpected token: '%s'", c.op)
			}
			v := tok()
			switch {
			case strings.HasPrefix(v, "\x00"):
				return q, fmt.Errorf("%s", v[1:])
			case strings.HasPrefix(v, "'"):
				c.value = v[1:]
			case strings.EqualFold(v, "true"), strings.EqualFold(v, "false"):
				c.value = strings.EqualFold(v, "true")
			case strings.EqualFold(v, "null"):
				c.value = nil
			default:
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					c.value = n
				} else if f, err := strconv.ParseFloat(v, 64); err == nil {
					c.value = f
				} else {
					return q, fmt.Errorf("unexpected token: '%s'", v)
				}
			}
			q.where = append(q.where, c)
			t = tok()
			if !strings.EqualFold(t, "AND") {
				break
			}
		}
	}
	if strings.EqualFold(t, "ORDER") {
		if !strings.EqualFold(tok(), "BY") {
			return q, fmt.Errorf("expecting BY")
		}
		q.orderBy = tok()
		t = tok()
		if strings.EqualFold(t, "ASC") || strings.EqualFold(t, "DESC") {
			q.desc = strings.EqualFold(t, "DESC")
			t = tok()
		}
	}
	if strings.EqualFold(t, "LIMIT") {
		n, err := strconv.Atoi(tok())
		if err != nil || n < 0 {
			return q, fmt.Errorf("invalid LIMIT")
		}
		q.limit = n
		t = tok()
	}
	if t != "" {
		return q, fmt.Errorf("unexpected token: '%s'", strings.TrimPrefix(t, "\x00"))
	}
	return q, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// ---- SOSL and parameterized search ----

var phoneFields = map[string][]string{
	"Contact": {"Phone", "MobilePhone", "HomePhone", "OtherPhone"},
	"Lead":    {"Phone", "MobilePhone"},
	"Account": {"Phone", "Fax"},
}

type returning struct {
	obj    string
	fields []string
	limit  int
}

// search answers FIND {term} IN PHONE|ALL FIELDS RETURNING Obj(f, ... [LIMIT n]), ... [LIMIT n].
func (e *Emulator) search(q, base string) reply {
	term, scope, rets, limit, err := parseSOSL(q)
	if err != nil {
		return fail(400, "MALFORMED_SEARCH", err.Error())
	}
	return e.runSearch(base, term, scope, rets, limit)
}

func (e *Emulator) runSearch(base, term, scope string, rets []returning, limit int) reply {
	var out []map[string]any
	for _, rt := range rets {
		if e.schema[rt.obj] == nil {
			return fail(400, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", rt.obj))
		}
		if bad := e.unknown(rt.obj, rt.fields); bad != "" {
			return fail(400, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", bad, rt.obj))
		}
		n := 0
		for _, rec := range e.records[rt.obj] {
			if rt.limit > 0 && n >= rt.limit {
				break
			}
			if matchSearch(rt.obj, rec, term, scope) {
				fields := rt.fields
				if len(fields) == 0 {
					fields = []string{"Id"}
				}
				out = append(out, e.view(rt.obj, base, rec, fields))
				n++
			}
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []map[string]any{}
	}
	return reply{200, map[string]any{"searchRecords": out}}
}

// PhoneDigitsMatch reports whether a stored phone matches a searched one:
// equal digits, ignoring a leading international 00, or one the tail of
// the other with at least 7 digits (a national number against E.164).
func PhoneDigitsMatch(stored, searched string) bool {
	a, b := digitsOf(stored), digitsOf(searched)
	a, b = strings.TrimPrefix(a, "00"), strings.TrimPrefix(b, "00")
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	return len(b) >= 7 && strings.HasSuffix(a, b)
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func matchSearch(obj string, rec map[string]any, term, scope string) bool {
	if strings.EqualFold(scope, "PHONE") {
		for _, f := range phoneFields[obj] {
			if s, _ := rec[f].(string); s != "" && PhoneDigitsMatch(s, term) {
				return true
			}
		}
		return false
	}
	t := strings.ToLower(strings.Trim(term, "\"*"))
	for k, v := range rec {
		if s, ok := v.(string); ok && k != "Id" && strings.Contains(strings.ToLower(s), t) {
			return true
		}
	}
	return false
}

// UnescapeSOSL undoes the backslash escaping of SOSL reserved characters.
func UnescapeSOSL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseSOSL(q string) (term, scope string, rets []returning, limit int, err error) {
	s := strings.TrimSpace(q)
	rest, ok := cutFold(s, "FIND")
	if !ok {
		return "", "", nil, 0, fmt.Errorf("expecting FIND")
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "{") {
		return "", "", nil, 0, fmt.Errorf("expecting {")
	}
	// The term ends at the first unescaped '}'.
	end := -1
	for i := 1; i < len(rest); i++ {
		if rest[i] == '\\' {
			i++
			continue
		}
		if rest[i] == '}' {
			end = i
			break
		}
	}
	if end < 0 {
		return "", "", nil, 0, fmt.Errorf("unterminated search term")
	}
	term = UnescapeSOSL(rest[1:end])
	l := &lexer{s: rest[end+1:]}
	tok := func() string {
		t, _, e := l.next()
		if e != nil {
			return "\x00"
		}
		return t
	}
	scope = "ALL"
	t := tok()
	if strings.EqualFold(t, "IN") {
		scope = strings.ToUpper(tok())
		if !strings.EqualFold(tok(), "FIELDS") {
			return "", "", nil, 0, fmt.Errorf("expecting FIELDS")
		}
		switch scope {
		case "ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR":
		default:
			return "", "", nil, 0, fmt.Errorf("unknown search group %s", scope)
		}
		t = tok()
	}
	if strings.EqualFold(t, "RETURNING") {
		for {
			rt := returning{obj: tok()}
			if !isIdent(rt.obj) {
				return "", "", nil, 0, fmt.Errorf("unexpected token: '%s'", rt.obj)
			}
			t = tok()
			if t == "(" {
				for {
					f := tok()
					if strings.EqualFold(f, "LIMIT") {
						n, err := strconv.Atoi(tok())
						if err != nil {
							return "", "", nil, 0, fmt.Errorf("invalid LIMIT")
						}
						rt.limit = n
						f = tok()
						if f != ")" {
							return "", "", nil, 0, fmt.Errorf("expecting )")
						}
						break
					}
					if !isIdent(f) {
						return "", "", nil, 0, fmt.Errorf("unexpected token: '%s'", f)
					}
					rt.fields = append(rt.fields, f)
					t2 := tok()
					if t2 == ")" {
						break
					}
					if t2 == "," {
						continue
					}
					if strings.EqualFold(t2, "LIMIT") {
						n, err := strconv.Atoi(tok())
						if err != nil || tok() != ")" {
							return "", "", nil, 0, fmt.Errorf("invalid LIMIT")
						}
						rt.limit = n
						break
					}
					return "", "", nil, 0, fmt.Errorf("unexpected token: '%s'", t2)
				}
				t = tok()
			}
			rets = append(rets, rt)
			if t != "," {
				break
			}
		}
	}
	if strings.EqualFold(t, "LIMIT") {
		n, err := strconv.Atoi(tok())
		if err != nil {
			return "", "", nil, 0, fmt.Errorf("invalid LIMIT")
		}
		limit = n
		t = tok()
	}
	if t != "" {
		return "", "", nil, 0, fmt.Errorf("unexpected token: '%s'", t)
	}
	if len(rets) == 0 {
		return "", "", nil, 0, fmt.Errorf("RETURNING required by this emulator")
	}
	return term, scope, rets, limit, nil
}

func cutFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// paramSearch answers GET ?q=&in=&sobject=A&A.fields=..&A.limit=..&overallLimit=
// and POST {q, in, fields, sobjects:[{name, fields, limit}], overallLimit}.
func (e *Emulator) paramSearch(r *http.Request, base string) reply {
	var body struct {
		Q        string   `json:"q"`
		In       string   `json:"in"`
		Fields   []string `json:"fields"`
		Sobjects []struct {
			Name   string   `json:"name"`
			Fields []string `json:"fields"`
			Limit  int      `json:"limit"`
		} `json:"sobjects"`
		OverallLimit int `json:"overallLimit"`
	}
	switch r.Method {
	case http.MethodGet:
		v := r.URL.Query()
		body.Q, body.In = v.Get("q"), v.Get("in")
		body.Fields = splitList(v.Get("fields"))
		body.OverallLimit, _ = strconv.Atoi(v.Get("overallLimit"))
		for _, name := range v["sobject"] {
			lim, _ := strconv.Atoi(v.Get(name + ".limit"))
			body.Sobjects = append(body.Sobjects, struct {
				Name   string   `json:"name"`
				Fields []string `json:"fields"`
				Limit  int      `json:"limit"`
			}{name, splitList(v.Get(name + ".fields")), lim})
		}
	case http.MethodPost:
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return fail(400, "JSON_PARSER_ERROR", err.Error())
		}
	default:
		return fail(405, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed")
	}
	if strings.TrimSpace(body.Q) == "" {
		return fail(400, "MISSING_ARGUMENT", "Missing argument: q")
	}
	if body.In == "" {
		body.In = "ALL"
	}
	var rets []returning
	for _, so := range body.Sobjects {
		f := so.Fields
		if len(f) == 0 {
			f = body.Fields
		}
		rets = append(rets, returning{obj: so.Name, fields: f, limit: so.Limit})
	}
	if len(rets) == 0 {
		for _, obj := range []string{"Account", "Contact", "Lead", "Opportunity"} {
			rets = append(rets, returning{obj: obj, fields: body.Fields})
		}
	}
	return e.runSearch(base, body.Q, strings.ToUpper(body.In), rets, body.OverallLimit)
}
