package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAV files here are RIFF/WAVE with 16-bit little-endian PCM at 8 kHz: mono
// for prompts, stereo for recordings. Anything else is refused with an error
// saying what is wrong, rather than played as noise.

const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
	// wavUnknownSize is written by streaming writers that could not seek
	// back: the data runs to the end of the file.
	wavUnknownSize = 0xFFFFFFFF
)

// ReadWAV reads a mono 8 kHz 16-bit PCM WAV file and returns its samples.
// Chunks other than "fmt " and "data" (LIST, fact, …) are skipped.
func ReadWAV(r io.Reader) ([]int16, error) {
	return readWAV(r, 1)
}

// ReadStereoWAV reads a 2-channel 8 kHz 16-bit PCM WAV file (such as a
// StereoWriter recording) and returns its two channels.
func ReadStereoWAV(r io.Reader) (left, right []int16, err error) {
	s, err := readWAV(r, 2)
	if err != nil {
		return nil, nil, err
	}
	left = make([]int16, len(s)/2)
	right = make([]int16, len(s)/2)
	for i := range left {
		left[i], right[i] = s[2*i], s[2*i+1]
	}
	return left, right, nil
}

// readWAV returns the interleaved samples of a WAV file with the given
// number of channels.
func readWAV(r io.Reader, channels int) ([]int16, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("wav: reading RIFF header: %w", noEOF(err))
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav: not a RIFF/WAVE file (starts with %q)", hdr[:4])
	}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if err == io.EOF {
				if !haveFmt {
					return nil, errors.New("wav: no fmt chunk")
				}
				return nil, errors.New("wav: no data chunk")
			}
			return nil, fmt.Errorf("wav: reading chunk header: %w", noEOF(err))
		}
		id := string(ch[0:4])
		size := binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if err := readFmt(r, size, channels); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, errors.New("wav: data chunk before fmt chunk")
			}
			return readData(r, size, channels)
		default:
			// Chunks are padded to an even length.
			skip := int64(size) + int64(size&1)
			if n, err := io.CopyN(io.Discard, r, skip); err != nil {
				return nil, fmt.Errorf("wav: %q chunk truncated: %d of %d bytes", id, n, skip)
			}
		}
	}
}

func readFmt(r io.Reader, size uint32, channels int) error {
	if size < 16 {
		return fmt.Errorf("wav: fmt chunk of %d bytes, need at least 16", size)
	}
	if size > 1024 {
		return fmt.Errorf("wav: fmt chunk of %d bytes is implausibly large", size)
	}
	b := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("wav: fmt chunk truncated: %w", noEOF(err))
	}
	format := binary.LittleEndian.Uint16(b[0:2])
	nch := binary.LittleEndian.Uint16(b[2:4])
	rate := binary.LittleEndian.Uint32(b[4:8])
	bitsPer := binary.LittleEndian.Uint16(b[14:16])
	if format == wavFormatExtensible && size >= 40 {
		// WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes
		// of the sub-format GUID.
		format = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case format != wavFormatPCM:
		return fmt.Errorf("wav: format %d, need 1 (PCM)", format)
	case int(nch) != channels:
		return fmt.Errorf("wav: %d channels, need %d", nch, channels)
	case rate != SampleRate:
		return fmt.Errorf("wav: %d Hz, need %d Hz", rate, SampleRate)
	case bitsPer != 16:
		return fmt.Errorf("wav: %d bits per sample, need 16", bitsPer)
	}
	return nil
}

func readData(r io.Reader, size uint32, channels int) ([]int16, error) {
	var b []byte
	var err error
	if size == wavUnknownSize || size == 0 {
		// Written by a streaming tool: take what is there.
		b, err = io.ReadAll(r)
	} else {
		// ReadAll grows as data arrives, so a lying size costs nothing.
		b, err = io.ReadAll(io.LimitReader(r, int64(size)))
		if err == nil && len(b) < int(size) {
			return nil, fmt.Errorf("wav: data chunk truncated: %d of %d bytes", len(b), size)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("wav: reading data: %w", err)
	}
	frame := 2 * channels
	b = b[:len(b)/frame*frame] // a torn last sample frame is dropped
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// StereoWriter streams a 2-channel 8 kHz 16-bit PCM WAV file: the header
// goes out first with zero sizes, samples follow as they come, and Close
// patches the sizes in. A crash before Close leaves a file whose data size
// is 0, which ReadWAV/ReadStereoWAV (and most players) read to the end.
// A StereoWriter is not safe for concurrent use.
type StereoWriter struct {
	w      io.WriteSeeker
	start  int64 // offset of the header in w
	bw     *bufio.Writer
	frame  []byte
	data   int64 // bytes of sample data written
	err    error // sticky
	closed bool
}

const wavHeaderSize = 44

// maxWAVData keeps the RIFF size (data + 36) within 32 bits: about 37 hours
// of 8 kHz stereo.
const maxWAVData = 0xFFFFFFFF - 36 - 3

// NewStereoWriter writes the WAV header to w and returns a writer for the
// samples. Close does not close w.
func NewStereoWriter(w io.WriteSeeker) (*StereoWriter, error) {
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	sw := &StereoWriter{w: w, start: start, bw: bufio.NewWriterSize(w, 8192)}
	if _, err := sw.bw.Write(stereoHeader(0)); err != nil {
		return nil, fmt.Errorf("wav: writing header: %w", err)
	}
	return sw, nil
}

// WriteWAV writes pcm as a complete mono 8 kHz 16-bit PCM WAV file.
func WriteWAV(w io.Writer, pcm []int16) error {
	if int64(len(pcm))*2 > maxWAVData {
		return errors.New("wav: too many samples for one WAV file")
	}
	b := wavHeader(1, uint32(len(pcm)*2))
	b = append(b, make([]byte, len(pcm)*2)...)
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[wavHeaderSize+2*i:], uint16(s))
	}
	_, err := w.Write(b)
	return err
}

func stereoHeader(data uint32) []byte { return wavHeader(2, data) }

func wavHeader(channels uint16, data uint32) []byte {
	h := make([]byte, 0, wavHeaderSize)
	le := binary.LittleEndian
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, 36+data)
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, 16)
	h = le.AppendUint16(h, wavFormatPCM)
	h = le.AppendUint16(h, channels)
	h = le.AppendUint32(h, SampleRate)                    // sample rate
	h = le.AppendUint32(h, SampleRate*2*uint32(channels)) // byte rate
	h = le.AppendUint16(h, 2*channels)                    // block align
	h = le.AppendUint16(h, 16)                            // bits per sample
	h = append(h, "data"...)
	h = le.AppendUint32(h, data)
	return h
}

// Write appends samples: left[i] and right[i] play together. If one slice
// is shorter it is padded with silence, so the channels stay aligned.
func (sw *StereoWriter) Write(left, right []int16) error {
	if sw.closed {
		return errors.New("wav: write after Close")
	}
	if sw.err != nil {
		return sw.err
	}
	n := max(len(left), len(right))
	if sw.data+int64(n)*4 > maxWAVData {
		sw.err = errors.New("wav: recording exceeds the 4 GiB WAV limit")
		return sw.err
	}
	if cap(sw.frame) < n*4 {
		sw.frame = make([]byte, n*4)
	}
	b := sw.frame[:n*4]
	for i := range n {
		var l, r int16
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		binary.LittleEndian.PutUint16(b[4*i:], uint16(l))
		binary.LittleEndian.PutUint16(b[4*i+2:], uint16(r))
	}
	if _, err := sw.bw.Write(b); err != nil {
		sw.err = fmt.Errorf("wav: writing samples: %w", err)
		return sw.err
	}
	sw.data += int64(len(b))
	return nil
}

// Samples is the number of sample pairs written so far.
func (sw *StereoWriter) Samples() int64 { return sw.data / 4 }

// Close flushes the samples and patches the RIFF and data sizes into the
// header. It does not close the underlying writer.
func (sw *StereoWriter) Close() error {
	if sw.closed {
		return nil
	}
	sw.closed = true
	if sw.err != nil {
		return sw.err
	}
	if err := sw.bw.Flush(); err != nil {
		return fmt.Errorf("wav: writing samples: %w", err)
	}
	end, err := sw.w.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("wav: patching sizes: %w", err)
	}
	if _, err := sw.w.Seek(sw.start, io.SeekStart); err != nil {
		return fmt.Errorf("wav: patching sizes: %w", err)
	}
	if _, err := sw.w.Write(stereoHeader(uint32(sw.data))); err != nil {
		return fmt.Errorf("wav: patching sizes: %w", err)
	}
	if _, err := sw.w.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("wav: patching sizes: %w", err)
	}
	return nil
}
