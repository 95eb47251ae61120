package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/problem"
)

// Simulator injects simulated customer calls (the demo's simulated switch).
type Simulator interface {
	SimulateCall(ctx context.Context, to, from string, talkTime, patience time.Duration) (string, error)
}

// SimulatedCall is the body of POST /api/v2/simulation/calls.
type SimulatedCall struct {
	To              string `json:"to" minLength:"1" maxLength:"200" doc:"A queue name (e.g. Ventas) or id, or a station with an agent logged in."`
	From            string `json:"from" maxLength:"40" doc:"The caller's number; empty for a hidden number."`
	TalkTimeSeconds int    `json:"talkTimeSeconds,omitempty" minimum:"0" maximum:"86400" doc:"The caller hangs up this long after reaching someone; 0: never by themselves."`
	PatienceSeconds int    `json:"patienceSeconds,omitempty" minimum:"0" maximum:"86400" doc:"The caller hangs up if nobody took the call within this; 0: waits forever."`
}

// SimulatedCallResponse names the new conversation.
type SimulatedCallResponse struct {
	ConversationID string `json:"conversationId"`
}

func (s *Server) registerSimulation(api huma.API) {
	o := op("postSimulationCalls", http.MethodPost, "/api/v2/simulation/calls", "Simulate a customer call", "Simulation", auth.Agent)
	o.Description = "Demo only (403 simulation.disabled otherwise): a simulated customer calls a queue or a station. Returns the conversation id at once; " +
		"the call then waits in the queue and is offered to an agent."
	huma.Register(api, o,
		func(ctx context.Context, in *struct{ Body SimulatedCall }) (*Body[SimulatedCallResponse], error) {
			if s.Simulator == nil {
				return nil, problem.Coded(problem.Forbidden, "simulation.disabled", "", "the simulation API is only enabled in the demo (centralita demo)")
			}
			b := in.Body
			id, err := s.Simulator.SimulateCall(ctx, b.To, b.From, time.Duration(b.TalkTimeSeconds)*time.Second, time.Duration(b.PatienceSeconds)*time.Second)
			if err != nil {
				return nil, err
			}
			return body(SimulatedCallResponse{ConversationID: id}), nil
		})
}
