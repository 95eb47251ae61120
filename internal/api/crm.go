package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/problem"
)

// CRMLayout is the softphone layout: what the agent's screen does with no
// match, one match and several.
type CRMLayout struct {
	NoMatch         string `json:"noMatch,omitempty" doc:"none or new (the new-record form of newRecordType)."`
	NewRecordType   string `json:"newRecordType,omitempty" doc:"The record type a new record is, e.g. Contact."`
	SingleMatch     string `json:"singleMatch,omitempty" doc:"none or open."`
	MultipleMatches string `json:"multipleMatches,omitempty" doc:"none or search."`
}

// CRMSection is a section of the Salesforce call-center definition kept as is.
type CRMSection struct {
	Name  string    `json:"name" doc:"1 to 40 letters and digits."`
	Label string    `json:"label,omitempty"`
	Items []CRMItem `json:"items,omitempty"`
}

// CRMItem is an item of a CRMSection; its position is its sortOrder.
type CRMItem struct {
	Name  string `json:"name" doc:"1 to 40 letters and digits."`
	Label string `json:"label,omitempty"`
	Value string `json:"value,omitempty"`
}

// CRMCallCenter is a call center: the softphone's options on one CRM (SPEC 3.7).
type CRMCallCenter struct {
	ID                      string            `json:"id"`
	Name                    string            `json:"name"`
	Connector               string            `json:"connector"`
	InternalName            string            `json:"internalName"`
	DisplayName             string            `json:"displayName"`
	SoftphoneHeight         int               `json:"softphoneHeight"`
	SoftphoneWidth          int               `json:"softphoneWidth"`
	CompatibilityMode       string            `json:"compatibilityMode"`
	SearchTypePriority      []string          `json:"searchTypePriority"`
	ExternalData            string            `json:"externalData"`
	DefaultNewRowData       string            `json:"defaultNewRowData"`
	AllowCategorization     bool              `json:"allowCategorization"`
	AllowClickToDialSearch  bool              `json:"allowClickToDialSearch"`
	UseTaskDescriptionField bool              `json:"useTaskDescriptionField"`
	AllowContactRelease     bool              `json:"allowContactRelease"`
	AutomaticContactRelease int               `json:"automaticContactRelease"`
	SaveActivityLog         bool              `json:"saveActivityLog"`
	AllowTextMessage        bool              `json:"allowTextMessage"`
	CampaignEntityName      string            `json:"campaignEntityName"`
	Layout                  CRMLayout         `json:"layout"`
	ActivityMode            string            `json:"activityMode"`
	Settings                map[string]string `json:"settings,omitempty" doc:"Connector settings; absent for agents."`
	SecretsSet              []string          `json:"secretsSet,omitempty" doc:"The names of the secrets stored (their values are never returned); absent for agents."`
	Extra                   []CRMSection      `json:"extra"`
	DateCreated             Time              `json:"dateCreated"`
	DateModified            Time              `json:"dateModified"`
	SelfURI                 string            `json:"selfUri"`
}

func callCenterOut(cc crm.CallCenter, full bool) CRMCallCenter {
	out := CRMCallCenter{ID: cc.ID, Name: cc.Name, Connector: cc.Connector, InternalName: cc.InternalName, DisplayName: cc.DisplayName,
		SoftphoneHeight: cc.SoftphoneHeight, SoftphoneWidth: cc.SoftphoneWidth, CompatibilityMode: cc.CompatibilityMode,
		SearchTypePriority: append([]string{}, cc.SearchTypePriority...), ExternalData: crm.FormatMappings(cc.ExternalData),
		DefaultNewRowData: crm.FormatMappings(cc.DefaultNewRowData), AllowCategorization: cc.AllowCategorization,
		AllowClickToDialSearch: cc.AllowClickToDialSearch, UseTaskDescriptionField: cc.UseTaskDescriptionField,
		AllowContactRelease: cc.AllowContactRelease, AutomaticContactRelease: cc.AutomaticContactRelease, SaveActivityLog: cc.SaveActivityLog,
		AllowTextMessage: cc.AllowTextMessage, CampaignEntityName: cc.CampaignEntityName, Layout: CRMLayout(cc.Layout),
		ActivityMode: cc.ActivityMode, Extra: []CRMSection{}, DateCreated: Time(cc.Created), DateModified: Time(cc.Modified),
		SelfURI: "/api/v2/crm/callcenters/" + cc.ID}
	if full {
		out.Settings = map[string]string{}
		for k, v := range cc.Settings {
			out.Settings[k] = v
		}
		out.SecretsSet = append([]string{}, cc.SecretsSet...)
	}
	for _, s := range cc.Extra {
		cs := CRMSection{Name: s.Name, Label: s.Label, Items: []CRMItem{}}
		for _, it := range s.Items {
			cs.Items = append(cs.Items, CRMItem(it))
		}
		out.Extra = append(out.Extra, cs)
	}
	return out
}

// CRMCallCenterInput creates or replaces a call center. Omitted options
// take seed 002's values (the defaults); secrets are write-only and merge:
// a name with a value sets it, with "" removes it, names not given stay.
type CRMCallCenterInput struct {
	Name                    string            `json:"name"`
	Connector               string            `json:"connector,omitempty" doc:"builtin (default), salesforce, dynamics or zendesk."`
	InternalName            string            `json:"internalName,omitempty" doc:"reqInternalName: 1 to 40 letters and digits starting with a letter; default from the name."`
	DisplayName             string            `json:"displayName,omitempty" doc:"reqDisplayName; default the name."`
	SoftphoneHeight         *int              `json:"softphoneHeight,omitempty" doc:"240–2560, default 420."`
	SoftphoneWidth          *int              `json:"softphoneWidth,omitempty" doc:"200–1920, default 620."`
	CompatibilityMode       string            `json:"compatibilityMode,omitempty" doc:"Lightning (default), Classic or Classic_and_Lightning."`
	SearchTypePriority      []string          `json:"searchTypePriority,omitempty" doc:"Contact, Account, Lead, Opportunity, Company in priority order; none: several matches go to the multiple-match rule."`
	ExternalData            *string           `json:"externalData,omitempty" doc:"field-source|field-source (seed 002), e.g. neoContactId__c-contactId|neoCrmId__c-crmId; sources are call-data names."`
	DefaultNewRowData       *string           `json:"defaultNewRowData,omitempty" doc:"Same notation: the defaults of a new record."`
	AllowCategorization     *bool             `json:"allowCategorization,omitempty"`
	AllowClickToDialSearch  *bool             `json:"allowClickToDialSearch,omitempty"`
	UseTaskDescriptionField *bool             `json:"useTaskDescriptionField,omitempty"`
	AllowContactRelease     *bool             `json:"allowContactRelease,omitempty"`
	AutomaticContactRelease *int              `json:"automaticContactRelease,omitempty" doc:"Seconds; -1 (default) never."`
	SaveActivityLog         *bool             `json:"saveActivityLog,omitempty"`
	AllowTextMessage        *bool             `json:"allowTextMessage,omitempty"`
	CampaignEntityName      string            `json:"campaignEntityName,omitempty" doc:"Empty (false) or a CRM object name."`
	Layout                  *CRMLayout        `json:"layout,omitempty" doc:"Default: noMatch new Contact, singleMatch open, multipleMatches search."`
	ActivityMode            string            `json:"activityMode,omitempty" doc:"task (default) or voicecall."`
	Settings                map[string]string `json:"settings,omitempty" doc:"Connector settings (instance URL, client id, ...)."`
	Secrets                 map[string]string `json:"secrets,omitempty" writeOnly:"true" doc:"Write-only: stored encrypted, never returned."`
	Extra                   []CRMSection      `json:"extra,omitempty" doc:"Other sections of the XML definition."`
	// Read-only fields a client may echo back from a GET are accepted and ignored.
	ID           string   `json:"id,omitempty" readOnly:"true"`
	SecretsSet   []string `json:"secretsSet,omitempty" readOnly:"true"`
	DateCreated  string   `json:"dateCreated,omitempty" readOnly:"true"`
	DateModified string   `json:"dateModified,omitempty" readOnly:"true"`
	SelfURI      string   `json:"selfUri,omitempty" readOnly:"true"`
}

func (in CRMCallCenterInput) callCenter() (crm.CallCenter, error) {
	cc := crm.Defaults()
	var col problem.Collector
	cc.Name, cc.InternalName, cc.DisplayName = in.Name, in.InternalName, in.DisplayName
	if in.Connector != "" {
		cc.Connector = in.Connector
	}
	if in.CompatibilityMode != "" {
		cc.CompatibilityMode = in.CompatibilityMode
	}
	if in.ActivityMode != "" {
		cc.ActivityMode = in.ActivityMode
	}
	cc.SearchTypePriority = in.SearchTypePriority
	cc.CampaignEntityName = in.CampaignEntityName
	for _, m := range []struct {
		field string
		in    *string
		out   *[]crm.Mapping
	}{{"externalData", in.ExternalData, &cc.ExternalData}, {"defaultNewRowData", in.DefaultNewRowData, &cc.DefaultNewRowData}} {
		if m.in == nil {
			continue
		}
		ms, err := crm.ParseMappings(*m.in)
		if err != nil {
			col.Add(m.field, "%s", err)
		}
		*m.out = ms
	}
	for _, b := range []struct {
		in  *bool
		out *bool
	}{{in.AllowCategorization, &cc.AllowCategorization}, {in.AllowClickToDialSearch, &cc.AllowClickToDialSearch},
		{in.UseTaskDescriptionField, &cc.UseTaskDescriptionField}, {in.AllowContactRelease, &cc.AllowContactRelease},
		{in.SaveActivityLog, &cc.SaveActivityLog}, {in.AllowTextMessage, &cc.AllowTextMessage}} {
		if b.in != nil {
			*b.out = *b.in
		}
	}
	for _, n := range []struct {
		in  *int
		out *int
	}{{in.SoftphoneHeight, &cc.SoftphoneHeight}, {in.SoftphoneWidth, &cc.SoftphoneWidth}, {in.AutomaticContactRelease, &cc.AutomaticContactRelease}} {
		if n.in != nil {
			*n.out = *n.in
		}
	}
	if l := in.Layout; l != nil {
		for _, f := range []struct{ in, out *string }{{&l.NoMatch, &cc.Layout.NoMatch}, {&l.NewRecordType, &cc.Layout.NewRecordType},
			{&l.SingleMatch, &cc.Layout.SingleMatch}, {&l.MultipleMatches, &cc.Layout.MultipleMatches}} {
			if *f.in != "" {
				*f.out = *f.in
			}
		}
	}
	cc.Settings, cc.Secrets = in.Settings, in.Secrets
	for _, s := range in.Extra {
		sec := crm.Section{Name: s.Name, Label: s.Label}
		for _, it := range s.Items {
			sec.Items = append(sec.Items, crm.Item(it))
		}
		cc.Extra = append(cc.Extra, sec)
	}
	if err := col.Err(); err != nil {
		return cc, errors.Join(err, cc.Validate()) // every problem at once
	}
	return cc, nil
}

// CRMCallCenterIDPath is the {callCenterId} path parameter.
type CRMCallCenterIDPath struct {
	CallCenterID string `path:"callCenterId"`
}

// baseURL is where browsers reach this server, from the request (or the
// forwarding proxy's headers).
func baseURL(hctx huma.Context) string {
	scheme := "http"
	if hctx.TLS() != nil {
		scheme = "https"
	}
	if p := hctx.Header("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	host := hctx.Host()
	if h := hctx.Header("X-Forwarded-Host"); h != "" {
		host = strings.TrimSpace(strings.Split(h, ",")[0])
	}
	return scheme + "://" + host
}

// registerCRM registers call centers (options, credentials) and their Salesforce XML.
func (s *Server) registerCRM(api huma.API) {
	const tag = "CRM"
	const base = "/api/v2/crm/callcenters"
	huma.Register(api, op("getCrmCallcenters", http.MethodGet, base, "List call centers", tag, auth.Supervisor),
		func(ctx context.Context, in *struct{ PageParams }) (*Body[*Listing[CRMCallCenter]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			ccs, total, err := s.CRM.ListCallCenters(ctx, crm.Page{Limit: pg.Limit, Offset: pg.Offset})
			if err != nil {
				return nil, err
			}
			out := make([]CRMCallCenter, len(ccs))
			for i, cc := range ccs {
				out[i] = callCenterOut(cc, true)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postCrmCallcenters", http.MethodPost, base, "Create a call center", tag, auth.Admin),
		func(ctx context.Context, in *struct{ Body CRMCallCenterInput }) (*Body[CRMCallCenter], error) {
			cc, err := in.Body.callCenter()
			if err != nil {
				return nil, err
			}
			created, err := s.CRM.CreateCallCenter(ctx, cc)
			if err != nil {
				return nil, err
			}
			return body(callCenterOut(created, true)), nil
		})
	huma.Register(api, op("getCrmCallcenter", http.MethodGet, base+"/{callCenterId}",
		"Get a call center (agents: without settings and secret names)", tag, auth.Agent),
		func(ctx context.Context, in *CRMCallCenterIDPath) (*Body[CRMCallCenter], error) {
			if err := needUUID("callCenterId", in.CallCenterID); err != nil {
				return nil, err
			}
			cc, err := s.CRM.GetCallCenter(ctx, in.CallCenterID)
			if err != nil {
				return nil, err
			}
			return body(callCenterOut(cc, principal(ctx).Has(auth.Supervisor))), nil
		})
	huma.Register(api, op("putCrmCallcenter", http.MethodPut, base+"/{callCenterId}", "Replace a call center", tag, auth.Admin),
		func(ctx context.Context, in *struct {
			CRMCallCenterIDPath
			Body CRMCallCenterInput
		}) (*Body[CRMCallCenter], error) {
			if err := needUUID("callCenterId", in.CallCenterID); err != nil {
				return nil, err
			}
			if _, err := s.CRM.GetCallCenter(ctx, in.CallCenterID); err != nil {
				return nil, err
			}
			cc, err := in.Body.callCenter()
			if err != nil {
				return nil, err
			}
			up, err := s.CRM.UpdateCallCenter(ctx, in.CallCenterID, cc)
			if err != nil {
				return nil, err
			}
			return body(callCenterOut(up, true)), nil
		})
	huma.Register(api, withStatus(op("deleteCrmCallcenter", http.MethodDelete, base+"/{callCenterId}", "Delete a call center", tag, auth.Admin), 204),
		func(ctx context.Context, in *CRMCallCenterIDPath) (*struct{}, error) {
			if err := needUUID("callCenterId", in.CallCenterID); err != nil {
				return nil, err
			}
			return nil, s.CRM.DeleteCallCenter(ctx, in.CallCenterID)
		})

	// The Salesforce call-center definition.
	huma.Register(api, op("getCrmCallcenterXml", http.MethodGet, base+"/{callCenterId}/xml",
		"The call center as a Salesforce call-center definition (XML)", tag, auth.Supervisor),
		func(ctx context.Context, in *struct {
			CRMCallCenterIDPath
			BaseURL string `query:"baseUrl" doc:"The base URL of reqAdapterUrl (<baseUrl>/softphone/); default: this request's."`
		}) (*huma.StreamResponse, error) {
			if err := needUUID("callCenterId", in.CallCenterID); err != nil {
				return nil, err
			}
			cc, err := s.CRM.GetCallCenter(ctx, in.CallCenterID)
			if err != nil {
				return nil, err
			}
			if in.BaseURL != "" && !strings.HasPrefix(in.BaseURL, "https://") && !strings.HasPrefix(in.BaseURL, "http://") {
				return nil, problem.Invalidf("baseUrl", "%q is not an http(s) URL", in.BaseURL)
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				bu := in.BaseURL
				if bu == "" {
					bu = baseURL(hctx)
				}
				out, err := s.CRM.ExportXML(cc, bu)
				if err != nil {
					logFrom(ctx).Error("call-center export failed", "callCenterId", cc.ID, "err", err)
					hctx.SetStatus(http.StatusInternalServerError)
					return
				}
				hctx.SetHeader("Content-Type", "application/xml; charset=utf-8")
				hctx.SetHeader("Content-Disposition", `attachment; filename="`+cc.InternalName+`.xml"`)
				hctx.SetStatus(http.StatusOK)
				hctx.BodyWriter().Write(out)
			}}, nil
		})
	putXML := op("putCrmCallcenterXml", http.MethodPut, base+"/{callCenterId}/xml",
		"Replace a call center's options from a Salesforce call-center definition (name, connector, layout, settings and secrets stay)", tag, auth.Admin)
	putXML.MaxBodyBytes = crm.MaxXMLBytes
	huma.Register(api, putXML,
		func(ctx context.Context, in *struct {
			CRMCallCenterIDPath
			RawBody []byte `contentType:"application/xml"`
		}) (*Body[CRMCallCenter], error) {
			if err := needUUID("callCenterId", in.CallCenterID); err != nil {
				return nil, err
			}
			cc, err := s.CRM.ImportXML(ctx, in.CallCenterID, in.RawBody)
			if err != nil {
				return nil, err
			}
			return body(callCenterOut(cc, true)), nil
		})
	importOp := op("postCrmCallcentersImport", http.MethodPost, base+"/import",
		"Create a call center from a Salesforce call-center definition (XML)", tag, auth.Admin)
	importOp.MaxBodyBytes = crm.MaxXMLBytes
	huma.Register(api, importOp,
		func(ctx context.Context, in *struct {
			Name      string `query:"name" doc:"The call center's name; default reqDisplayName."`
			Connector string `query:"connector" enum:"builtin,salesforce,dynamics,zendesk," doc:"Default salesforce."`
			RawBody   []byte `contentType:"application/xml"`
		}) (*Body[CRMCallCenter], error) {
			cc, err := crm.ParseXML(in.RawBody)
			if err != nil {
				return nil, err
			}
			if in.Name != "" {
				cc.Name = in.Name
			}
			if in.Connector != "" {
				cc.Connector = in.Connector
			}
			created, err := s.CRM.CreateCallCenter(ctx, cc)
			if err != nil {
				return nil, err
			}
			return body(callCenterOut(created, true)), nil
		})
}
