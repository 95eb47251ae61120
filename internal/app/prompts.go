package app

import (
	"context"
	"sync"

	"github.com/centralita/centralita/internal/api"
	"github.com/centralita/centralita/internal/prompt"
)

// Prompts (internal/prompt): the operators' own audio, by name. The switch
// in use learns of them at start and after every change: the simulated one
// their names and lengths (it refuses unknown names), the SIP one their
// samples (played before the built-in prompts of the same name). Queue
// and campaign writes check the prompt names they carry.
//
// A change reaches the switch of this process only; in a cluster, other
// nodes pick it up when they restart.
func (a *App) wirePrompts(srv *api.Server) {
	ps := prompt.New(a.DB, a.Clock)
	srv.Prompts = ps
	a.Directory.SetPromptChecker(ps.Check)
	a.Campaigns.SetPrompts(ps)
	var mu sync.Mutex // one load at a time: the last one reads the latest state
	load := func() {
		mu.Lock()
		defer mu.Unlock()
		ctx := context.Background()
		if a.cc.sim != nil {
			names, err := ps.Names(ctx)
			if err != nil {
				a.Log.Error("prompts: loading names failed", "err", err)
				return
			}
			a.cc.sim.SetPrompts(names)
		}
		if a.cc.sip != nil {
			live, err := ps.Live(ctx)
			if err != nil {
				a.Log.Error("prompts: loading audio failed", "err", err)
				return
			}
			a.cc.sip.SetPrompts(live)
		}
	}
	load()
	ps.OnChange(load)
}
