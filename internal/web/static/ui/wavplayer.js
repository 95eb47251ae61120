// Recordings and prompts are WAVs behind the bearer token. The console's
// CSP admits media only from the server itself and an <audio> element
// cannot send the token, so a clip is downloaded once, played through Web
// Audio and offered as a blob: download link.

import { useState, useEffect } from 'preact/hooks';

let audioCtx = null;

// useWavPlayer is a row's player: play() downloads the clip with
// fetchBytes (once) and plays it, stop() stops it, forget() drops the clip
// after its audio changed. Failures go to onError (null clears it).
export function useWavPlayer(fetchBytes, onError) {
  const [clip, setClip] = useState(null); // { buffer, url }
  const [playing, setPlaying] = useState(null); // the source node while it plays
  useEffect(() => () => { if (clip) URL.revokeObjectURL(clip.url); }, [clip]);
  useEffect(() => () => playing?.stop(), [playing]);
  const play = async () => {
    onError(null);
    try {
      audioCtx = audioCtx || new AudioContext();
      let c = clip;
      if (!c) {
        const bytes = await fetchBytes();
        const url = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
        c = { buffer: await audioCtx.decodeAudioData(bytes.slice(0)), url };
        setClip(c);
      }
      await audioCtx.resume();
      const src = audioCtx.createBufferSource();
      src.buffer = c.buffer;
      src.connect(audioCtx.destination);
      src.onended = () => setPlaying((x) => (x === src ? null : x));
      src.start();
      setPlaying(src);
    } catch (err) {
      onError(err);
    }
  };
  const stop = () => { playing?.stop(); setPlaying(null); };
  const forget = () => setClip(null);
  return { clip, playing, play, stop, forget };
}
