package crm

import (
	"encoding/json"
	"strconv"
	"strings"
)

// This file is the screen-pop planner (SPEC 2.6, 3.2–3.4; seed 002): pure
// functions from a call's data and a call center's options to what to
// search and what the agent's screen does with what was found. No I/O.
//
// Rules, beyond docs/crm.md:
//
//   - The search value is SearchData. When it is a CLAVESF ("<contactId>-
//     <data>": equal to the call's CLAVESF, or starting with its contactId
//     and a dash), only the data part counts (ClaveSFData); with SearchData
//     empty the CLAVESF call-data item's data part is used. An empty value
//     means no search (Plan.Search nil): the no-match layout applies
//     whatever the CRM holds.
//   - By phone (Query.Phone) when SearchBy is "phoneNumber" or names a phone
//     field (contains phone, telefono, teléfono, mobile, movil, móvil,
//     celular, cell — any case), or when the value is the call's
//     phoneNumber; the number is stripped of spaces, dashes, dots and
//     parentheses. Otherwise by field: Query.Field = SearchBy (as given:
//     "Id" searches record ids), Query.Value = the value. With SearchBy
//     empty a number-like value is searched by phone and anything else is
//     not searched.
//   - Query.Types = SearchTypePriority (known types, canonical case, no
//     repeats) or, without a priority, the five types.
//   - Layout values are matched in any case; anything but "new" / "open" /
//     "search" is "none". NoMatch "new" without NewRecordType opens a new
//     Contact.
//   - Mappings: a source missing from the call data resolves to "" (and is
//     written as ""); mappings without a field are skipped. ExternalData
//     (Plan.Updates) applies only to a record the decision opens
//     (Decision.Updates); DefaultNewRowData only to a "new" action.
//   - Decide: several matches with a priority take the highest-priority
//     type present; exactly one record of it is then a single match
//     (Layout.SingleMatch applies: "open" opens it); several of it go to
//     Layout.MultipleMatches with those records as the matches. Records of
//     no priority type, or no priority: Layout.MultipleMatches with all.
//     The same record (type and id) found twice counts once.
//   - Activity log: nil unless SaveActivityLog; Mode "voicecall" or
//     "task"; Direction from the call data's "direction" (inbound,
//     outbound, internal), else inbound when callDialer is "inbound", else
//     outbound.

// CallData is the SPEC 2.7 attributes of a conversation (+ "CLAVESF").
type CallData map[string]string

// Call-data names (SPEC 2.7, seed 002) the planner reads.
const (
	CDSearchBy    = "SearchBy"
	CDSearchData  = "SearchData"
	CDClaveSF     = "CLAVESF"
	CDContactID   = "contactId"
	CDPhoneNumber = "phoneNumber"
	CDCallDialer  = "callDialer"
	CDDirection   = "direction"
)

// Action kinds.
const (
	ActionNone   = "none"
	ActionOpen   = "open"
	ActionNew    = "new"
	ActionSearch = "search"
)

// SearchTypesDefault is the search's record types when no priority is set.
var SearchTypesDefault = []string{TypeContact, TypeAccount, TypeLead, TypeOpportunity, TypeCompany}

// Action is what the agent's screen does.
type Action struct {
	Kind     string            `json:"kind"`               // "none" | "open" | "new" | "search"
	Type     string            `json:"type,omitempty"`     // record type for open/new
	RecordID string            `json:"recordId,omitempty"` // for open
	Defaults map[string]string `json:"defaults,omitempty"` // for new: DefaultNewRowData resolved
}

// Plan is what to do for one call, before searching.
type Plan struct {
	// Search is nil when there is nothing to search by (empty SearchData,
	// e.g. CLAVESF "<contactId>-"): the no-match rule applies.
	Search     *Query            `json:"search"`
	SearchBy   string            `json:"searchBy"`
	SearchData string            `json:"searchData"`
	Priority   []string          `json:"priority"`          // SearchTypePriority
	OnNone     Action            `json:"onNone"`            // Layout.NoMatch (+ defaults)
	OnOne      Action            `json:"onOne"`             // Layout.SingleMatch
	OnMany     Action            `json:"onMany"`            // Layout.MultipleMatches
	Updates    map[string]string `json:"updates,omitempty"` // ExternalData resolved: written on the opened record
	Log        *ActivityPlan     `json:"log"`               // nil when SaveActivityLog is false
}

// ActivityPlan is how the call's activity is logged.
type ActivityPlan struct {
	Mode           string `json:"mode"` // "task" | "voicecall"
	UseDescription bool   `json:"useDescription"`
	Direction      string `json:"direction"` // inbound | outbound | internal
	Subject        string `json:"subject"`
	// From is "browser" when the softphone writes the log through its host
	// (Open CTI saveLog; the call center's SettingActivityLogFrom), empty
	// when the server writes it through the connector.
	From string `json:"from,omitempty"`
}

// SettingActivityLogFrom is the call-center setting naming who writes the
// activity log: "server" (default) or "browser".
const SettingActivityLogFrom = "activityLogFrom"

// LogsFromBrowser reports whether the softphone, not the server, writes
// the call center's activity logs.
func (cc CallCenter) LogsFromBrowser() bool {
	return strings.EqualFold(strings.TrimSpace(cc.Settings[SettingActivityLogFrom]), "browser")
}

// Decision is the action a plan takes on search results.
type Decision struct {
	Action Action `json:"action"`
	// Matches: the opened record, or the candidates of a search / none.
	Matches []Record `json:"matches,omitempty"`
	// Updates: the externalData fields to write, only when Action opens a record.
	Updates map[string]string `json:"updates,omitempty"`
	Reason  string            `json:"reason"`
}

// queryJSON is Query in the API's camelCase.
type queryJSON struct {
	Field string   `json:"field,omitempty"`
	Value string   `json:"value,omitempty"`
	Phone string   `json:"phone,omitempty"`
	Types []string `json:"types,omitempty"`
	Limit int      `json:"limit,omitempty"`
}

type planAlias Plan

// MarshalJSON writes the plan with its query in camelCase.
func (p Plan) MarshalJSON() ([]byte, error) {
	var q *queryJSON
	if p.Search != nil {
		q = &queryJSON{Field: p.Search.Field, Value: p.Search.Value, Phone: p.Search.Phone, Types: p.Search.Types, Limit: p.Search.Limit}
	}
	if p.Priority == nil {
		p.Priority = []string{} // "no priority" is an empty list, not null
	}
	return json.Marshal(struct {
		Search *queryJSON `json:"search"`
		planAlias
	}{q, planAlias(p)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Plan) UnmarshalJSON(b []byte) error {
	var v struct {
		Search *queryJSON `json:"search"`
		*planAlias
	}
	v.planAlias = (*planAlias)(p)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	p.Search = nil
	if len(p.Priority) == 0 {
		p.Priority = nil
	}
	if v.Search != nil {
		p.Search = &Query{Field: v.Search.Field, Value: v.Search.Value, Phone: v.Search.Phone, Types: v.Search.Types, Limit: v.Search.Limit}
	}
	return nil
}

// PlanCall plans the screen pop of a call.
func PlanCall(cd CallData, cc CallCenter) Plan {
	p := Plan{SearchBy: cd[CDSearchBy], Priority: planNormTypes(cc.SearchTypePriority)}
	p.SearchData = planSearchValue(cd)
	if p.SearchData != "" {
		types := p.Priority
		if len(types) == 0 {
			types = SearchTypesDefault
		}
		types = append([]string(nil), types...)
		switch {
		case planIsPhoneField(p.SearchBy) || p.SearchData == cd[CDPhoneNumber]:
			p.Search = &Query{Phone: planNormPhone(p.SearchData), Types: types}
		case p.SearchBy != "":
			p.Search = &Query{Field: p.SearchBy, Value: p.SearchData, Types: types}
		case planLooksLikePhone(p.SearchData):
			p.Search = &Query{Phone: planNormPhone(p.SearchData), Types: types}
		}
	}
	p.OnNone = Action{Kind: ActionNone}
	if strings.EqualFold(cc.Layout.NoMatch, ActionNew) {
		t := planCanonType(cc.Layout.NewRecordType)
		if t == "" {
			t = TypeContact
		}
		p.OnNone = Action{Kind: ActionNew, Type: t, Defaults: planResolve(cc.DefaultNewRowData, cd)}
	}
	p.OnOne = Action{Kind: ActionNone}
	if strings.EqualFold(cc.Layout.SingleMatch, ActionOpen) {
		p.OnOne.Kind = ActionOpen
	}
	p.OnMany = Action{Kind: ActionNone}
	if strings.EqualFold(cc.Layout.MultipleMatches, ActionSearch) {
		p.OnMany.Kind = ActionSearch
	}
	p.Updates = planResolve(cc.ExternalData, cd)
	if cc.SaveActivityLog {
		lp := &ActivityPlan{Mode: ActivityTask, UseDescription: cc.UseTaskDescriptionField, Direction: planDirection(cd)}
		if cc.LogsFromBrowser() {
			lp.From = "browser"
		}
		if strings.EqualFold(cc.ActivityMode, ActivityVoiceCall) {
			lp.Mode = ActivityVoiceCall
		}
		lp.Subject = planSubject(lp.Direction, cd[CDPhoneNumber])
		p.Log = lp
	}
	return p
}

// Decide applies a plan to search results: which action the agent's
// screen gets. Without a search (Plan.Search nil) found is ignored.
func (p Plan) Decide(found []Record) Decision {
	if p.Search == nil {
		return p.none("no search: the search data is empty")
	}
	found = planDedupe(found)
	switch len(found) {
	case 0:
		return p.none("no match")
	case 1:
		return p.one(found[0], "one match")
	}
	n := strconv.Itoa(len(found))
	for _, t := range p.Priority {
		var first, count int
		for i := range found {
			if strings.EqualFold(found[i].Type, t) {
				if count == 0 {
					first = i
				}
				count++
			}
		}
		switch {
		case count == 1:
			return p.one(found[first], n+" matches: the only "+t+" (highest priority type found)")
		case count > 1:
			ms := make([]Record, 0, count)
			for _, r := range found[first:] {
				if strings.EqualFold(r.Type, t) {
					ms = append(ms, r)
				}
			}
			return p.many(ms, n+" matches: "+strconv.Itoa(count)+" of "+t+" (highest priority type found)")
		}
	}
	if len(p.Priority) > 0 {
		return p.many(found, n+" matches, none of a priority type")
	}
	return p.many(found, n+" matches, no priority")
}

func (p Plan) none(reason string) Decision {
	a := p.OnNone
	a.Defaults = planCopyMap(a.Defaults) // the executor adds the sync id to its copy
	return Decision{Action: a, Reason: reason}
}

func (p Plan) one(r Record, reason string) Decision {
	if p.OnOne.Kind != ActionOpen {
		return Decision{Action: Action{Kind: ActionNone}, Matches: []Record{r}, Reason: reason + "; the layout opens nothing"}
	}
	return Decision{Action: Action{Kind: ActionOpen, Type: r.Type, RecordID: r.ID}, Matches: []Record{r},
		Updates: planCopyMap(p.Updates), Reason: reason}
}

func (p Plan) many(rs []Record, reason string) Decision {
	if p.OnMany.Kind != ActionSearch {
		return Decision{Action: Action{Kind: ActionNone}, Matches: rs, Reason: reason + "; the layout opens nothing"}
	}
	return Decision{Action: Action{Kind: ActionSearch}, Matches: rs, Reason: reason}
}

// dedupe drops repeats of the same record (type and id).
func planDedupe(rs []Record) []Record {
	if len(rs) < 2 {
		return rs
	}
	for i := 1; i < len(rs); i++ {
		for j := 0; j < i; j++ {
			if rs[i].ID == rs[j].ID && strings.EqualFold(rs[i].Type, rs[j].Type) {
				return planDedupeSlow(rs)
			}
		}
	}
	return rs
}

func planDedupeSlow(rs []Record) []Record {
	out := make([]Record, 0, len(rs))
next:
	for _, r := range rs {
		for _, o := range out {
			if r.ID == o.ID && strings.EqualFold(r.Type, o.Type) {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// searchValue is the value to search by: SearchData, or the data part of a
// CLAVESF.
func planSearchValue(cd CallData) string {
	contactID := cd[CDContactID]
	if v := cd[CDSearchData]; v != "" {
		if v == cd[CDClaveSF] || (contactID != "" && strings.HasPrefix(v, contactID+"-")) {
			return strings.TrimSpace(ClaveSFData(v, contactID))
		}
		return strings.TrimSpace(v)
	}
	if v := cd[CDClaveSF]; v != "" {
		return strings.TrimSpace(ClaveSFData(v, contactID))
	}
	return ""
}

// ClaveSFData is the data part of a CLAVESF "<contactId>-<data>": after
// contactID and its dash when contactID is given and prefixes it, else
// after a leading UUID (our contact ids) or the first dash (numeric ids).
// A value with no dash is all data.
func ClaveSFData(v, contactID string) string {
	if contactID != "" && strings.HasPrefix(v, contactID+"-") {
		return v[len(contactID)+1:]
	}
	if len(v) >= 37 && v[36] == '-' && planIsUUID(v[:36]) {
		return v[37:]
	}
	if i := strings.IndexByte(v, '-'); i >= 0 {
		return v[i+1:]
	}
	return v
}

func planIsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

var planPhoneWords = []string{"phone", "telefono", "teléfono", "mobile", "movil", "móvil", "celular", "cell"}

// isPhoneField reports whether a SearchBy names a phone field.
func planIsPhoneField(by string) bool {
	if by == "" {
		return false
	}
	l := strings.ToLower(by)
	for _, w := range planPhoneWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// looksLikePhone: an optional +, then 6–15 digits with separators.
func planLooksLikePhone(s string) bool {
	d := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d++
		case c == '+' && i == 0, c == ' ', c == '-', c == '.', c == '(', c == ')':
		default:
			return false
		}
	}
	return d >= 6 && d <= 15
}

// normPhone drops separators (spaces, dashes, dots, parentheses).
func planNormPhone(s string) string {
	if !strings.ContainsAny(s, " -.()") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '-', '.', '(', ')':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// canonType maps a record type in any case to its canonical spelling;
// unknown types are kept as given.
func planCanonType(t string) string {
	t = strings.TrimSpace(t)
	for _, k := range SearchTypesDefault {
		if strings.EqualFold(t, k) {
			return k
		}
	}
	return t
}

// normTypes canonicalises a priority: known types only, no repeats.
func planNormTypes(ts []string) []string {
	if len(ts) == 0 {
		return nil
	}
	out := make([]string, 0, len(ts))
next:
	for _, t := range ts {
		c := planCanonType(t)
		for _, k := range SearchTypesDefault {
			if c == k {
				for _, o := range out {
					if o == c {
						continue next
					}
				}
				out = append(out, c)
				continue next
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// resolve turns mappings into field values from the call data (missing
// sources are "").
func planResolve(ms []Mapping, cd CallData) map[string]string {
	var out map[string]string
	for _, m := range ms {
		if m.Field == "" {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(ms))
		}
		out[m.Field] = cd[m.Source]
	}
	return out
}

func planCopyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func planDirection(cd CallData) string {
	switch d := strings.ToLower(cd[CDDirection]); d {
	case "inbound", "outbound", "internal":
		return d
	}
	if strings.EqualFold(cd[CDCallDialer], "inbound") {
		return "inbound"
	}
	return "outbound"
}

func planSubject(dir, phone string) string {
	s := "Outbound call"
	switch dir {
	case "inbound":
		s = "Inbound call"
	case "internal":
		s = "Internal call"
	}
	if phone == "" {
		return s
	}
	if dir == "inbound" {
		return s + " from " + phone
	}
	return s + " to " + phone
}
