package audio

import "math/bits"

// G.711 µ-law (PCMU, RTP payload type 0) as in ITU-T G.711: 16-bit linear
// samples are clipped to ±32635, biased by 0x84 and coded as sign, 3-bit
// segment and 4-bit mantissa, all bits inverted.

const (
	ulawBias = 0x84
	ulawClip = 32635
)

// ulawDecode maps every µ-law byte to its linear value (the segment midpoint).
var ulawDecode = func() (t [256]int16) {
	for i := range t {
		u := ^byte(i)
		v := (int32(u&0x0F)<<3 + ulawBias) << ((u & 0x70) >> 4)
		if u&0x80 != 0 {
			t[i] = int16(ulawBias - v)
		} else {
			t[i] = int16(v - ulawBias)
		}
	}
	return t
}()

// ulawEncode maps every 16-bit sample (as uint16) to its µ-law byte: 64 KB,
// and a lookup is several times faster than computing the segment.
var ulawEncode = func() *[65536]byte {
	var t [65536]byte
	for i := range t {
		t[i] = encodeULaw(int16(uint16(i)))
	}
	return &t
}()

// EncodeULaw codes one linear sample as µ-law.
func EncodeULaw(s int16) byte { return ulawEncode[uint16(s)] }

func encodeULaw(s int16) byte {
	v := int32(s)
	var sign byte
	if v < 0 {
		sign = 0x80
		v = -v
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias // now 0x84..0x7FFF, so v>>7 is 1..255
	exp := bits.Len32(uint32(v)>>7) - 1
	mant := byte(v>>(exp+3)) & 0x0F
	return ^(sign | byte(exp)<<4 | mant)
}

// DecodeULaw returns the linear value of one µ-law byte.
func DecodeULaw(u byte) int16 { return ulawDecode[u] }

// EncodePCMU codes pcm as µ-law. The result has exactly len(pcm) bytes and
// reuses dst's storage when its capacity is enough (so both EncodePCMU(buf,
// pcm) and EncodePCMU(buf[:0], pcm) work without allocating).
func EncodePCMU(dst []byte, pcm []int16) []byte {
	if cap(dst) < len(pcm) {
		dst = make([]byte, len(pcm))
	}
	dst = dst[:len(pcm)]
	t := ulawEncode
	for i, s := range pcm {
		dst[i] = t[uint16(s)]
	}
	return dst
}

// DecodePCMU decodes µ-law bytes to linear samples. The result has exactly
// len(ulaw) samples and reuses dst's storage when its capacity is enough.
func DecodePCMU(dst []int16, ulaw []byte) []int16 {
	if cap(dst) < len(ulaw) {
		dst = make([]int16, len(ulaw))
	}
	dst = dst[:len(ulaw)]
	for i, u := range ulaw {
		dst[i] = ulawDecode[u]
	}
	return dst
}
