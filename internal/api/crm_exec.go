package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/problem"
)

// CRMRuntime is what the API needs of the live CRM connector: the call
// center in use with its connector, and the screen pops made.
type CRMRuntime interface {
	Connector(ctx context.Context) (crm.CallCenter, crm.Connector, error)
	ScreenPopOf(convID string) (crm.Pop, bool)
	Linked(convID string, rec crm.Record)
}

// SyncBody names the record a new-record form saved.
type SyncBody struct {
	SyncID     string `json:"syncId,omitempty" doc:"The neoSyncId the screen pop gave the new-record form (default: the conversation's)."`
	RecordType string `json:"recordType,omitempty" doc:"Or the record itself: its type and id (the agent opened it)."`
	RecordID   string `json:"recordId,omitempty"`
}

// ClickToDialBody dials a number from a CRM record.
type ClickToDialBody struct {
	Phone      string `json:"phone" minLength:"1" maxLength:"40"`
	RecordType string `json:"recordType,omitempty"`
	RecordID   string `json:"recordId,omitempty" maxLength:"100"`
	SchemaID   string `json:"schemaId,omitempty" doc:"With key: the platform contact this record stands for (click-to-dial search), so the call can be scheduled and categorized."`
	Key        string `json:"key,omitempty" maxLength:"200"`
}

// registerCRMExec registers screen-pop sync (neoSyncId) and click-to-dial.
func (s *Server) registerCRMExec(api huma.API) {
	const tag = "CRM"
	huma.Register(api, op("getCrmConversationScreenpop", http.MethodGet, "/api/v2/crm/conversations/{conversationId}/screenpop",
		"The screen pop of a conversation: plan, decision, record", tag, auth.Agent),
		func(ctx context.Context, in *ConversationIDPath) (*Body[crm.Pop], error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			if _, err := s.Conversations.Get(ctx, actor(ctx), in.ConversationID); err != nil {
				return nil, err
			}
			p, ok := s.CRMRuntime.ScreenPopOf(in.ConversationID)
			if !ok {
				return nil, problem.NotFoundf("conversation %s has no screen pop (no agent connected yet, or no call center)", in.ConversationID)
			}
			return body(p), nil
		})
	huma.Register(api, op("postCrmConversationSync", http.MethodPost, "/api/v2/crm/conversations/{conversationId}/sync",
		"Tie the call to the record a new-record form saved (neoSyncId) or to a record the agent opened", tag, auth.Agent),
		func(ctx context.Context, in *struct {
			ConversationIDPath
			Body SyncBody
		}) (*Body[crm.Record], error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			if _, err := s.Conversations.Get(ctx, actor(ctx), in.ConversationID); err != nil {
				return nil, err
			}
			cc, conn, err := s.CRMRuntime.Connector(ctx)
			if err != nil {
				return nil, problem.Coded(problem.Conflict, "crm.none", "", "%v", err)
			}
			var rec crm.Record
			switch {
			case in.Body.RecordID != "":
				if in.Body.RecordType == "" {
					return nil, problem.Invalidf("recordType", "is required with recordId")
				}
				if rec, err = conn.Get(ctx, in.Body.RecordType, in.Body.RecordID); err != nil {
					return nil, crmProblem(err, "recordId")
				}
			default:
				id := in.Body.SyncID
				if id == "" {
					if p, ok := s.CRMRuntime.ScreenPopOf(in.ConversationID); ok {
						id = p.SyncID
					}
				}
				if id == "" {
					return nil, problem.Invalidf("syncId", "is required: this conversation's screen pop opened no new-record form")
				}
				if rec, err = crm.Sync(ctx, conn, cc, id, cc.SearchTypePriority); err != nil {
					return nil, crmProblem(err, "syncId")
				}
			}
			if err := s.Conversations.SetCallData(ctx, in.ConversationID, map[string]string{"crmRecordType": rec.Type, "crmRecordId": rec.ID}); err != nil {
				return nil, err
			}
			s.CRMRuntime.Linked(in.ConversationID, rec)
			return body(rec), nil
		})
	huma.Register(api, op("postCrmClicktodial", http.MethodPost, "/api/v2/crm/clicktodial",
		"Dial a number from a CRM record; with a schema id and key, work the platform contact it stands for", tag, auth.Agent),
		func(ctx context.Context, in *struct{ Body ClickToDialBody }) (*Body[DialResult], error) {
			b := in.Body
			a := actor(ctx)
			attrs := map[string]string{"callReason": "ClickToDial", "phoneNumber": b.Phone}
			if b.RecordID != "" {
				if b.RecordType == "" {
					return nil, problem.Invalidf("recordType", "is required with recordId")
				}
				attrs["crmRecordType"], attrs["crmRecordId"] = b.RecordType, b.RecordID
			}
			if b.SchemaID != "" || b.Key != "" {
				if b.SchemaID == "" || b.Key == "" {
					return nil, problem.Invalidf("key", "schemaId and key go together (click-to-dial search)")
				}
				cc, _, err := s.CRMRuntime.Connector(ctx)
				if err != nil {
					return nil, problem.Coded(problem.Conflict, "crm.none", "", "%v", err)
				}
				if !cc.AllowClickToDialSearch {
					return nil, problem.Coded(problem.Forbidden, "clicktodial.search.off", "schemaId", "the call center does not allow click-to-dial search")
				}
				c, err := s.clickToDialContact(ctx, b)
				if err != nil {
					return nil, err
				}
				attrs["contactId"], attrs["contactBaseId"], attrs["crmId"], attrs["crmKey"] = c.ID, c.ListID, b.SchemaID, c.Key
			}
			conv, err := s.Conversations.PlaceCall(ctx, a, conversation.CallRequest{Target: conversation.Target{Address: b.Phone}, Attributes: attrs})
			if err != nil {
				return nil, err
			}
			return body(DialResult{ConversationID: conv}), nil
		})
}

// clickToDialContact finds (or, per SPEC 2.6, inserts) the platform contact
// of a CRM record by its key in the first list of its schema.
func (s *Server) clickToDialContact(ctx context.Context, b ClickToDialBody) (contact.Contact, error) {
	if err := needUUID("schemaId", b.SchemaID); err != nil {
		return contact.Contact{}, err
	}
	ls, _, err := s.Contacts.ListLists(ctx, "", b.SchemaID, contact.Page{Limit: 1})
	if err != nil {
		return contact.Contact{}, err
	}
	if len(ls) == 0 {
		return contact.Contact{}, problem.Invalidf("schemaId", "schema %s has no contact list", b.SchemaID)
	}
	c, _, _, err := s.Contacts.FindOrCreate(ctx, ls[0].ID, b.Key, b.Phone)
	return c, err
}

// crmProblem turns a connector error into an API problem.
func crmProblem(err error, field string) error {
	switch {
	case errors.Is(err, crm.ErrNotFound):
		return problem.Invalidf(field, "no CRM record matches: %v", err)
	case errors.Is(err, crm.ErrRejected):
		return problem.Invalidf(field, "the CRM refused it: %s", strings.TrimPrefix(err.Error(), "crm: "))
	case errors.Is(err, crm.ErrMultiple):
		return problem.Coded(problem.Conflict, "crm.multiple", field, "several CRM records match")
	case errors.Is(err, crm.ErrUnavailable), errors.Is(err, crm.ErrAuth):
		return problem.Coded(problem.Conflict, "crm.unavailable", "", "the CRM cannot be reached: %s", strings.TrimPrefix(err.Error(), "crm: "))
	}
	return err
}
