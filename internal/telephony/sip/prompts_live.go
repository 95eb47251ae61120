package sip

import (
	"maps"
	"sync"
)

// Operators' prompts can change while the switch runs (internal/prompt:
// uploads and deletions through the API). Options.Prompts is read without
// a lock, so it stays as given; SetPrompts keeps a replacement set here,
// swapped whole (never modified once stored), which promptPCM consults
// before Options.Prompts and the built-in prompts.
//
// The set is kept outside Switch so that this file adds no field to the
// switch's struct; SetPrompts(nil) forgets it (a switch that never called
// SetPrompts has no entry).
var livePrompts sync.Map // *Switch → map[string][]int16

// SetPrompts replaces the operators' prompts the switch plays, by name
// (8 kHz mono PCM16 samples, e.g. from audio.ReadWAV); they take
// precedence over Options.Prompts and the built-in prompts ("moh" is the
// music on hold). Prompts already playing finish with their old audio.
func (s *Switch) SetPrompts(m map[string][]int16) {
	if m == nil {
		livePrompts.Delete(s)
		return
	}
	livePrompts.Store(s, maps.Clone(m))
}

// operatorPrompt finds an operator's prompt: one given to SetPrompts, else
// one in Options.Prompts.
func (s *Switch) operatorPrompt(name string) ([]int16, bool) {
	if v, ok := livePrompts.Load(s); ok {
		if pcm, ok := v.(map[string][]int16)[name]; ok {
			return pcm, true
		}
	}
	pcm, ok := s.opt.Prompts[name]
	return pcm, ok
}
