package audio

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// The built-in prompts, generated once by prompts/generate.sh (espeak-ng and
// sox) and committed: small 8 kHz mono PCM16 WAV files.
//
//go:embed prompts/*.wav
var promptFS embed.FS

var prompts struct {
	sync.Mutex
	cache map[string][]int16
}

// PromptNames lists the built-in prompts, sorted: "abandon", "echo", "moh",
// "queue-wait".
func PromptNames() []string {
	entries, _ := promptFS.ReadDir("prompts") // embedded: cannot fail
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".wav"); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Prompt returns the samples of a built-in prompt. The slice is shared
// (decoded once, then cached): callers must not modify it.
func Prompt(name string) ([]int16, error) {
	prompts.Lock()
	defer prompts.Unlock()
	if s, ok := prompts.cache[name]; ok {
		return s, nil
	}
	b, err := promptFS.ReadFile("prompts/" + name + ".wav")
	if err != nil || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("audio: no prompt %q (built-in prompts: %s)", name, strings.Join(PromptNames(), ", "))
	}
	s, err := ReadWAV(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("audio: prompt %q: %w", name, err)
	}
	if prompts.cache == nil {
		prompts.cache = map[string][]int16{}
	}
	prompts.cache[name] = s
	return s, nil
}

// LoadPrompts reads every *.wav file in dir (an operator's own prompts, which
// may override built-in names) and returns their samples by name, the file
// name without ".wav". A file that is not 8 kHz mono PCM16 is an error naming
// the file; convert with e.g. `sox in.wav -r 8000 -c 1 -b 16 out.wav`.
func LoadPrompts(dir string) (map[string][]int16, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.wav"))
	if err != nil {
		return nil, fmt.Errorf("audio: prompts in %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("audio: prompts: %w", err)
	}
	out := make(map[string][]int16, len(paths))
	for _, p := range paths {
		s, err := readWAVFile(p)
		if err != nil {
			return nil, fmt.Errorf("audio: prompt file %s: %w", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".wav")] = s
	}
	return out, nil
}

func readWAVFile(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadWAV(f)
}
