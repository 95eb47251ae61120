// Package audio is the sound side of Centralita's telephony, pure and
// network-free: G.711 µ-law coding, 8 kHz PCM16 WAV reading and stereo
// recording, tones and Goertzel tone detection, RFC 4733 DTMF events
// (parsing, a receiver that reports each key press once, a sender's packet
// sequence), a conference mixer with a per-member hears/speaks matrix
// (conference, listen, whisper, barge), a small jitter queue that feeds the
// mixer, and built-in prompts (music on hold, queue waiting, abandon, echo
// test) embedded as WAV files.
//
// Everything works on 8 kHz mono linear PCM in 20 ms frames of 160 samples
// (SampleRate, FrameSamples). The SIP switch (internal/telephony/sip) moves
// RTP packets and calls into this package for whatever needs the audio itself.
//
// Why ours rather than diago's media layer: diago's mixer is all-hear-all (no
// listen/whisper/barge), and its RFC 4733 receiver misses digits whose first
// packet has duration 0, which SIPp and several PBXs send. See
// reference/go-stack.md §1.2 ("diago gaps"). Each piece here is small and
// tested on its own; the parsers of outside input (WAV, telephone-events)
// are fuzzed.
package audio
