package api

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/problem"
)

// ConversationIDPath is the {conversationId} path parameter.
type ConversationIDPath struct {
	ConversationID string `path:"conversationId"`
}

// ParticipantPath is {conversationId} and {participantId}.
type ParticipantPath struct {
	ConversationID string `path:"conversationId"`
	ParticipantID  string `path:"participantId"`
}

func (p ParticipantPath) check() error {
	if err := needUUID("conversationId", p.ConversationID); err != nil {
		return err
	}
	return needUUID("participantId", p.ParticipantID)
}

func actor(ctx context.Context) conversation.Actor {
	p := principal(ctx)
	return conversation.Actor{UserID: p.UserID, Supervisor: p.Has(auth.Supervisor)}
}

// ParticipantPatch is the platform's MediaParticipantRequest.
type ParticipantPatch struct {
	State         string `json:"state,omitempty" enum:"connected,disconnected," doc:"connected answers an alerting call (the caller's own); disconnected hangs up (declines an offer, leaves the call, completes an attended transfer, ends monitoring, or removes a party)."`
	Held          *bool  `json:"held,omitempty" doc:"On your own participant: holds the other party (two-party call) or your own leg (conference)."`
	Muted         *bool  `json:"muted,omitempty"`
	Recording     *bool  `json:"recording,omitempty"`
	WrapupSkipped *bool  `json:"wrapupSkipped,omitempty" doc:"Skip the wrap-up (not when the queue makes it mandatory)."`
	Wrapup        *struct {
		Code  string `json:"code" doc:"A wrap-up code id (assigned to the call's queue, when the queue has codes)."`
		Notes string `json:"notes,omitempty" maxLength:"4000"`
		Name  string `json:"name,omitempty" doc:"Ignored: the code's name is used."`
	} `json:"wrapup,omitempty"`
}

// CallPatch is the body of PATCH /api/v2/conversations/calls/{conversationId}.
type CallPatch struct {
	State string `json:"state,omitempty" enum:"disconnected," doc:"disconnected hangs up everyone."`
}

// AttributesBody carries participant attributes; a null value removes a key.
type AttributesBody struct {
	Attributes map[string]*string `json:"attributes"`
}

// DigitsBody carries DTMF digits.
type DigitsBody struct {
	Digits string `json:"digits" doc:"1 to 64 of 0-9 * # A-D, sent one after another."`
}

// ReplaceAgent is a blind transfer to a user.
type ReplaceAgent struct {
	UserID          string `json:"userId,omitempty"`
	UserName        string `json:"userName,omitempty" doc:"The user's username."`
	UserDisplayName string `json:"userDisplayName,omitempty" doc:"Not supported: give userId or userName."`
	TransferType    string `json:"transferType,omitempty" enum:"Attended,Unattended," doc:"Ignored: replace is always direct (use consult for attended)."`
	Voicemail       bool   `json:"voicemail,omitempty"`
}

// ReplaceQueue is a blind transfer to a queue.
type ReplaceQueue struct {
	QueueID   string `json:"queueId,omitempty"`
	QueueName string `json:"queueName,omitempty"`
}

// ReplaceExternal is a blind transfer to a number.
type ReplaceExternal struct {
	Address string `json:"address" doc:"The number, e.g. +34911234567."`
}

// ConsultRequest is the body of the consult operations.
type ConsultRequest struct {
	SpeakTo   string `json:"speakTo,omitempty" enum:"DESTINATION,OBJECT,BOTH,CONFERENCE," doc:"Whom the agent talks to (default DESTINATION: the consulted party; the transferred party waits on hold)."`
	UserID    string `json:"userId,omitempty"`
	UserName  string `json:"userName,omitempty"`
	QueueID   string `json:"queueId,omitempty"`
	QueueName string `json:"queueName,omitempty"`
	Address   string `json:"address,omitempty"`
}

// ConsultResponse names the consulted party.
type ConsultResponse struct {
	DestinationParticipantID string `json:"destinationParticipantId"`
}

// SpeakToBody changes a consult.
type SpeakToBody struct {
	SpeakTo string `json:"speakTo" enum:"DESTINATION,OBJECT,BOTH,CONFERENCE"`
}

// CreateCallRequest places a call.
type CreateCallRequest struct {
	PhoneNumber     string            `json:"phoneNumber,omitempty"`
	CallUserID      string            `json:"callUserId,omitempty"`
	CallQueueID     string            `json:"callQueueId,omitempty"`
	CallFromQueueID string            `json:"callFromQueueId,omitempty"`
	CallerID        string            `json:"callerId,omitempty"`
	CallerIDName    string            `json:"callerIdName,omitempty"`
	Priority        int               `json:"priority,omitempty" minimum:"0" maximum:"1000000" doc:"With callQueueId: the routing priority in the queue (higher is offered first)."`
	RoutingSkillIDs []string          `json:"routingSkillsIds,omitempty" maxItems:"20" doc:"With callQueueId: skills the agent must have, on top of those the queue requires (skill ids)."`
	Attributes      map[string]string `json:"attributes,omitempty"`
}

// CreateCallResponse names the new conversation.
type CreateCallResponse struct {
	ID      string `json:"id"`
	SelfURI string `json:"selfUri"`
}

// InviteBody adds parties to a call.
type InviteBody struct {
	Participants []Invitee `json:"participants" minItems:"1"`
}

// Invitee is a party to invite: a number or a user.
type Invitee struct {
	Address string `json:"address,omitempty"`
	UserID  string `json:"userId,omitempty"`
}

// MonitorResponse names the supervisor's monitor participant.
type MonitorResponse struct {
	ParticipantID string `json:"participantId"`
}

// WrapupCodeRef is a wrap-up code a participant may use.
type WrapupCodeRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	SelfURI string `json:"selfUri"`
}

func (s *Server) registerConversations(api huma.API) {
	const tag = "Conversations"
	s.registerQueueWaits(api)
	// Conversation times render as the platform's date-times.
	api.OpenAPI().Components.Schemas.RegisterTypeAlias(reflect.TypeOf(conversation.Time{}), reflect.TypeOf(time.Time{}))

	list := func(ctx context.Context, in *PageParams) (*Body[*Listing[conversation.CallConversation]], error) {
		pg, size, num, err := in.page(100)
		if err != nil {
			return nil, err
		}
		all := s.Conversations.List(ctx, actor(ctx))
		var out []conversation.CallConversation
		for i, v := range all {
			if i >= pg.Offset && len(out) < pg.Limit {
				out = append(out, v)
			}
		}
		return body(listing(ctx, out, len(all), size, num)), nil
	}
	l := op("getConversations", http.MethodGet, "/api/v2/conversations", "Your active conversations", tag, auth.Agent)
	l.Description = "The caller's conversations with a live call or a pending wrap-up. Empty for a client-credentials token (no user)."
	huma.Register(api, l, list)
	huma.Register(api, op("getConversationsCalls", http.MethodGet, "/api/v2/conversations/calls", "Your active calls", tag, auth.Agent), list)

	get := func(ctx context.Context, in *ConversationIDPath) (*Body[conversation.CallConversation], error) {
		if err := needUUID("conversationId", in.ConversationID); err != nil {
			return nil, err
		}
		v, err := s.Conversations.Get(ctx, actor(ctx), in.ConversationID)
		if err != nil {
			return nil, err
		}
		return body(v), nil
	}
	g := op("getConversation", http.MethodGet, "/api/v2/conversations/{conversationId}", "Get a conversation", tag, auth.Agent)
	g.Description = "Participants with purposes, states, times, queue and user references, attributes and wrap-up, and each participant's segments " +
		"(Centralita extension). Agents see the conversations they are or were in; supervisors see all."
	huma.Register(api, g, get)
	huma.Register(api, op("getConversationsCall", http.MethodGet, "/api/v2/conversations/calls/{conversationId}", "Get a call", tag, auth.Agent), get)

	huma.Register(api, op("patchConversationsCall", http.MethodPatch, "/api/v2/conversations/calls/{conversationId}", "Hang up a whole call", tag, auth.Agent),
		func(ctx context.Context, in *struct {
			ConversationIDPath
			Body CallPatch
		}) (*Body[conversation.CallConversation], error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			if in.Body.State != "disconnected" {
				return nil, problem.Invalidf("state", "only disconnected is supported")
			}
			a := actor(ctx)
			if err := s.Conversations.DisconnectAll(ctx, a, in.ConversationID); err != nil {
				return nil, err
			}
			v, err := s.Conversations.Get(ctx, conversation.Actor{Supervisor: true}, in.ConversationID)
			return body(v), err
		})

	huma.Register(api, withStatus(op("postConversationDisconnect", http.MethodPost, "/api/v2/conversations/{conversationId}/disconnect", "Force a conversation down", tag, auth.Agent), 202),
		func(ctx context.Context, in *ConversationIDPath) (*struct{}, error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			return nil, s.Conversations.ForceDisconnect(ctx, actor(ctx), in.ConversationID)
		})

	place := op("postConversationsCalls", http.MethodPost, "/api/v2/conversations/calls", "Place a call", tag, auth.Agent)
	place.Description = "Rings your own station (answered at once when the switch can) and then calls the destination: phoneNumber, callUserId or callQueueId. " +
		"Needs a person's token and a station login. priority and routingSkillsIds apply to a call to a queue only (400 otherwise)."
	huma.Register(api, place,
		func(ctx context.Context, in *struct{ Body CreateCallRequest }) (*Body[CreateCallResponse], error) {
			b := in.Body
			id, err := s.Conversations.PlaceCall(ctx, actor(ctx), conversation.CallRequest{
				Target:      conversation.Target{Address: b.PhoneNumber, UserID: b.CallUserID, QueueID: b.CallQueueID},
				FromQueueID: b.CallFromQueueID, CallerID: b.CallerID, Attributes: b.Attributes,
				Routing: conversation.Routing{Priority: b.Priority, Skills: b.RoutingSkillIDs}})
			if err != nil {
				return nil, err
			}
			return body(CreateCallResponse{ID: id, SelfURI: "/api/v2/conversations/calls/" + id}), nil
		})

	pp := op("patchConversationsCallParticipant", http.MethodPatch, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}", "Answer, hang up, hold, mute, record, wrap up", tag, auth.Agent)
	pp.Description = "Accepted changes take effect through the switch; read the conversation (or listen to its events) for the result. " +
		"A change that makes no sense in the participant's state gets 409 with a code (participant.state, conversation.not.participant, ...) and changes nothing."
	huma.Register(api, withStatus(pp, 202),
		func(ctx context.Context, in *struct {
			ParticipantPath
			Body ParticipantPatch
		}) (*struct{}, error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			a, b, cid, pid := actor(ctx), in.Body, in.ConversationID, in.ParticipantID
			if b.State == "" && b.Held == nil && b.Muted == nil && b.Recording == nil && b.Wrapup == nil && b.WrapupSkipped == nil {
				return nil, problem.Invalidf("", "nothing to change: give state, held, muted, recording, wrapup or wrapupSkipped")
			}
			if b.Wrapup != nil {
				if err := s.Conversations.SetWrapup(ctx, a, cid, pid, b.Wrapup.Code, b.Wrapup.Notes); err != nil {
					return nil, err
				}
			}
			if b.WrapupSkipped != nil && *b.WrapupSkipped {
				if err := s.Conversations.SkipWrapup(ctx, a, cid, pid); err != nil {
					return nil, err
				}
			}
			if b.Held != nil {
				if err := s.Conversations.SetHeld(ctx, a, cid, pid, *b.Held); err != nil {
					return nil, err
				}
			}
			if b.Muted != nil {
				if err := s.Conversations.SetMuted(ctx, a, cid, pid, *b.Muted); err != nil {
					return nil, err
				}
			}
			if b.Recording != nil {
				if err := s.Conversations.SetRecording(ctx, a, cid, pid, *b.Recording); err != nil {
					return nil, err
				}
			}
			switch b.State {
			case "connected":
				return nil, s.Conversations.Answer(ctx, a, cid, pid)
			case "disconnected":
				return nil, s.Conversations.Disconnect(ctx, a, cid, pid)
			}
			return nil, nil
		})

	attrs := func(ctx context.Context, in *struct {
		ParticipantPath
		Body AttributesBody
	}) (*struct{}, error) {
		if err := in.check(); err != nil {
			return nil, err
		}
		return nil, s.Conversations.SetAttributes(ctx, actor(ctx), in.ConversationID, in.ParticipantID, in.Body.Attributes)
	}
	at := op("patchConversationsCallParticipantAttributes", http.MethodPatch, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/attributes",
		"Set participant attributes", tag, auth.Agent)
	at.Description = fmtLimits("Merges key/value data into the participant's attributes; a null value removes a key. Works on ended conversations too.")
	huma.Register(api, withStatus(at, 202), attrs)

	huma.Register(api, op("getConversationsCallParticipantWrapup", http.MethodGet, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/wrapup", "A participant's wrap-up", tag, auth.Agent),
		func(ctx context.Context, in *ParticipantPath) (*Body[conversation.ParticipantWrapup], error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			p, err := s.Conversations.Participant(ctx, actor(ctx), in.ConversationID, in.ParticipantID)
			if err != nil {
				return nil, err
			}
			if p.Wrapup == nil {
				return nil, problem.NotFoundf("participant %s has no wrap-up yet", in.ParticipantID)
			}
			return body(*p.Wrapup), nil
		})
	huma.Register(api, op("getConversationsCallParticipantWrapupcodes", http.MethodGet, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/wrapupcodes", "Wrap-up codes a participant may use", tag, auth.Agent),
		func(ctx context.Context, in *ParticipantPath) (*Body[[]WrapupCodeRef], error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			codes, err := s.Conversations.WrapupCodes(ctx, actor(ctx), in.ConversationID, in.ParticipantID)
			if err != nil {
				return nil, err
			}
			out := make([]WrapupCodeRef, len(codes))
			for i, c := range codes {
				out[i] = WrapupCodeRef{ID: c.ID, Name: c.Name, SelfURI: "/api/v2/routing/wrapupcodes/" + c.ID}
			}
			return body(out), nil
		})

	digits := op("postConversationParticipantDigits", http.MethodPost, "/api/v2/conversations/{conversationId}/participants/{participantId}/digits", "Send DTMF digits", tag, auth.Agent)
	digits.Description = "From your own participant the digits go to the other party (e.g. an IVR); sent one by one, as often as needed."
	huma.Register(api, withStatus(digits, 202),
		func(ctx context.Context, in *struct {
			ParticipantPath
			Body DigitsBody
		}) (*struct{}, error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			return nil, s.Conversations.SendDigits(ctx, actor(ctx), in.ConversationID, in.ParticipantID, in.Body.Digits)
		})

	// Blind transfers.
	replace := func(ctx context.Context, p ParticipantPath, t conversation.Target) (*struct{}, error) {
		if err := p.check(); err != nil {
			return nil, err
		}
		return nil, s.Conversations.Replace(ctx, actor(ctx), p.ConversationID, p.ParticipantID, t)
	}
	ra := op("postConversationParticipantReplaceAgent", http.MethodPost, "/api/v2/conversations/{conversationId}/participants/{participantId}/replace/agent", "Transfer to a user (direct)", tag, auth.Agent)
	ra.Description = "The participant (yours) drops out at once; the other party waits on hold until the user answers. If the user does not, an ACD call goes back to its queue."
	huma.Register(api, withStatus(ra, 202),
		func(ctx context.Context, in *struct {
			ParticipantPath
			Body ReplaceAgent
		}) (*struct{}, error) {
			if in.Body.UserID == "" && in.Body.UserName == "" && in.Body.UserDisplayName != "" {
				return nil, problem.Invalidf("userDisplayName", "not supported: give userId or userName")
			}
			return replace(ctx, in.ParticipantPath, conversation.Target{UserID: in.Body.UserID, UserName: in.Body.UserName})
		})
	huma.Register(api, withStatus(op("postConversationParticipantReplaceQueue", http.MethodPost, "/api/v2/conversations/{conversationId}/participants/{participantId}/replace/queue", "Transfer to a queue (direct)", tag, auth.Agent), 202),
		func(ctx context.Context, in *struct {
			ParticipantPath
			Body ReplaceQueue
		}) (*struct{}, error) {
			return replace(ctx, in.ParticipantPath, conversation.Target{QueueID: in.Body.QueueID, Queue: in.Body.QueueName})
		})
	huma.Register(api, withStatus(op("postConversationParticipantReplaceExternal", http.MethodPost, "/api/v2/conversations/{conversationId}/participants/{participantId}/replace/external", "Transfer to a number (direct)", tag, auth.Agent), 202),
		func(ctx context.Context, in *struct {
			ParticipantPath
			Body ReplaceExternal
		}) (*struct{}, error) {
			return replace(ctx, in.ParticipantPath, conversation.Target{Address: in.Body.Address})
		})

	// Attended transfers.
	consult := func(ctx context.Context, p ParticipantPath, b ConsultRequest, t conversation.Target) (*Body[ConsultResponse], error) {
		if err := p.check(); err != nil {
			return nil, err
		}
		id, err := s.Conversations.Consult(ctx, actor(ctx), p.ConversationID, p.ParticipantID, t, b.SpeakTo)
		if err != nil {
			return nil, err
		}
		return body(ConsultResponse{DestinationParticipantID: id}), nil
	}
	const consultDoc = "Starts an attended transfer of the participant in the path (the party to transfer, e.g. the customer): it waits on hold while you talk to the destination. " +
		"Then PATCH .../consult {speakTo} changes whom you talk to, hanging up (or POST .../consult/complete) completes the transfer, DELETE .../consult cancels it (\"end transfer\")."
	ca := op("postConversationsCallParticipantConsultAgent", http.MethodPost, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult/agent", "Consult a user (attended transfer)", tag, auth.Agent)
	ca.Description = consultDoc
	huma.Register(api, ca, func(ctx context.Context, in *struct {
		ParticipantPath
		Body ConsultRequest
	}) (*Body[ConsultResponse], error) {
		return consult(ctx, in.ParticipantPath, in.Body, conversation.Target{UserID: in.Body.UserID, UserName: in.Body.UserName})
	})
	cq := op("postConversationsCallParticipantConsultQueue", http.MethodPost, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult/queue", "Consult a queue (attended transfer)", tag, auth.Agent)
	cq.Description = consultDoc
	huma.Register(api, cq, func(ctx context.Context, in *struct {
		ParticipantPath
		Body ConsultRequest
	}) (*Body[ConsultResponse], error) {
		return consult(ctx, in.ParticipantPath, in.Body, conversation.Target{QueueID: in.Body.QueueID, Queue: in.Body.QueueName})
	})
	ce := op("postConversationsCallParticipantConsultExternal", http.MethodPost, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult/external", "Consult a number (attended transfer)", tag, auth.Agent)
	ce.Description = consultDoc
	huma.Register(api, ce, func(ctx context.Context, in *struct {
		ParticipantPath
		Body ConsultRequest
	}) (*Body[ConsultResponse], error) {
		return consult(ctx, in.ParticipantPath, in.Body, conversation.Target{Address: in.Body.Address})
	})
	huma.Register(api, withStatus(op("patchConversationsCallParticipantConsult", http.MethodPatch, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult", "Change whom you talk to in a consult", tag, auth.Agent), 202),
		func(ctx context.Context, in *struct {
			ParticipantPath
			Body SpeakToBody
		}) (*struct{}, error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			return nil, s.Conversations.ConsultSpeakTo(ctx, actor(ctx), in.ConversationID, in.ParticipantID, in.Body.SpeakTo)
		})
	huma.Register(api, withStatus(op("deleteConversationsCallParticipantConsult", http.MethodDelete, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult", "Cancel a consult (end transfer)", tag, auth.Agent), 202),
		func(ctx context.Context, in *ParticipantPath) (*struct{}, error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			return nil, s.Conversations.CancelConsult(ctx, actor(ctx), in.ConversationID, in.ParticipantID)
		})
	cc := op("postConversationsCallParticipantConsultComplete", http.MethodPost, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult/complete", "Complete an attended transfer", tag, auth.Agent)
	cc.Description = "Centralita extension (the platform completes by hanging up the consulting agent, which works too): you drop out and the held party talks to the destination."
	huma.Register(api, withStatus(cc, 202),
		func(ctx context.Context, in *ParticipantPath) (*struct{}, error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			return nil, s.Conversations.CompleteConsult(ctx, actor(ctx), in.ConversationID, in.ParticipantID)
		})

	// Conference.
	inv := op("postConversationsCallParticipants", http.MethodPost, "/api/v2/conversations/calls/{conversationId}/participants", "Invite parties (conference)", tag, auth.Agent)
	inv.Description = "Calls each number (address) or user (userId); once three or more parties are connected the call is a conference."
	huma.Register(api, inv,
		func(ctx context.Context, in *struct {
			ConversationIDPath
			Body InviteBody
		}) (*Body[conversation.CallConversation], error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			ts := make([]conversation.Target, len(in.Body.Participants))
			for i, p := range in.Body.Participants {
				ts[i] = conversation.Target{Address: p.Address, UserID: p.UserID}
			}
			a := actor(ctx)
			if _, err := s.Conversations.Invite(ctx, a, in.ConversationID, ts); err != nil {
				return nil, err
			}
			v, err := s.Conversations.Get(ctx, conversation.Actor{Supervisor: true}, in.ConversationID)
			return body(v), err
		})
	ka := op("postConversationsCallConferenceKickall", http.MethodPost, "/api/v2/conversations/calls/{conversationId}/conference/kickall", "Remove everyone invited (kick all)", tag, auth.Agent)
	ka.Description = "Centralita extension: hangs up every party besides you and the original caller."
	huma.Register(api, withStatus(ka, 202),
		func(ctx context.Context, in *ConversationIDPath) (*struct{}, error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			return nil, s.Conversations.KickAll(ctx, actor(ctx), in.ConversationID)
		})
	ec := op("deleteConversationsCallConference", http.MethodDelete, "/api/v2/conversations/calls/{conversationId}/conference", "End the conference", tag, auth.Agent)
	ec.Description = "Centralita extension: hangs up every party (as PATCH of the call with state disconnected)."
	huma.Register(api, withStatus(ec, 202),
		func(ctx context.Context, in *ConversationIDPath) (*struct{}, error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			return nil, s.Conversations.DisconnectAll(ctx, actor(ctx), in.ConversationID)
		})

	// Monitoring (supervisors).
	monitor := func(mode string) func(ctx context.Context, in *ParticipantPath) (*Body[MonitorResponse], error) {
		return func(ctx context.Context, in *ParticipantPath) (*Body[MonitorResponse], error) {
			if err := in.check(); err != nil {
				return nil, err
			}
			id, err := s.Conversations.Monitor(ctx, actor(ctx), in.ConversationID, in.ParticipantID, mode)
			if err != nil {
				return nil, err
			}
			return body(MonitorResponse{ParticipantID: id}), nil
		}
	}
	const monDoc = " Your station rings (answered at once when the switch can). End it by disconnecting your monitor participant."
	mo := op("postConversationsCallParticipantMonitor", http.MethodPost, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/monitor", "Listen to an agent's call", tag, auth.Supervisor)
	mo.Description = "You hear both sides; nobody hears you." + monDoc
	huma.Register(api, mo, monitor(conversation.MonitorListen))
	co := op("postConversationsCallParticipantCoach", http.MethodPost, "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/coach", "Coach an agent (whisper)", tag, auth.Supervisor)
	co.Description = "You hear both sides; only the agent hears you." + monDoc
	huma.Register(api, co, monitor(conversation.MonitorWhisper))
	ba := op("postConversationBarge", http.MethodPost, "/api/v2/conversations/{conversationId}/barge", "Barge into a call", tag, auth.Supervisor)
	ba.Description = "You join the call: everyone hears you." + monDoc
	huma.Register(api, ba,
		func(ctx context.Context, in *ConversationIDPath) (*Body[MonitorResponse], error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			id, err := s.Conversations.Monitor(ctx, actor(ctx), in.ConversationID, "", conversation.MonitorBarge)
			if err != nil {
				return nil, err
			}
			return body(MonitorResponse{ParticipantID: id}), nil
		})
	mon := op("getConversationsMonitorable", http.MethodGet, "/api/v2/conversations/monitorable", "Calls you can monitor", tag, auth.Supervisor)
	mon.Description = "Centralita extension: every live conversation with a connected agent or user."
	huma.Register(api, mon,
		func(ctx context.Context, _ *struct{}) (*Body[Entities[conversation.CallConversation]], error) {
			vs := s.Conversations.Monitorable(ctx)
			if vs == nil {
				vs = []conversation.CallConversation{}
			}
			return body(Entities[conversation.CallConversation]{Entities: vs, Total: len(vs)}), nil
		})
}

// WaitTimePrediction is one estimate (the platform's EstimatedWaitTimePredictions item).
type WaitTimePrediction struct {
	Intent                   string `json:"intent" enum:"ALL"`
	Formula                  string `json:"formula" enum:"BEST"`
	EstimatedWaitTimeSeconds *int   `json:"estimatedWaitTimeSeconds,omitempty" doc:"Absent when nobody is on the queue."`
	PositionInQueue          *int   `json:"positionInQueue,omitempty" doc:"Centralita extension, with conversationId: 1 = next; 0 while it is being offered."`
}

// WaitTimePredictions is the answer of the estimated wait time operation.
type WaitTimePredictions struct {
	Results []WaitTimePrediction `json:"results"`
}

func (s *Server) registerQueueWaits(api huma.API) {
	o := op("getRoutingQueueEstimatedwaittime", http.MethodGet, "/api/v2/routing/queues/{queueId}/estimatedwaittime", "Estimated wait in a queue", "Routing", auth.Agent)
	o.Description = "For a new caller, or with conversationId for a conversation waiting in the queue (then also its position). " +
		"The estimate of the k-th in line is k × average handle time / agents on the queue."
	huma.Register(api, o,
		func(ctx context.Context, in *struct {
			QueueID        string `path:"queueId"`
			ConversationID string `query:"conversationId"`
		}) (*Body[WaitTimePredictions], error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			if in.ConversationID != "" {
				if err := needUUID("conversationId", in.ConversationID); err != nil {
					return nil, err
				}
			}
			w, err := s.Conversations.EstimatedWait(ctx, in.QueueID, in.ConversationID)
			if err != nil {
				return nil, err
			}
			p := WaitTimePrediction{Intent: "ALL", Formula: "BEST"}
			if w.Estimated != conversation.Unknown {
				secs := int(w.Estimated / time.Second)
				p.EstimatedWaitTimeSeconds = &secs
			}
			if w.Waiting {
				pos := w.Position
				p.PositionInQueue = &pos
			}
			return body(WaitTimePredictions{Results: []WaitTimePrediction{p}}), nil
		})
}

func fmtLimits(s string) string {
	return s + " At most 100 attributes per participant; keys up to 100 characters, values up to 4000."
}
