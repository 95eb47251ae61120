package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/crm/salesforce"
	"github.com/centralita/centralita/internal/problem"
)

// registerCRMSaveLog registers the Task fields of an ended call, for a
// softphone whose call center logs from the browser (Open CTI saveLog).
func (s *Server) registerCRMSaveLog(api huma.API) {
	o := op("getCrmConversationSavelog", http.MethodGet, "/api/v2/crm/conversations/{conversationId}/savelog",
		"The activity (Task) fields of an ended call, for Open CTI saveLog", "CRM", auth.Agent)
	o.Description += " The same record the server's activity log writes (subject, call type, duration, disposition," +
		" notes, WhoId/WhatId of the linked record, the call id field). 409 while the call is live."
	huma.Register(api, o, func(ctx context.Context, in *ConversationIDPath) (*Body[map[string]any], error) {
		if err := needUUID("conversationId", in.ConversationID); err != nil {
			return nil, err
		}
		conv, err := s.Conversations.Get(ctx, actor(ctx), in.ConversationID)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(conv)
		if err != nil {
			return nil, err
		}
		a, ok := crm.ActivityFromConversation(raw)
		if !ok {
			return nil, problem.Coded(problem.Conflict, "call.not.ended", "", "conversation %s has not ended (or no agent connected to it)", in.ConversationID)
		}
		field := ""
		if tp, ok := s.CRMRuntime.(textPolicy); ok {
			if cc, err := tp.CallCenter(ctx); err == nil {
				field = cc.Settings["taskCallIdField"]
			}
		}
		return body(salesforce.TaskFields(a, field)), nil
	})
}
