package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
)

// CRMActivityLog is the state of a call's log in the CRM (SPEC 3.5).
type CRMActivityLog struct {
	ConversationID string `json:"conversationId"`
	CallCenterID   string `json:"callCenterId"`
	Mode           string `json:"mode" enum:"task,voicecall" doc:"How it is written: a task (activity) or a voice-call record."`
	State          string `json:"state" enum:"pending,written,failed" doc:"pending until the CRM took it (retried with backoff while the CRM is unavailable); failed when the CRM rejected it."`
	Attempts       int    `json:"attempts" doc:"Writes tried since the log (or its last change) was enqueued."`
	LastError      string `json:"lastError,omitempty" doc:"Why the last attempt failed."`
	ActivityID     string `json:"activityId,omitempty" doc:"The CRM's id of the activity, once written."`
	NextAttempt    Time   `json:"nextAttempt,omitzero" doc:"When a pending log is written next."`
	DateWritten    Time   `json:"dateWritten,omitzero" doc:"When the CRM last took it."`
}

// registerCRMActivity registers the activity log's status per conversation.
func (s *Server) registerCRMActivity(api huma.API) {
	o := op("getCrmConversationActivitylog", http.MethodGet, "/api/v2/crm/conversations/{conversationId}/activitylog",
		"The CRM activity log of a call", "CRM", auth.Agent)
	o.Description += " Agents see the logs of the conversations they were in; supervisors see all." +
		" 404 when the call has no log (still live, no agent, or its call center does not save activity logs)."
	huma.Register(api, o, func(ctx context.Context, in *ConversationIDPath) (*Body[CRMActivityLog], error) {
		if err := needUUID("conversationId", in.ConversationID); err != nil {
			return nil, err
		}
		if a := actor(ctx); !a.Supervisor {
			// Not found, or forbidden to someone who was not in it.
			if _, err := s.Conversations.Get(ctx, a, in.ConversationID); err != nil {
				return nil, err
			}
		}
		st, err := s.CRM.ActivityLog(ctx, in.ConversationID)
		if err != nil {
			return nil, err
		}
		return body(CRMActivityLog{ConversationID: st.ConversationID, CallCenterID: st.CallCenterID, Mode: st.Mode, State: st.State,
			Attempts: st.Attempts, LastError: st.LastError, ActivityID: st.ActivityID,
			NextAttempt: Time(st.NextAttempt), DateWritten: Time(st.DateWritten)}), nil
	})
}
