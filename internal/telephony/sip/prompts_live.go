package sip

import "maps"

// Operators' prompts can change while the switch runs (internal/prompt:
// uploads and deletions through the API). Options.Prompts is read without
// a lock, so it stays as given; SetPrompts keeps a replacement set, swapped
// whole, which promptPCM consults before Options.Prompts and the built-in
// prompts.

// SetPrompts replaces the operators' prompts the switch plays, by name
// (8 kHz mono PCM16 samples, e.g. from audio.ReadWAV); they take
// precedence over Options.Prompts and the built-in prompts ("moh" is the
// music on hold). Prompts already playing finish with their old audio.
// SetPrompts(nil) forgets the set.
func (s *Switch) SetPrompts(m map[string][]int16) {
	if m == nil {
		s.prompts.Store(nil)
		return
	}
	c := maps.Clone(m)
	s.prompts.Store(&c)
}

// operatorPrompt finds an operator's prompt: one given to SetPrompts, else
// one in Options.Prompts.
func (s *Switch) operatorPrompt(name string) ([]int16, bool) {
	if m := s.prompts.Load(); m != nil {
		if pcm, ok := (*m)[name]; ok {
			return pcm, true
		}
	}
	pcm, ok := s.opt.Prompts[name]
	return pcm, ok
}
