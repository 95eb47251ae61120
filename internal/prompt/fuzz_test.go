package prompt_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/centralita/centralita/internal/prompt"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// FuzzDecode: an uploaded file never panics the decoder; what it accepts
// is non-empty audio that survives a round trip through a WAV file.
func FuzzDecode(f *testing.F) {
	good := wav(f, 320)
	f.Add(good)
	f.Add(good[:44])
	f.Add(good[:43])
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt "))
	f.Add([]byte("not audio"))
	stereo := slices.Clone(good)
	stereo[22] = 2
	f.Add(stereo)
	f.Fuzz(func(t *testing.T, in []byte) {
		pcm, err := prompt.Decode(in)
		if err != nil {
			return
		}
		if len(pcm) == 0 || len(in) > prompt.MaxAudioBytes {
			t.Fatalf("accepted %d bytes giving %d samples", len(in), len(pcm))
		}
		var b bytes.Buffer
		if err := audio.WriteWAV(&b, pcm); err != nil {
			t.Fatal(err)
		}
		again, err := prompt.Decode(b.Bytes())
		if err != nil || !slices.Equal(again, pcm) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
