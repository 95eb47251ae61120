package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/contact"
)

// MaxImportBytes bounds the body of a CSV import, the one route that takes
// more than MaxBodyBytes.
const MaxImportBytes = contact.MaxImportBytes

// bodyLimit is the most the outer handler reads of a request's body: CSV
// imports may send MaxImportBytes, every other route MaxBodyBytes.
func bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v2/outbound/") && strings.HasSuffix(r.URL.Path, "/import") {
		return MaxImportBytes
	}
	if isPromptUpload(r) {
		return MaxPromptBytes // prompts.go
	}
	return MaxBodyBytes
}

const outboundTag = "Outbound contacts"

// OutboundField is one column of a contact schema.
type OutboundField struct {
	Name  string `json:"name" doc:"^[A-Za-z][A-Za-z0-9_]{0,63}$, unique case-insensitively."`
	Label string `json:"label,omitempty" doc:"Display name; CSV headers may use it instead of the name."`
	Type  string `json:"type" doc:"text, number, date (YYYY-MM-DD), email, phone or Clave_1 (the key; exactly one)."`
}

// OutboundSubcategory is a leaf of the disposition tree.
type OutboundSubcategory struct {
	ID      string `json:"id,omitempty" doc:"Assigned by the server when absent, kept when present."`
	Name    string `json:"name"`
	Outcome string `json:"outcome" doc:"final, retry, callback or dnc: what the dialer does next."`
}

// OutboundDisposition is a category with its subcategories.
type OutboundDisposition struct {
	ID            string                `json:"id,omitempty" doc:"Assigned by the server when absent, kept when present."`
	Name          string                `json:"name"`
	Subcategories []OutboundSubcategory `json:"subcategories" required:"false"`
}

// ContactSchema describes the contacts of its lists.
type ContactSchema struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"`
	Fields       []OutboundField       `json:"fields"`
	MatchBy      string                `json:"matchBy"`
	Dispositions []OutboundDisposition `json:"dispositions"`
	DateCreated  Time                  `json:"dateCreated"`
	DateModified Time                  `json:"dateModified"`
	SelfURI      string                `json:"selfUri"`
}

// ContactSchemaInput creates or replaces a schema.
type ContactSchemaInput struct {
	Name         string                `json:"name" maxLength:"200"`
	Fields       []OutboundField       `json:"fields" maxItems:"100"`
	MatchBy      string                `json:"matchBy,omitempty" doc:"key (default) or phone: how find-or-create looks contacts up."`
	Dispositions []OutboundDisposition `json:"dispositions,omitempty"`
	// Read-only fields a client may echo back from a GET are accepted and ignored.
	ID           string `json:"id,omitempty" readOnly:"true"`
	DateCreated  string `json:"dateCreated,omitempty" readOnly:"true"`
	DateModified string `json:"dateModified,omitempty" readOnly:"true"`
	SelfURI      string `json:"selfUri,omitempty" readOnly:"true"`
}

func (in ContactSchemaInput) schema() contact.SchemaInput {
	out := contact.SchemaInput{Name: in.Name, MatchBy: in.MatchBy, Fields: make([]contact.Field, len(in.Fields)),
		Dispositions: make([]contact.Disposition, len(in.Dispositions))}
	for i, f := range in.Fields {
		out.Fields[i] = contact.Field{Name: f.Name, Label: f.Label, Type: f.Type}
	}
	for i, d := range in.Dispositions {
		cd := contact.Disposition{ID: d.ID, Name: d.Name, Subcategories: make([]contact.Subcategory, len(d.Subcategories))}
		for k, s := range d.Subcategories {
			cd.Subcategories[k] = contact.Subcategory{ID: s.ID, Name: s.Name, Outcome: s.Outcome}
		}
		out.Dispositions[i] = cd
	}
	return out
}

func schemaOut(sc contact.Schema) ContactSchema {
	out := ContactSchema{ID: sc.ID, Name: sc.Name, MatchBy: sc.MatchBy, Fields: make([]OutboundField, len(sc.Fields)),
		Dispositions: make([]OutboundDisposition, len(sc.Dispositions)),
		DateCreated:  Time(sc.Created), DateModified: Time(sc.Modified), SelfURI: "/api/v2/outbound/schemas/" + sc.ID}
	for i, f := range sc.Fields {
		out.Fields[i] = OutboundField{Name: f.Name, Label: f.Label, Type: f.Type}
	}
	for i, d := range sc.Dispositions {
		od := OutboundDisposition{ID: d.ID, Name: d.Name, Subcategories: make([]OutboundSubcategory, len(d.Subcategories))}
		for k, s := range d.Subcategories {
			od.Subcategories[k] = OutboundSubcategory{ID: s.ID, Name: s.Name, Outcome: s.Outcome}
		}
		out.Dispositions[i] = od
	}
	return out
}

// ContactList is a list of contacts of one schema.
type ContactList struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	SchemaID       string `json:"schemaId"`
	DefaultCountry string `json:"defaultCountry"`
	Size           int    `json:"size"`
	DateCreated    Time   `json:"dateCreated"`
	DateModified   Time   `json:"dateModified"`
	SelfURI        string `json:"selfUri"`
}

// ContactListInput creates or replaces a list.
type ContactListInput struct {
	Name           string `json:"name" maxLength:"200"`
	SchemaID       string `json:"schemaId"`
	DefaultCountry string `json:"defaultCountry,omitempty" doc:"ISO 3166 alpha-2 (default ES): how national numbers are read."`
	ID             string `json:"id,omitempty" readOnly:"true"`
	Size           int    `json:"size,omitempty" readOnly:"true"`
	DateCreated    string `json:"dateCreated,omitempty" readOnly:"true"`
	DateModified   string `json:"dateModified,omitempty" readOnly:"true"`
	SelfURI        string `json:"selfUri,omitempty" readOnly:"true"`
}

func listOut(l contact.List) ContactList {
	return ContactList{ID: l.ID, Name: l.Name, SchemaID: l.SchemaID, DefaultCountry: l.DefaultCountry, Size: l.Size,
		DateCreated: Time(l.Created), DateModified: Time(l.Modified), SelfURI: "/api/v2/outbound/contactlists/" + l.ID}
}

// Contact is one record of a contact list.
type Contact struct {
	ID           string            `json:"id"`
	ListID       string            `json:"listId"`
	Key          string            `json:"key"`
	Phones       map[string]string `json:"phones"`
	Data         map[string]string `json:"data"`
	TimeZone     string            `json:"timeZone"`
	Status       string            `json:"status"`
	Attempts     int               `json:"attempts"`
	NextAttempt  Time              `json:"nextAttempt" doc:"null when none."`
	LastOutcome  string            `json:"lastOutcome"`
	Category     string            `json:"category"`
	Subcategory  string            `json:"subcategory"`
	DateCreated  Time              `json:"dateCreated"`
	DateModified Time              `json:"dateModified"`
	SelfURI      string            `json:"selfUri"`
}

func contactOut(c contact.Contact) Contact {
	data := c.Data
	if data == nil {
		data = map[string]string{}
	}
	return Contact{ID: c.ID, ListID: c.ListID, Key: c.Key, Phones: c.PhoneMap(), Data: data, TimeZone: c.TimeZone,
		Status: c.Status, Attempts: c.Attempts, NextAttempt: Time(c.NextAttempt), LastOutcome: c.LastOutcome,
		Category: c.Category, Subcategory: c.Subcategory, DateCreated: Time(c.Created), DateModified: Time(c.Modified),
		SelfURI: "/api/v2/outbound/contactlists/" + c.ListID + "/contacts/" + c.ID}
}

// ContactInput creates or replaces a contact.
type ContactInput struct {
	Key      string            `json:"key,omitempty" doc:"The Clave_1 value; may be given in data instead."`
	Data     map[string]string `json:"data,omitempty" doc:"Values by field name, as strings."`
	Phones   map[string]string `json:"phones,omitempty" doc:"Phone fields' values (also accepted in data)."`
	TimeZone string            `json:"timeZone,omitempty" doc:"IANA name; absent: derived from the first phone."`
	Status   string            `json:"status,omitempty" doc:"new, retry, dialing, callback, done, exhausted or dnc; absent keeps the current one (new on creation)."`
	// Read-only fields a client may echo back from a GET are accepted and ignored.
	ID           string `json:"id,omitempty" readOnly:"true"`
	ListID       string `json:"listId,omitempty" readOnly:"true"`
	Attempts     int    `json:"attempts,omitempty" readOnly:"true"`
	NextAttempt  any    `json:"nextAttempt,omitempty" readOnly:"true"`
	LastOutcome  string `json:"lastOutcome,omitempty" readOnly:"true"`
	Category     string `json:"category,omitempty" readOnly:"true"`
	Subcategory  string `json:"subcategory,omitempty" readOnly:"true"`
	DateCreated  string `json:"dateCreated,omitempty" readOnly:"true"`
	DateModified string `json:"dateModified,omitempty" readOnly:"true"`
	SelfURI      string `json:"selfUri,omitempty" readOnly:"true"`
}

func (in ContactInput) contact() contact.ContactInput {
	return contact.ContactInput{Key: in.Key, Data: in.Data, Phones: in.Phones, TimeZone: in.TimeZone, Status: in.Status}
}

// ContactAttempt is one row of a contact's history.
type ContactAttempt struct {
	ID             string `json:"id"`
	ContactID      string `json:"contactId"`
	CampaignID     string `json:"campaignId"`
	ConversationID string `json:"conversationId"`
	Phone          string `json:"phone"`
	Outcome        string `json:"outcome" doc:"busy, no-answer, failed, machine, abandoned, connected, agent-disconnected, skipped or dnc."`
	AgentID        string `json:"agentId"`
	Category       string `json:"category"`
	Subcategory    string `json:"subcategory"`
	Notes          string `json:"notes"`
	DateStarted    Time   `json:"dateStarted"`
	DateAnswered   Time   `json:"dateAnswered"`
	DateEnded      Time   `json:"dateEnded"`
}

// ImportResult is the report of a CSV import.
type ImportResult struct {
	Imported int                `json:"imported"`
	Updated  int                `json:"updated"`
	Skipped  int                `json:"skipped"`
	Errors   []contact.RowError `json:"errors" doc:"Bad rows (rows as in the file, header = 1); at most 1,000 listed."`
}

func importOut(r contact.ImportReport) ImportResult {
	errs := r.Errors
	if errs == nil {
		errs = []contact.RowError{}
	}
	return ImportResult{Imported: r.Imported, Updated: r.Updated, Skipped: r.Skipped, Errors: errs}
}

// FindOrCreateInput is the inbound lookup's request.
type FindOrCreateInput struct {
	Data string `json:"data" required:"false" maxLength:"4000" doc:"The Clave_1 value to search by (matchBy key); may be empty."`
	ANI  string `json:"ani" required:"false" maxLength:"64" doc:"The caller's number (matchBy phone); empty when hidden."`
}

// FindOrCreateResult is the inbound lookup's answer.
type FindOrCreateResult struct {
	ContactID string  `json:"contactId"`
	Created   bool    `json:"created"`
	ClaveSF   string  `json:"clavesf" doc:"<contactId>-<data>, for Salesforce."`
	Contact   Contact `json:"contact"`
}

// DNCList is a do-not-call list.
type DNCList struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Size         int    `json:"size"`
	DateCreated  Time   `json:"dateCreated"`
	DateModified Time   `json:"dateModified"`
	SelfURI      string `json:"selfUri"`
}

// DNCListInput creates or renames a do-not-call list.
type DNCListInput struct {
	Name         string `json:"name" maxLength:"200"`
	ID           string `json:"id,omitempty" readOnly:"true"`
	Size         int    `json:"size,omitempty" readOnly:"true"`
	DateCreated  string `json:"dateCreated,omitempty" readOnly:"true"`
	DateModified string `json:"dateModified,omitempty" readOnly:"true"`
	SelfURI      string `json:"selfUri,omitempty" readOnly:"true"`
}

func dncOut(d contact.DNCList) DNCList {
	return DNCList{ID: d.ID, Name: d.Name, Size: d.Size, DateCreated: Time(d.Created), DateModified: Time(d.Modified),
		SelfURI: "/api/v2/outbound/dnclists/" + d.ID}
}

// DNCPhoneNumber is one number of a do-not-call list.
type DNCPhoneNumber struct {
	PhoneNumber string `json:"phoneNumber"`
	DateCreated Time   `json:"dateCreated"`
}

// DNCNumbersInput adds or removes numbers.
type DNCNumbersInput struct {
	PhoneNumbers   []string `json:"phoneNumbers" maxItems:"10000"`
	DefaultCountry string   `json:"defaultCountry,omitempty" doc:"ISO 3166 alpha-2 (default ES): how national numbers are read."`
}

// DNCNumbersResult says how many numbers changed.
type DNCNumbersResult struct {
	Count int `json:"count" doc:"Numbers added (new) or removed (present)."`
}

// Path parameters (exported: huma ignores embedded fields of unexported types).
type SchemaIDPath struct {
	SchemaID string `path:"schemaId"`
}
type ContactListIDPath struct {
	ListID string `path:"listId"`
}
type ContactIDPath struct {
	ContactID string `path:"contactId"`
}
type DNCListIDPath struct {
	DNCListID string `path:"dncListId"`
}

func contactPage(p PageParams) (contact.Page, int, int, error) {
	pg, size, num, err := p.page(500)
	return contact.Page{Limit: pg.Limit, Offset: pg.Offset}, size, num, err
}

func (s *Server) registerContacts(api huma.API) {
	const base = "/api/v2/outbound"
	// Schemas.
	huma.Register(api, op("getOutboundSchemas", http.MethodGet, base+"/schemas", "List contact schemas", outboundTag, auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			Name string `query:"name" doc:"Exact name or with * wildcards."`
		}) (*Body[*Listing[ContactSchema]], error) {
			pg, size, num, err := contactPage(in.PageParams)
			if err != nil {
				return nil, err
			}
			scs, total, err := s.Contacts.ListSchemas(ctx, in.Name, pg)
			if err != nil {
				return nil, err
			}
			out := make([]ContactSchema, len(scs))
			for i, sc := range scs {
				out[i] = schemaOut(sc)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postOutboundSchemas", http.MethodPost, base+"/schemas", "Create a contact schema", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct{ Body ContactSchemaInput }) (*Body[ContactSchema], error) {
			sc, err := s.Contacts.CreateSchema(ctx, in.Body.schema())
			if err != nil {
				return nil, err
			}
			return body(schemaOut(sc)), nil
		})
	huma.Register(api, op("getOutboundSchema", http.MethodGet, base+"/schemas/{schemaId}", "Get a contact schema", outboundTag, auth.Agent),
		func(ctx context.Context, in *SchemaIDPath) (*Body[ContactSchema], error) {
			if err := needUUID("schemaId", in.SchemaID); err != nil {
				return nil, err
			}
			sc, err := s.Contacts.GetSchema(ctx, in.SchemaID)
			if err != nil {
				return nil, err
			}
			return body(schemaOut(sc)), nil
		})
	huma.Register(api, op("putOutboundSchema", http.MethodPut, base+"/schemas/{schemaId}", "Replace a contact schema", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct {
			SchemaIDPath
			Body ContactSchemaInput
		}) (*Body[ContactSchema], error) {
			if err := needUUID("schemaId", in.SchemaID); err != nil {
				return nil, err
			}
			sc, err := s.Contacts.UpdateSchema(ctx, in.SchemaID, in.Body.schema())
			if err != nil {
				return nil, err
			}
			return body(schemaOut(sc)), nil
		})
	huma.Register(api, withStatus(op("deleteOutboundSchema", http.MethodDelete, base+"/schemas/{schemaId}", "Delete a contact schema no list uses", outboundTag, auth.Admin), 204),
		func(ctx context.Context, in *SchemaIDPath) (*struct{}, error) {
			if err := needUUID("schemaId", in.SchemaID); err != nil {
				return nil, err
			}
			return nil, s.Contacts.DeleteSchema(ctx, in.SchemaID)
		})

	// Contact lists.
	huma.Register(api, op("getOutboundContactlists", http.MethodGet, base+"/contactlists", "List contact lists", outboundTag, auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			Name     string `query:"name" doc:"Exact name or with * wildcards."`
			SchemaID string `query:"schemaId" doc:"Only the lists of this schema."`
		}) (*Body[*Listing[ContactList]], error) {
			pg, size, num, err := contactPage(in.PageParams)
			if err != nil {
				return nil, err
			}
			if in.SchemaID != "" {
				if err := needUUID("schemaId", in.SchemaID); err != nil {
					return nil, err
				}
			}
			ls, total, err := s.Contacts.ListLists(ctx, in.Name, in.SchemaID, pg)
			if err != nil {
				return nil, err
			}
			out := make([]ContactList, len(ls))
			for i, l := range ls {
				out[i] = listOut(l)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postOutboundContactlists", http.MethodPost, base+"/contactlists", "Create a contact list", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct{ Body ContactListInput }) (*Body[ContactList], error) {
			b := in.Body
			l, err := s.Contacts.CreateList(ctx, contact.ListInput{Name: b.Name, SchemaID: b.SchemaID, DefaultCountry: b.DefaultCountry})
			if err != nil {
				return nil, err
			}
			return body(listOut(l)), nil
		})
	huma.Register(api, op("getOutboundContactlist", http.MethodGet, base+"/contactlists/{listId}", "Get a contact list", outboundTag, auth.Agent),
		func(ctx context.Context, in *ContactListIDPath) (*Body[ContactList], error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			l, err := s.Contacts.GetList(ctx, in.ListID)
			if err != nil {
				return nil, err
			}
			return body(listOut(l)), nil
		})
	huma.Register(api, op("putOutboundContactlist", http.MethodPut, base+"/contactlists/{listId}", "Replace a contact list (its schema only while empty)", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct {
			ContactListIDPath
			Body ContactListInput
		}) (*Body[ContactList], error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			b := in.Body
			l, err := s.Contacts.UpdateList(ctx, in.ListID, contact.ListInput{Name: b.Name, SchemaID: b.SchemaID, DefaultCountry: b.DefaultCountry})
			if err != nil {
				return nil, err
			}
			return body(listOut(l)), nil
		})
	huma.Register(api, withStatus(op("deleteOutboundContactlist", http.MethodDelete, base+"/contactlists/{listId}", "Delete a contact list and its contacts", outboundTag, auth.Admin), 204),
		func(ctx context.Context, in *ContactListIDPath) (*struct{}, error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			return nil, s.Contacts.DeleteList(ctx, in.ListID)
		})

	// Contacts.
	huma.Register(api, op("getOutboundContactlistContacts", http.MethodGet, base+"/contactlists/{listId}/contacts", "List a contact list's contacts", outboundTag, auth.Agent),
		func(ctx context.Context, in *struct {
			ContactListIDPath
			PageParams
			Q      string `query:"q" doc:"Matches the key, a phone or any value as a substring (case-insensitive)."`
			Status string `query:"status" doc:"new, retry, dialing, callback, done, exhausted or dnc."`
		}) (*Body[*Listing[Contact]], error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			pg, size, num, err := contactPage(in.PageParams)
			if err != nil {
				return nil, err
			}
			cs, total, err := s.Contacts.ListContacts(ctx, in.ListID, in.Q, in.Status, pg)
			if err != nil {
				return nil, err
			}
			out := make([]Contact, len(cs))
			for i, c := range cs {
				out[i] = contactOut(c)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postOutboundContactlistContacts", http.MethodPost, base+"/contactlists/{listId}/contacts", "Add a contact", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct {
			ContactListIDPath
			Body ContactInput
		}) (*Body[Contact], error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			c, err := s.Contacts.CreateContact(ctx, in.ListID, in.Body.contact())
			if err != nil {
				return nil, err
			}
			return body(contactOut(c)), nil
		})
	huma.Register(api, op("getOutboundContactlistContact", http.MethodGet, base+"/contactlists/{listId}/contacts/{contactId}", "Get a contact of a list", outboundTag, auth.Agent),
		func(ctx context.Context, in *struct {
			ContactListIDPath
			ContactIDPath
		}) (*Body[Contact], error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			if err := needUUID("contactId", in.ContactID); err != nil {
				return nil, err
			}
			c, err := s.Contacts.GetListContact(ctx, in.ListID, in.ContactID)
			if err != nil {
				return nil, err
			}
			return body(contactOut(c)), nil
		})
	huma.Register(api, op("putOutboundContactlistContact", http.MethodPut, base+"/contactlists/{listId}/contacts/{contactId}", "Replace a contact", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct {
			ContactListIDPath
			ContactIDPath
			Body ContactInput
		}) (*Body[Contact], error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			if err := needUUID("contactId", in.ContactID); err != nil {
				return nil, err
			}
			c, err := s.Contacts.UpdateContact(ctx, in.ListID, in.ContactID, in.Body.contact())
			if err != nil {
				return nil, err
			}
			return body(contactOut(c)), nil
		})
	huma.Register(api, withStatus(op("deleteOutboundContactlistContact", http.MethodDelete, base+"/contactlists/{listId}/contacts/{contactId}", "Delete a contact and its history", outboundTag, auth.Admin), 204),
		func(ctx context.Context, in *struct {
			ContactListIDPath
			ContactIDPath
		}) (*struct{}, error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			if err := needUUID("contactId", in.ContactID); err != nil {
				return nil, err
			}
			return nil, s.Contacts.DeleteContact(ctx, in.ListID, in.ContactID)
		})
	huma.Register(api, op("getOutboundContact", http.MethodGet, base+"/contacts/{contactId}", "Get a contact (any list)", outboundTag, auth.Agent),
		func(ctx context.Context, in *ContactIDPath) (*Body[Contact], error) {
			if err := needUUID("contactId", in.ContactID); err != nil {
				return nil, err
			}
			c, err := s.Contacts.GetContact(ctx, in.ContactID)
			if err != nil {
				return nil, err
			}
			return body(contactOut(c)), nil
		})
	huma.Register(api, op("getOutboundContactAttempts", http.MethodGet, base+"/contacts/{contactId}/attempts", "A contact's attempt history, newest first", outboundTag, auth.Agent),
		func(ctx context.Context, in *struct {
			ContactIDPath
			PageParams
		}) (*Body[*Listing[ContactAttempt]], error) {
			if err := needUUID("contactId", in.ContactID); err != nil {
				return nil, err
			}
			pg, size, num, err := contactPage(in.PageParams)
			if err != nil {
				return nil, err
			}
			as, total, err := s.Contacts.Attempts(ctx, in.ContactID, pg)
			if err != nil {
				return nil, err
			}
			out := make([]ContactAttempt, len(as))
			for i, a := range as {
				out[i] = ContactAttempt{ID: a.ID, ContactID: a.ContactID, CampaignID: a.CampaignID, ConversationID: a.ConversationID,
					Phone: a.Phone, Outcome: a.Outcome, AgentID: a.AgentID, Category: a.Category, Subcategory: a.Subcategory, Notes: a.Notes,
					DateStarted: Time(a.Started), DateAnswered: Time(a.Answered), DateEnded: Time(a.Ended)}
			}
			return body(listing(ctx, out, total, size, num)), nil
		})

	// Import, export, find-or-create.
	importOp := op("postOutboundContactlistImport", http.MethodPost, base+"/contactlists/{listId}/import",
		"Import contacts from CSV (all or nothing unless skipInvalid)", outboundTag, auth.Admin)
	importOp.MaxBodyBytes = MaxImportBytes
	huma.Register(api, importOp,
		func(ctx context.Context, in *struct {
			ContactListIDPath
			SkipInvalid bool   `query:"skipInvalid" doc:"Import the good rows and report the bad ones; default false: any bad row imports nothing (400 import.invalid)."`
			RawBody     []byte `contentType:"text/csv"`
		}) (*Body[ImportResult], error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			rep, err := s.Contacts.Import(ctx, in.ListID, strings.NewReader(string(in.RawBody)), in.SkipInvalid)
			if err != nil {
				return nil, err
			}
			return body(importOut(rep)), nil
		})
	huma.Register(api, op("getOutboundContactlistExport", http.MethodGet, base+"/contactlists/{listId}/export",
		"Export a list's contacts as CSV", outboundTag, auth.Admin),
		func(ctx context.Context, in *ContactListIDPath) (*huma.StreamResponse, error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			l, err := s.Contacts.GetList(ctx, in.ListID)
			if err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				hctx.SetHeader("Content-Type", "text/csv; charset=utf-8")
				hctx.SetHeader("Content-Disposition", `attachment; filename="contactlist-`+l.ID+`.csv"`)
				hctx.SetStatus(http.StatusOK)
				if err := s.Contacts.Export(hctx.Context(), l.ID, hctx.BodyWriter()); err != nil {
					logFrom(ctx).Error("export failed midway", "listId", l.ID, "err", err)
				}
			}}, nil
		})
	huma.Register(api, op("postOutboundContactlistFindorcreate", http.MethodPost, base+"/contactlists/{listId}/findorcreate",
		"Find a contact by key or caller number, or create it (inbound calls)", outboundTag, auth.Agent),
		func(ctx context.Context, in *struct {
			ContactListIDPath
			Body FindOrCreateInput
		}) (*Body[FindOrCreateResult], error) {
			if err := needUUID("listId", in.ListID); err != nil {
				return nil, err
			}
			c, created, clavesf, err := s.Contacts.FindOrCreate(ctx, in.ListID, in.Body.Data, in.Body.ANI)
			if err != nil {
				return nil, err
			}
			return body(FindOrCreateResult{ContactID: c.ID, Created: created, ClaveSF: clavesf, Contact: contactOut(c)}), nil
		})

	s.registerDNC(api, base)
}

func (s *Server) registerDNC(api huma.API, base string) {
	huma.Register(api, op("getOutboundDnclists", http.MethodGet, base+"/dnclists", "List do-not-call lists", outboundTag, auth.Supervisor),
		func(ctx context.Context, in *struct {
			PageParams
			Name string `query:"name" doc:"Exact name or with * wildcards."`
		}) (*Body[*Listing[DNCList]], error) {
			pg, size, num, err := contactPage(in.PageParams)
			if err != nil {
				return nil, err
			}
			ds, total, err := s.Contacts.ListDNCLists(ctx, in.Name, pg)
			if err != nil {
				return nil, err
			}
			out := make([]DNCList, len(ds))
			for i, d := range ds {
				out[i] = dncOut(d)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postOutboundDnclists", http.MethodPost, base+"/dnclists", "Create a do-not-call list", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct{ Body DNCListInput }) (*Body[DNCList], error) {
			d, err := s.Contacts.CreateDNCList(ctx, in.Body.Name)
			if err != nil {
				return nil, err
			}
			return body(dncOut(d)), nil
		})
	huma.Register(api, op("getOutboundDnclist", http.MethodGet, base+"/dnclists/{dncListId}", "Get a do-not-call list", outboundTag, auth.Supervisor),
		func(ctx context.Context, in *DNCListIDPath) (*Body[DNCList], error) {
			if err := needUUID("dncListId", in.DNCListID); err != nil {
				return nil, err
			}
			d, err := s.Contacts.GetDNCList(ctx, in.DNCListID)
			if err != nil {
				return nil, err
			}
			return body(dncOut(d)), nil
		})
	huma.Register(api, op("putOutboundDnclist", http.MethodPut, base+"/dnclists/{dncListId}", "Rename a do-not-call list", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct {
			DNCListIDPath
			Body DNCListInput
		}) (*Body[DNCList], error) {
			if err := needUUID("dncListId", in.DNCListID); err != nil {
				return nil, err
			}
			d, err := s.Contacts.UpdateDNCList(ctx, in.DNCListID, in.Body.Name)
			if err != nil {
				return nil, err
			}
			return body(dncOut(d)), nil
		})
	huma.Register(api, withStatus(op("deleteOutboundDnclist", http.MethodDelete, base+"/dnclists/{dncListId}", "Delete a do-not-call list and its numbers", outboundTag, auth.Admin), 204),
		func(ctx context.Context, in *DNCListIDPath) (*struct{}, error) {
			if err := needUUID("dncListId", in.DNCListID); err != nil {
				return nil, err
			}
			return nil, s.Contacts.DeleteDNCList(ctx, in.DNCListID)
		})
	huma.Register(api, op("getOutboundDnclistPhonenumbers", http.MethodGet, base+"/dnclists/{dncListId}/phonenumbers", "List a do-not-call list's numbers", outboundTag, auth.Supervisor),
		func(ctx context.Context, in *struct {
			DNCListIDPath
			PageParams
		}) (*Body[*Listing[DNCPhoneNumber]], error) {
			if err := needUUID("dncListId", in.DNCListID); err != nil {
				return nil, err
			}
			pg, size, num, err := contactPage(in.PageParams)
			if err != nil {
				return nil, err
			}
			ns, total, err := s.Contacts.DNCNumbers(ctx, in.DNCListID, pg)
			if err != nil {
				return nil, err
			}
			out := make([]DNCPhoneNumber, len(ns))
			for i, n := range ns {
				out[i] = DNCPhoneNumber{PhoneNumber: n.Phone, DateCreated: Time(n.Created)}
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postOutboundDnclistPhonenumbers", http.MethodPost, base+"/dnclists/{dncListId}/phonenumbers", "Add numbers (all or nothing)", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct {
			DNCListIDPath
			Body DNCNumbersInput
		}) (*Body[DNCNumbersResult], error) {
			if err := needUUID("dncListId", in.DNCListID); err != nil {
				return nil, err
			}
			n, err := s.Contacts.AddDNCNumbers(ctx, in.DNCListID, in.Body.PhoneNumbers, in.Body.DefaultCountry)
			if err != nil {
				return nil, err
			}
			return body(DNCNumbersResult{Count: n}), nil
		})
	huma.Register(api, op("deleteOutboundDnclistPhonenumbers", http.MethodDelete, base+"/dnclists/{dncListId}/phonenumbers", "Remove numbers (all or nothing)", outboundTag, auth.Admin),
		func(ctx context.Context, in *struct {
			DNCListIDPath
			Body DNCNumbersInput
		}) (*Body[DNCNumbersResult], error) {
			if err := needUUID("dncListId", in.DNCListID); err != nil {
				return nil, err
			}
			n, err := s.Contacts.RemoveDNCNumbers(ctx, in.DNCListID, in.Body.PhoneNumbers, in.Body.DefaultCountry)
			if err != nil {
				return nil, err
			}
			return body(DNCNumbersResult{Count: n}), nil
		})
	importOp := op("postOutboundDnclistImport", http.MethodPost, base+"/dnclists/{dncListId}/import",
		"Import numbers from CSV (first column; all or nothing unless skipInvalid)", outboundTag, auth.Admin)
	importOp.MaxBodyBytes = MaxImportBytes
	huma.Register(api, importOp,
		func(ctx context.Context, in *struct {
			DNCListIDPath
			SkipInvalid    bool   `query:"skipInvalid" doc:"Import the good rows and report the bad ones."`
			DefaultCountry string `query:"defaultCountry" doc:"ISO 3166 alpha-2 (default ES): how national numbers are read."`
			RawBody        []byte `contentType:"text/csv"`
		}) (*Body[ImportResult], error) {
			if err := needUUID("dncListId", in.DNCListID); err != nil {
				return nil, err
			}
			rep, err := s.Contacts.ImportDNC(ctx, in.DNCListID, strings.NewReader(string(in.RawBody)), in.DefaultCountry, in.SkipInvalid)
			if err != nil {
				return nil, err
			}
			return body(importOut(rep)), nil
		})
}
