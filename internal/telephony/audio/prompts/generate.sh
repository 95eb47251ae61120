#!/bin/sh
# generate.sh: builds the built-in prompts embedded by ../prompts.go.
#
# Run it by hand from anywhere when a prompt's text or sound changes, then
# commit the WAV files (tests do not run it; the files are small):
#
#     sh internal/telephony/audio/prompts/generate.sh
#
# Needs espeak-ng and sox (Debian: apt-get install -y espeak-ng sox).
# Every output is 8 kHz mono 16-bit PCM WAV, the only format the switch
# plays (audio.ReadWAV refuses anything else).
#
#   moh.wav         ~9.6 s of soft plucked melody over a quiet pad; starts and
#                   ends in silence so it loops without a click
#   queue-wait.wav  "Thank you for calling. All our agents are busy; please
#                   hold." then 1 s of silence
#   abandon.wav     "We are sorry, all our agents are busy. We will call you
#                   again soon."
#   echo.wav        "This is the echo test. After the tone, speak and you will
#                   hear yourself." then a 1 kHz 300 ms beep
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out="-r 8000 -c 1 -b 16 -e signed-integer"

# speak NAME TEXT: espeak-ng at its own rate, resampled to 8 kHz, band-limited
# to the telephone band and normalised to -3 dBFS.
speak() {
	espeak-ng -v en-us -s 150 -w "$tmp/$1-raw.wav" "$2"
	sox "$tmp/$1-raw.wav" $out "$tmp/$1.wav" highpass 200 lowpass 3400 norm -3
}

# moh: 24 notes of 0.4 s (C major pentatonic), each a plucked string with a
# gentle fade, over a quiet sine pad (C4+G4) that fades in and out over the whole loop.
notes="E4 G4 A4 C5 A4 G4 E4 D4 C4 D4 E4 G4 A4 G4 E4 D4 E4 G4 C5 D5 C5 A4 G4 E4"
i=0
list=""
for n in $notes; do
	i=$((i + 1))
	f="$tmp/note$(printf %02d $i).wav"
	sox -n $out "$f" synth 0.4 pluck "$n" fade q 0.01 0.4 0.25 vol 0.5
	list="$list $f"
done
# shellcheck disable=SC2086
sox $list "$tmp/melody.wav"
len=$(soxi -D "$tmp/melody.wav")
sox -n $out "$tmp/pad.wav" synth "$len" sine C4 sine G4 remix - fade h 1.5 "$len" 1.5 vol 0.12
sox -m "$tmp/melody.wav" "$tmp/pad.wav" $out "$dir/moh.wav" norm -6 fade h 0.05 "$len" 0.3

speak queue "Thank you for calling. All our agents are busy; please hold."
sox "$tmp/queue.wav" $out "$dir/queue-wait.wav" pad 0 1

speak abandon "We are sorry, all our agents are busy. We will call you again soon."
sox "$tmp/abandon.wav" $out "$dir/abandon.wav"

speak echo "This is the echo test. After the tone, speak and you will hear yourself."
sox -n $out "$tmp/beep.wav" synth 0.3 sine 1000 vol 0.5 fade h 0.01 0.3 0.01
sox "$tmp/echo.wav" $out "$tmp/echo-gap.wav" pad 0 0.4
sox "$tmp/echo-gap.wav" "$tmp/beep.wav" $out "$dir/echo.wav"

for f in moh queue-wait abandon echo; do
	printf '%-16s %6s bytes  %s s\n' "$f.wav" "$(wc -c <"$dir/$f.wav")" "$(soxi -D "$dir/$f.wav")"
done
