package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/problem"
)

// Simulator injects simulated customer calls (the demo's simulated switch).
type Simulator interface {
	SimulateCall(ctx context.Context, to, from string, talkTime, patience time.Duration, r conversation.Routing) (string, error)
}

// SimulatedCall is the body of POST /api/v2/simulation/calls.
type SimulatedCall struct {
	To              string `json:"to" minLength:"1" maxLength:"200" doc:"A queue name (e.g. Ventas) or id, or a station with an agent logged in."`
	From            string `json:"from" maxLength:"40" doc:"The caller's number; empty for a hidden number."`
	TalkTimeSeconds int    `json:"talkTimeSeconds,omitempty" minimum:"0" maximum:"86400" doc:"The caller hangs up this long after reaching someone; 0: never by themselves."`
	PatienceSeconds int    `json:"patienceSeconds,omitempty" minimum:"0" maximum:"86400" doc:"The caller hangs up if nobody took the call within this; 0: waits forever."`
	// What the call asks of the ACD when it reaches a queue.
	Priority          int      `json:"priority,omitempty" minimum:"0" maximum:"1000000" doc:"Routing priority in the queue: higher is offered first (default 0)."`
	SkillIDs          []string `json:"skillIds,omitempty" maxItems:"20" doc:"Skills the agent must have, on top of those the queue requires (skill ids)."`
	PreferredAgentIDs []string `json:"preferredAgentIds,omitempty" maxItems:"10" doc:"Users the call prefers (the preferred_agent strategy: those who are members of the queue get it first, for the queue's preferredAgentWaitSeconds)."`
}

// SimulatedCallResponse names the new conversation.
type SimulatedCallResponse struct {
	ConversationID string `json:"conversationId"`
}

func (s *Server) registerSimulation(api huma.API) {
	o := op("postSimulationCalls", http.MethodPost, "/api/v2/simulation/calls", "Simulate a customer call", "Simulation", auth.Agent)
	o.Description = "Demo only (403 simulation.disabled otherwise): a simulated customer calls a queue or a station. Returns the conversation id at once; " +
		"the call then waits in the queue and is offered to an agent. priority, skillIds and preferredAgentIds apply when it reaches a queue."
	huma.Register(api, o,
		func(ctx context.Context, in *struct{ Body SimulatedCall }) (*Body[SimulatedCallResponse], error) {
			if s.Simulator == nil {
				return nil, problem.Coded(problem.Forbidden, "simulation.disabled", "", "the simulation API is only enabled in the demo (centralita demo)")
			}
			b := in.Body
			id, err := s.Simulator.SimulateCall(ctx, b.To, b.From, time.Duration(b.TalkTimeSeconds)*time.Second, time.Duration(b.PatienceSeconds)*time.Second,
				conversation.Routing{Priority: b.Priority, Skills: b.SkillIDs, PreferredAgents: b.PreferredAgentIDs})
			if err != nil {
				return nil, err
			}
			return body(SimulatedCallResponse{ConversationID: id}), nil
		})
}
