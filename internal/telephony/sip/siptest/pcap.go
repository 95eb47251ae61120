package siptest

import (
	"bufio"
	"encoding/binary"
	"os"

	"github.com/centralita/centralita/internal/telephony/audio"
)

// WriteTonePcap writes a capture SIPp can replay (play_pcap_audio): a
// PCMU RTP stream (payload type 0, 20 ms packets, one SSRC) of seconds of
// a sine at freq Hz, as Ethernet/IPv4/UDP frames from 127.0.0.1:6000 to
// 127.0.0.1:6000 (SIPp rewrites the addresses to the call's).
func WriteTonePcap(path string, freq float64, seconds int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4) // microsecond timestamps
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(hdr[20:], 1)     // Ethernet
	w.Write(hdr[:])

	var phase float64
	frames := seconds * audio.SampleRate / audio.FrameSamples
	for i := 0; i < frames; i++ {
		payload := audio.EncodePCMU(nil, audio.Tone(freq, ToneAmplitude, audio.FrameSamples, &phase))
		rtp := make([]byte, 12, 12+len(payload))
		rtp[0], rtp[1] = 0x80, 0
		if i == 0 {
			rtp[1] |= 0x80 // marker: start of the stream
		}
		binary.BigEndian.PutUint16(rtp[2:], uint16(i))
		binary.BigEndian.PutUint32(rtp[4:], uint32(i*audio.FrameSamples))
		binary.BigEndian.PutUint32(rtp[8:], 0x5eed1e55)
		rtp = append(rtp, payload...)
		frame := ethIPv4UDP(6000, 6000, rtp)
		usec := uint64(i) * 20000
		var ph [16]byte
		binary.LittleEndian.PutUint32(ph[0:], uint32(1_700_000_000+usec/1e6))
		binary.LittleEndian.PutUint32(ph[4:], uint32(usec%1e6))
		binary.LittleEndian.PutUint32(ph[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(ph[12:], uint32(len(frame)))
		w.Write(ph[:])
		w.Write(frame)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ethIPv4UDP frames payload as a UDP datagram 127.0.0.1:src → 127.0.0.1:dst.
func ethIPv4UDP(src, dst uint16, payload []byte) []byte {
	b := make([]byte, 14+20+8, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(b[12:], 0x0800) // IPv4
	ip := b[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8], ip[9] = 64, 17 // TTL, UDP
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := b[34:42]
	binary.BigEndian.PutUint16(udp[0:], src)
	binary.BigEndian.PutUint16(udp[2:], dst)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload))) // checksum 0: none
	return append(b, payload...)
}
