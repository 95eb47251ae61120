package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// This file keeps call centers (SPEC 3.7): the options of the softphone on
// one CRM connector, as seed 002's Salesforce call-center definition has
// them, plus the connector's settings and secrets. xml.go reads and writes
// the definition.

// Connectors a call center may name.
const (
	ConnectorBuiltin    = "builtin"
	ConnectorSalesforce = "salesforce"
	ConnectorDynamics   = "dynamics"
	ConnectorZendesk    = "zendesk"
)

// Connectors are the known connector names.
var Connectors = []string{ConnectorBuiltin, ConnectorSalesforce, ConnectorDynamics, ConnectorZendesk}

// RecordTypes are the record types searchTypePriority may name.
var RecordTypes = []string{TypeContact, TypeAccount, TypeLead, TypeOpportunity, TypeCompany}

// MappingSources are the call-data names (SPEC 2.7, seed 002 "DATOS DE
// NEOTEL DISPONIBLES", plus CLAVESF) a Mapping may take its value from.
// "callCampaing" is spelled as the seed spells it.
var MappingSources = []string{"callCampaing", "callDialer", "callId", "callQueue", "callReason", "phoneNumber",
	"contactBaseId", "campaignCrmId", "campaignBaseId", "userOutCampaign", "crmId", "contactId", "crmKey",
	"SearchBy", "SearchData", "CLAVESF"}

// Compatibility modes (reqSalesforceCompatibilityMode).
var CompatibilityModes = []string{"Lightning", "Classic", "Classic_and_Lightning"}

// Activity modes (SPEC 3.9c).
const (
	ActivityTask      = "task"
	ActivityVoiceCall = "voicecall"
)

// Softphone size limits (Lightning).
const (
	MinSoftphoneHeight, MaxSoftphoneHeight = 240, 2560
	MinSoftphoneWidth, MaxSoftphoneWidth   = 200, 1920
)

// Limits of the free-form parts.
const (
	MaxSettings     = 100
	MaxSecrets      = 20
	MaxSecretLength = 10000
	MaxSettingValue = 4000
	MaxSections     = 50
	MaxItems        = 200
	MaxLabel        = 1000
	MaxValue        = 10000
)

// Mapping is a CRM field filled from a call-data name: seed 002's
// "neoContactId__c-contactId".
type Mapping struct {
	Field  string `json:"field"`
	Source string `json:"source"`
}

// Layout is the softphone layout: what the agent's screen does with no
// match, one match and several.
type Layout struct {
	NoMatch         string `json:"noMatch"`         // "none" | "new" (new-record form of NewRecordType)
	NewRecordType   string `json:"newRecordType"`   // e.g. "Contact"
	SingleMatch     string `json:"singleMatch"`     // "none" | "open"
	MultipleMatches string `json:"multipleMatches"` // "none" | "search"
}

// Section is a section of the call-center definition this program does not
// interpret, kept for the round trip (or the extra items of a known one).
type Section struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Items []Item `json:"items"`
}

// Item is one item of a Section; the position is its sortOrder.
type Item struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Value string `json:"value"`
}

// CallCenter is the options of the softphone on one CRM (SPEC 3.7). Its
// JSON form is the body of v2.crm.callcenters.{id}; it never carries secrets.
type CallCenter struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Connector string `json:"connector"` // "builtin" | "salesforce" | "dynamics" | "zendesk"
	// reqGeneralInfo
	InternalName      string `json:"internalName"`
	DisplayName       string `json:"displayName"`
	SoftphoneHeight   int    `json:"softphoneHeight"`
	SoftphoneWidth    int    `json:"softphoneWidth"`
	CompatibilityMode string `json:"compatibilityMode"` // Lightning | Classic | Classic_and_Lightning
	// the options section (seed 002 "neotelConfigOptions")
	SearchTypePriority      []string  `json:"searchTypePriority"` // Contact|Account|Lead|Opportunity|Company; empty = none
	ExternalData            []Mapping `json:"externalData"`
	DefaultNewRowData       []Mapping `json:"defaultNewRowData"`
	AllowCategorization     bool      `json:"allowCategorization"`
	AllowClickToDialSearch  bool      `json:"allowClickToDialSearch"`
	UseTaskDescriptionField bool      `json:"useTaskDescriptionField"`
	AllowContactRelease     bool      `json:"allowContactRelease"`
	AutomaticContactRelease int       `json:"automaticContactRelease"` // seconds, -1 never
	SaveActivityLog         bool      `json:"saveActivityLog"`
	AllowTextMessage        bool      `json:"allowTextMessage"`
	CampaignEntityName      string    `json:"campaignEntityName"` // "" (false) or a CRM object name
	Layout                  Layout    `json:"layout"`
	ActivityMode            string    `json:"activityMode"` // "task" (default) | "voicecall" (SPEC 3.9c)
	// Settings are the connector's settings (instance URL, auth flow, client id, user, ...).
	Settings map[string]string `json:"settings"`
	// Secrets are write-only: stored sealed (secret.Box), never returned or
	// logged. On update a name with an empty value removes that secret;
	// names not given keep theirs.
	Secrets map[string]string `json:"-"`
	// SecretsSet names the secrets stored (read-only).
	SecretsSet []string `json:"secretsSet"`
	// Extra are the other sections/items of the XML definition, kept for the round trip.
	Extra    []Section `json:"extra"`
	Created  time.Time `json:"dateCreated"`
	Modified time.Time `json:"dateModified"`

	memo xmlMemo // how known items were written in the imported XML
}

// CallCenterChange is the body of v2.crm.callcenters.{id}.
type CallCenterChange struct {
	CallCenter
	Deleted bool `json:"deleted,omitempty"`
}

// Page selects a slice of a listing.
type Page struct {
	Limit, Offset int
}

// Defaults are seed 002's options on the built-in connector: a call center
// created with only a name gets them.
func Defaults() CallCenter {
	return CallCenter{
		Connector: ConnectorBuiltin, SoftphoneHeight: 420, SoftphoneWidth: 620, CompatibilityMode: "Lightning",
		ExternalData: []Mapping{{"neoContactId__c", "contactId"}, {"neoBaseId__c", "contactBaseId"}, {"neoCrmId__c", "crmId"}},
		DefaultNewRowData: []Mapping{{"neoContactId__c", "contactId"}, {"neoBaseId__c", "contactBaseId"}, {"neoCrmId__c", "crmId"},
			{"Phone", "phoneNumber"}},
		AllowCategorization: true, AllowClickToDialSearch: true, UseTaskDescriptionField: true, AllowContactRelease: true,
		AutomaticContactRelease: -1, SaveActivityLog: true,
		Layout:       Layout{NoMatch: "new", NewRecordType: TypeContact, SingleMatch: "open", MultipleMatches: "search"},
		ActivityMode: ActivityTask,
	}
}

func callCenterTopic(id string) string { return "v2.crm.callcenters." + id }

// ParseMappings reads seed 002's notation "field-source|field-source|":
// empty entries are ignored and each entry splits on its last '-'.
func ParseMappings(s string) ([]Mapping, error) {
	var out []Mapping
	seen := map[string]bool{}
	for _, e := range strings.Split(s, "|") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		i := strings.LastIndex(e, "-")
		if i < 0 {
			return nil, fmt.Errorf("%q is not field-source", e)
		}
		m := Mapping{Field: strings.TrimSpace(e[:i]), Source: strings.TrimSpace(e[i+1:])}
		if err := checkMapping(m); err != nil {
			return nil, fmt.Errorf("%q: %s", e, err)
		}
		if seen[m.Field] {
			return nil, fmt.Errorf("field %s is mapped twice", m.Field)
		}
		seen[m.Field] = true
		out = append(out, m)
	}
	return out, nil
}

// FormatMappings writes mappings in seed 002's notation (no trailing '|').
func FormatMappings(ms []Mapping) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Field + "-" + m.Source
	}
	return strings.Join(parts, "|")
}

func checkMapping(m Mapping) error {
	switch {
	case m.Field == "":
		return errors.New("the field is empty")
	case len(m.Field) > 100 || strings.ContainsAny(m.Field, "| \t\r\n"):
		return fmt.Errorf("field %q must be at most 100 characters without spaces or '|'", m.Field)
	case !slices.Contains(MappingSources, m.Source):
		return fmt.Errorf("%q is not a call-data name (%s)", m.Source, strings.Join(MappingSources, ", "))
	}
	return nil
}

var (
	internalNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,39}$`)
	objectNameRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)
	secretNameRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	xmlNameRE      = regexp.MustCompile(`^[A-Za-z0-9]{1,40}$`)
)

// reservedNames may not name a section or an item (Salesforce).
var reservedNames = []string{"label", "sortOrder", "internalNameLabel", "displayNameLabel"}

// checkXMLName checks a section or item name: ≤ 40 alphanumerics, not reserved.
func checkXMLName(n string) error {
	if !xmlNameRE.MatchString(n) {
		return fmt.Errorf("name %q must be 1 to 40 letters and digits", n)
	}
	for _, r := range reservedNames {
		if strings.EqualFold(n, r) {
			return fmt.Errorf("name %q is reserved", n)
		}
	}
	return nil
}

func checkLabel(l string) error {
	if utf8.RuneCountInString(l) > MaxLabel {
		return fmt.Errorf("label must be at most %d characters", MaxLabel)
	}
	return nil
}

// checkPriority checks searchTypePriority entries.
func checkPriority(ps []string) error {
	seen := map[string]bool{}
	for _, p := range ps {
		if !slices.Contains(RecordTypes, p) {
			return fmt.Errorf("%q is not one of %s", p, strings.Join(RecordTypes, ", "))
		}
		if seen[p] {
			return fmt.Errorf("%s is named twice", p)
		}
		seen[p] = true
	}
	return nil
}

// InternalNameFor derives a reqInternalName from a name: its letters and
// digits, starting with a letter, at most 40.
func InternalNameFor(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "CC" + s
	}
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// validate checks everything that needs no lookup and fills derived values.
func (cc *CallCenter) validate(col *problem.Collector) {
	cc.Name = strings.TrimSpace(cc.Name)
	switch {
	case cc.Name == "":
		col.Add("name", "is required")
	case utf8.RuneCountInString(cc.Name) > 200:
		col.Add("name", "must be at most 200 characters")
	}
	if !slices.Contains(Connectors, cc.Connector) {
		col.Add("connector", "must be one of %s, got %q", strings.Join(Connectors, ", "), cc.Connector)
	}
	cc.InternalName = strings.TrimSpace(cc.InternalName)
	if cc.InternalName == "" && cc.Name != "" {
		cc.InternalName = InternalNameFor(cc.Name)
	}
	if cc.InternalName != "" && !internalNameRE.MatchString(cc.InternalName) {
		col.Add("internalName", "%q must be 1 to 40 letters and digits starting with a letter", cc.InternalName)
	}
	cc.DisplayName = strings.TrimSpace(cc.DisplayName)
	if cc.DisplayName == "" {
		cc.DisplayName = cc.Name
	}
	if utf8.RuneCountInString(cc.DisplayName) > MaxLabel {
		col.Add("displayName", "must be at most %d characters", MaxLabel)
	}
	if cc.SoftphoneHeight < MinSoftphoneHeight || cc.SoftphoneHeight > MaxSoftphoneHeight {
		col.Add("softphoneHeight", "must be between %d and %d pixels, got %d", MinSoftphoneHeight, MaxSoftphoneHeight, cc.SoftphoneHeight)
	}
	if cc.SoftphoneWidth < MinSoftphoneWidth || cc.SoftphoneWidth > MaxSoftphoneWidth {
		col.Add("softphoneWidth", "must be between %d and %d pixels, got %d", MinSoftphoneWidth, MaxSoftphoneWidth, cc.SoftphoneWidth)
	}
	if !slices.Contains(CompatibilityModes, cc.CompatibilityMode) {
		col.Add("compatibilityMode", "must be one of %s, got %q", strings.Join(CompatibilityModes, ", "), cc.CompatibilityMode)
	}
	for i, p := range cc.SearchTypePriority {
		cc.SearchTypePriority[i] = strings.TrimSpace(p)
	}
	if err := checkPriority(cc.SearchTypePriority); err != nil {
		col.Add("searchTypePriority", "%s", err)
	}
	for _, ms := range []struct {
		field string
		list  []Mapping
	}{{"externalData", cc.ExternalData}, {"defaultNewRowData", cc.DefaultNewRowData}} {
		seen := map[string]bool{}
		for i, m := range ms.list {
			f := ms.field + "[" + strconv.Itoa(i) + "]"
			if err := checkMapping(m); err != nil {
				col.Add(f, "%s", err)
			} else if seen[m.Field] {
				col.Add(f, "field %s is mapped twice", m.Field)
			}
			seen[m.Field] = true
		}
	}
	if cc.AutomaticContactRelease < -1 {
		col.Add("automaticContactRelease", "must be -1 (never) or a number of seconds, got %d", cc.AutomaticContactRelease)
	}
	cc.CampaignEntityName = strings.TrimSpace(cc.CampaignEntityName)
	if strings.EqualFold(cc.CampaignEntityName, "false") {
		cc.CampaignEntityName = ""
	}
	if cc.CampaignEntityName != "" && (!objectNameRE.MatchString(cc.CampaignEntityName) || strings.EqualFold(cc.CampaignEntityName, "true")) {
		col.Add("campaignEntityName", "%q must be empty (false) or a CRM object name", cc.CampaignEntityName)
	}
	l := &cc.Layout
	if l.NoMatch != "none" && l.NoMatch != "new" {
		col.Add("layout.noMatch", "must be none or new, got %q", l.NoMatch)
	}
	if l.NoMatch == "new" && !objectNameRE.MatchString(l.NewRecordType) {
		col.Add("layout.newRecordType", "%q is not a record type: a new record needs one, e.g. Contact", l.NewRecordType)
	}
	if l.NewRecordType != "" && !objectNameRE.MatchString(l.NewRecordType) {
		col.Add("layout.newRecordType", "%q is not a record type", l.NewRecordType)
	}
	if l.SingleMatch != "none" && l.SingleMatch != "open" {
		col.Add("layout.singleMatch", "must be none or open, got %q", l.SingleMatch)
	}
	if l.MultipleMatches != "none" && l.MultipleMatches != "search" {
		col.Add("layout.multipleMatches", "must be none or search, got %q", l.MultipleMatches)
	}
	if cc.ActivityMode == "" {
		cc.ActivityMode = ActivityTask
	}
	if cc.ActivityMode != ActivityTask && cc.ActivityMode != ActivityVoiceCall {
		col.Add("activityMode", "must be task or voicecall, got %q", cc.ActivityMode)
	}
	if len(cc.Settings) > MaxSettings {
		col.Add("settings", "at most %d settings, got %d", MaxSettings, len(cc.Settings))
	}
	for k, v := range cc.Settings {
		if k == "" || len(k) > 100 {
			col.Add("settings", "setting names must be 1 to 100 characters, got %q", k)
		}
		if len(v) > MaxSettingValue {
			col.Add("settings."+k, "must be at most %d characters", MaxSettingValue)
		}
	}
	if len(cc.Secrets) > MaxSecrets {
		col.Add("secrets", "at most %d secrets, got %d", MaxSecrets, len(cc.Secrets))
	}
	for k, v := range cc.Secrets {
		if !secretNameRE.MatchString(k) {
			col.Add("secrets", "secret names must be 1 to 64 letters, digits or _ starting with a letter, got %q", k)
		}
		if len(v) > MaxSecretLength {
			col.Add("secrets."+k, "must be at most %d characters", MaxSecretLength)
		}
	}
	cc.validateExtra(col)
}

// validateExtra checks the kept XML sections.
func (cc *CallCenter) validateExtra(col *problem.Collector) {
	if len(cc.Extra) > MaxSections {
		col.Add("extra", "at most %d sections, got %d", MaxSections, len(cc.Extra))
	}
	secs := map[string]bool{}
	for i, s := range cc.Extra {
		f := "extra[" + strconv.Itoa(i) + "]"
		if err := checkXMLName(s.Name); err != nil {
			col.Add(f+".name", "%s", err)
		} else if secs[s.Name] {
			col.Add(f+".name", "section %s is named twice", s.Name)
		}
		secs[s.Name] = true
		if err := checkLabel(s.Label); err != nil {
			col.Add(f+".label", "%s", err)
		}
		if len(s.Items) > MaxItems {
			col.Add(f+".items", "at most %d items, got %d", MaxItems, len(s.Items))
		}
		items := map[string]bool{}
		for _, k := range knownItems {
			if k.section == s.Name {
				items[k.name] = true // a known section's extra items may not shadow its known ones
			}
		}
		for j, it := range s.Items {
			g := f + ".items[" + strconv.Itoa(j) + "]"
			if err := checkXMLName(it.Name); err != nil {
				col.Add(g+".name", "%s", err)
			} else if items[it.Name] {
				col.Add(g+".name", "item %s is named twice in section %s", it.Name, s.Name)
			}
			items[it.Name] = true
			if err := checkLabel(it.Label); err != nil {
				col.Add(g+".label", "%s", err)
			}
			if utf8.RuneCountInString(it.Value) > MaxValue {
				col.Add(g+".value", "must be at most %d characters", MaxValue)
			}
		}
	}
}

// clone copies what validation rewrites, so the caller's value is untouched.
func (cc *CallCenter) clone() {
	cc.SearchTypePriority = slices.Clone(cc.SearchTypePriority)
	cc.ExternalData = slices.Clone(cc.ExternalData)
	cc.DefaultNewRowData = slices.Clone(cc.DefaultNewRowData)
	ex := slices.Clone(cc.Extra)
	for i := range ex {
		ex[i].Items = slices.Clone(ex[i].Items)
	}
	cc.Extra = ex
}

// normalize turns nil slices and maps into empty ones for the JSON forms.
func (cc *CallCenter) normalize() {
	if cc.SearchTypePriority == nil {
		cc.SearchTypePriority = []string{}
	}
	if cc.ExternalData == nil {
		cc.ExternalData = []Mapping{}
	}
	if cc.DefaultNewRowData == nil {
		cc.DefaultNewRowData = []Mapping{}
	}
	if cc.Settings == nil {
		cc.Settings = map[string]string{}
	}
	if cc.SecretsSet == nil {
		cc.SecretsSet = []string{}
	}
	if cc.Extra == nil {
		cc.Extra = []Section{}
	}
	for i := range cc.Extra {
		if cc.Extra[i].Items == nil {
			cc.Extra[i].Items = []Item{}
		}
	}
}

// Validate reports what is wrong with cc without storing it (the name's
// uniqueness excepted), each problem naming its field.
func (cc CallCenter) Validate() error { return check(&cc) }

// check validates cc completely (nothing written).
func check(cc *CallCenter) error {
	cc.clone()
	var col problem.Collector
	cc.validate(&col)
	cc.normalize()
	return col.Err()
}

// stored is the options column: the call center without its id, name,
// connector, secrets and dates (kept in their own columns), and the memo of
// the imported XML.
type stored struct {
	CallCenter
	XML xmlMemo `json:"xml"`
}

func optionsJSON(cc CallCenter) (string, error) {
	cc.Secrets, cc.SecretsSet = nil, nil
	b, err := json.Marshal(stored{CallCenter: cc, XML: cc.memo})
	return string(b), err
}

func (s *Service) now() time.Time { return store.Time(store.Millis(s.clock.Now())) }

// sealAll merges secrets into the sealed map: an empty value removes a name.
func (s *Service) sealAll(sealed map[string]string, secrets map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range sealed {
		out[k] = v
	}
	if len(secrets) > 0 && s.box == nil {
		return nil, errors.New("crm: no secret box to seal call-center secrets")
	}
	for k, v := range secrets {
		if v == "" {
			delete(out, k)
			continue
		}
		sv, err := s.box.Seal(v)
		if err != nil {
			return nil, err
		}
		out[k] = sv
	}
	if len(out) > MaxSecrets {
		return nil, problem.Invalidf("secrets", "at most %d secrets, got %d", MaxSecrets, len(out))
	}
	return out, nil
}

func secretNames(sealed map[string]string) []string {
	out := make([]string, 0, len(sealed))
	for k := range sealed {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func uniqueName(ctx context.Context, tx *store.Tx, cc CallCenter) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_callcenters WHERE lower(name) = lower($1) AND id <> $2`, cc.Name, cc.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return problem.Duplicatef("name", "a call center named %q already exists", cc.Name)
	}
	return nil
}

// CreateCallCenter adds a call center with the options in cc, all
// validated (a zero option is not replaced by its default: start from
// Defaults). Secrets are sealed; the result names them in SecretsSet.
func (s *Service) CreateCallCenter(ctx context.Context, cc CallCenter) (CallCenter, error) {
	cc.ID = ""
	if err := check(&cc); err != nil {
		return CallCenter{}, err
	}
	sealed, err := s.sealAll(nil, cc.Secrets)
	if err != nil {
		return CallCenter{}, err
	}
	cc.ID = uuid.NewString()
	cc.Created = s.now()
	cc.Modified = cc.Created
	cc.Secrets = nil
	cc.SecretsSet = secretNames(sealed)
	opts, err := optionsJSON(cc)
	if err != nil {
		return CallCenter{}, err
	}
	sj, _ := json.Marshal(sealed)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := uniqueName(ctx, tx, cc); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO crm_callcenters (id, name, connector, options, secrets, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`, cc.ID, cc.Name, cc.Connector, opts, string(sj), store.Millis(cc.Created))
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a call center named %q already exists", cc.Name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, callCenterTopic(cc.ID), CallCenterChange{CallCenter: cc})
	})
	if err != nil {
		return CallCenter{}, err
	}
	return cc, nil
}

// UpdateCallCenter replaces a call center's options. Secrets merge: a name
// with a value sets it, a name with "" removes it, names not given stay.
func (s *Service) UpdateCallCenter(ctx context.Context, id string, cc CallCenter) (CallCenter, error) {
	return s.update(ctx, id, func(old CallCenter) (CallCenter, error) {
		if cc.memo.empty() {
			cc.memo = old.memo
		}
		return cc, nil
	})
}

// update reads the call center, lets change build the new one and writes it.
func (s *Service) update(ctx context.Context, id string, change func(old CallCenter) (CallCenter, error)) (CallCenter, error) {
	var out CallCenter
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, sealed, err := getCallCenter(ctx, tx, `id = $1`, id)
		if err != nil {
			return err
		}
		cc, err := change(old)
		if err != nil {
			return err
		}
		cc.ID = id
		if err := check(&cc); err != nil {
			return err
		}
		sealed, err = s.sealAll(sealed, cc.Secrets)
		if err != nil {
			return err
		}
		cc.Created = old.Created
		cc.Modified = s.now()
		cc.Secrets = nil
		cc.SecretsSet = secretNames(sealed)
		opts, err := optionsJSON(cc)
		if err != nil {
			return err
		}
		sj, _ := json.Marshal(sealed)
		if err := uniqueName(ctx, tx, cc); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE crm_callcenters SET name = $1, connector = $2, options = $3, secrets = $4, modified_at = $5
			WHERE id = $6`, cc.Name, cc.Connector, opts, string(sj), store.Millis(cc.Modified), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a call center named %q already exists", cc.Name)
		}
		if err != nil {
			return err
		}
		out = cc
		return s.events.Add(ctx, tx, callCenterTopic(id), CallCenterChange{CallCenter: cc})
	})
	if err != nil {
		return CallCenter{}, err
	}
	return out, nil
}

// DeleteCallCenter removes a call center and its secrets.
func (s *Service) DeleteCallCenter(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		cc, _, err := getCallCenter(ctx, tx, `id = $1`, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM crm_callcenters WHERE id = $1`, id); err != nil {
			return err
		}
		cc.Modified = s.now()
		return s.events.Add(ctx, tx, callCenterTopic(id), CallCenterChange{CallCenter: cc, Deleted: true})
	})
}

const callCenterColumns = `id, name, connector, options, secrets, created_at, modified_at`

func scanCallCenter(row interface{ Scan(...any) error }) (CallCenter, map[string]string, error) {
	var id, name, conn, opts, secrets string
	var created, modified int64
	if err := row.Scan(&id, &name, &conn, &opts, &secrets, &created, &modified); err != nil {
		return CallCenter{}, nil, err
	}
	var st stored
	if err := json.Unmarshal([]byte(opts), &st); err != nil {
		return CallCenter{}, nil, fmt.Errorf("call center %s: options: %w", id, err)
	}
	sealed := map[string]string{}
	if err := json.Unmarshal([]byte(secrets), &sealed); err != nil {
		return CallCenter{}, nil, fmt.Errorf("call center %s: secrets: %w", id, err)
	}
	cc := st.CallCenter
	cc.memo = st.XML
	cc.ID, cc.Name, cc.Connector = id, name, conn
	cc.Created, cc.Modified = store.Time(created), store.Time(modified)
	cc.Secrets = nil
	cc.SecretsSet = secretNames(sealed)
	cc.normalize()
	return cc, sealed, nil
}

func getCallCenter(ctx context.Context, q store.Querier, where string, arg any) (CallCenter, map[string]string, error) {
	cc, sealed, err := scanCallCenter(q.QueryRowContext(ctx, `SELECT `+callCenterColumns+` FROM crm_callcenters WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return CallCenter{}, nil, problem.NotFoundf("call center %s not found", arg)
	}
	return cc, sealed, err
}

// GetCallCenter returns a call center by id (without secret values).
func (s *Service) GetCallCenter(ctx context.Context, id string) (CallCenter, error) {
	cc, _, err := getCallCenter(ctx, s.db, `id = $1`, id)
	return cc, err
}

// CallCenterByName returns a call center by name, ignoring case.
func (s *Service) CallCenterByName(ctx context.Context, name string) (CallCenter, error) {
	cc, _, err := getCallCenter(ctx, s.db, `lower(name) = lower($1)`, name)
	return cc, err
}

// ListCallCenters returns a page of call centers sorted by name, and the total.
func (s *Service) ListCallCenters(ctx context.Context, p Page) ([]CallCenter, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_callcenters`).Scan(&total); err != nil {
		return nil, 0, err
	}
	if p.Limit <= 0 {
		p.Limit = 25
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+callCenterColumns+` FROM crm_callcenters ORDER BY lower(name), id LIMIT $1 OFFSET $2`, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []CallCenter{}
	for rows.Next() {
		cc, _, err := scanCallCenter(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, cc)
	}
	return out, total, rows.Err()
}

// Secret returns a call center's secret in the clear, for its connector; a
// NotFound problem when the call center or the secret does not exist.
func (s *Service) Secret(ctx context.Context, id, name string) (string, error) {
	_, sealed, err := getCallCenter(ctx, s.db, `id = $1`, id)
	if err != nil {
		return "", err
	}
	v, ok := sealed[name]
	if !ok {
		return "", problem.NotFoundf("call center %s has no secret %s", id, name)
	}
	if s.box == nil {
		return "", errors.New("crm: no secret box to open call-center secrets")
	}
	return s.box.Open(v)
}
