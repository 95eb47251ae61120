package sim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/telephony/audio"
)

// Prompts the simulated switch knows: the built-in ones (telephony/audio:
// moh, queue-wait, abandon, echo), the names in Options.Prompts, and the
// operators' prompts given to SetPrompts. Like the SIP switch, it refuses
// to play any other name, so a typo in a setting shows up in the demo
// rather than only on real phones.

// builtInDurations are the built-in prompts' real lengths.
var builtInDurations = sync.OnceValue(func() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, n := range audio.PromptNames() {
		if pcm, err := audio.Prompt(n); err == nil {
			out[n] = time.Duration(len(pcm)) * time.Second / audio.SampleRate
		}
	}
	return out
})

// SetPrompts replaces the operators' prompts the switch knows, by name with
// their durations (a duration ≤ 0 plays for Options.PromptDuration). They
// take precedence over the built-in prompts of the same name.
func (s *Switch) SetPrompts(durations map[string]time.Duration) {
	s.mu.Lock()
	s.userPrompts = maps.Clone(durations)
	s.mu.Unlock()
}

// promptDuration is how long the named prompt plays, or an error naming
// the prompts there are. Needs s.mu.
func (s *Switch) promptDuration(name string) (time.Duration, error) {
	if strings.HasPrefix(name, "tone:") {
		return s.opts.ToneDuration, nil
	}
	d, ok := s.opts.Prompts[name]
	if !ok {
		d, ok = s.userPrompts[name]
	}
	if !ok {
		d, ok = builtInDurations()[name]
	}
	if !ok {
		known := slices.Sorted(maps.Keys(builtInDurations()))
		known = append(known, slices.Sorted(maps.Keys(s.userPrompts))...)
		known = append(known, slices.Sorted(maps.Keys(s.opts.Prompts))...)
		return 0, fmt.Errorf("sim: no prompt %q (known: %s, or tone:FREQ)", name, strings.Join(known, ", "))
	}
	if d <= 0 {
		d = s.opts.PromptDuration
	}
	return d, nil
}
