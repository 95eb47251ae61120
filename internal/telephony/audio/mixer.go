package audio

import "github.com/centralita/centralita/internal/telephony"

// Member is one leg in a mixing room.
type Member struct {
	ID   string
	Mode telephony.MixMode // "" counts as telephony.Full
	// Coach is, for a Whisper member, the member who hears it (the agent
	// being coached). Ignored for other modes.
	Coach string
}

// Matrix says who hears whom in a room. Build it with Roles (or NewMatrix
// and SetHears for anything else, e.g. a held leg); it is cheap to copy but
// copies share state, and Mix uses scratch space inside it, so a Matrix
// belongs to one goroutine (the room's ticker).
type Matrix struct {
	ids    []string
	hears  []bool    // hears[l*n+s]: member l hears member s
	frames [][]int16 // Mix's scratch: the speakers' input frames, by index
}

// NewMatrix returns a matrix over ids where nobody hears anybody yet.
// Duplicate ids after the first are ignored.
func NewMatrix(ids ...string) Matrix {
	var uniq []string
	for _, id := range ids {
		if indexOf(uniq, id) < 0 {
			uniq = append(uniq, id)
		}
	}
	n := len(uniq)
	return Matrix{ids: uniq, hears: make([]bool, n*n), frames: make([][]int16, n)}
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// Members returns the member ids in the order given to NewMatrix or Roles.
func (m Matrix) Members() []string { return append([]string(nil), m.ids...) }

// Hears reports whether listener hears speaker. Unknown ids hear nothing and
// are heard by nobody; nobody hears themselves.
func (m Matrix) Hears(listener, speaker string) bool {
	l, s := indexOf(m.ids, listener), indexOf(m.ids, speaker)
	return l >= 0 && s >= 0 && m.hears[l*len(m.ids)+s]
}

// SetHears makes listener hear (or stop hearing) speaker. Setting a member
// to hear itself, or naming an unknown id, does nothing.
func (m Matrix) SetHears(listener, speaker string, on bool) {
	l, s := indexOf(m.ids, listener), indexOf(m.ids, speaker)
	if l < 0 || s < 0 || l == s {
		return
	}
	m.hears[l*len(m.ids)+s] = on
}

// Roles turns conference modes into a matrix. Everybody hears every other
// member whose speech reaches them; what a member's speech reaches depends on
// its mode:
//   - Full (a party, or a supervisor barging in): everybody;
//   - Listen (silent monitoring): nobody;
//   - Whisper (coaching): only its Coach, if the Coach is a member.
//
// Unknown modes are treated as Listen: when in doubt, a supervisor must not
// be heard by the customer.
func Roles(members []Member) Matrix {
	ids := make([]string, len(members))
	for i, mb := range members {
		ids[i] = mb.ID
	}
	m := NewMatrix(ids...)
	seen := map[string]bool{}
	for _, sp := range members {
		if seen[sp.ID] {
			continue // NewMatrix kept the first one
		}
		seen[sp.ID] = true
		switch sp.Mode {
		case telephony.Full, "":
			for _, l := range m.ids {
				m.SetHears(l, sp.ID, true)
			}
		case telephony.Whisper:
			m.SetHears(sp.Coach, sp.ID, true)
		}
	}
	return m
}

// Mix gives each member of m, in out, the saturating sum of the frames in in
// of the members it hears (never its own). Frames are FrameSamples long: a
// missing or short input counts as silence for what it lacks, longer inputs
// are cut. out's existing buffers are reused when their capacity allows, so
// a room that keeps its out map allocates nothing per tick; ids in in or out
// that are not members are left alone.
func Mix(m Matrix, in, out map[string][]int16) {
	n := len(m.ids)
	for i, id := range m.ids {
		m.frames[i] = in[id]
	}
	var acc [FrameSamples]int32
	for l, id := range m.ids {
		acc = [FrameSamples]int32{}
		row := m.hears[l*n : (l+1)*n]
		for s, on := range row {
			f := m.frames[s]
			if !on || len(f) == 0 {
				continue
			}
			f = f[:min(len(f), FrameSamples)]
			for i, v := range f {
				acc[i] += int32(v)
			}
		}
		dst := out[id]
		if cap(dst) < FrameSamples {
			dst = make([]int16, FrameSamples)
		}
		dst = dst[:FrameSamples]
		for i, v := range acc {
			dst[i] = int16(min(max(v, -32768), 32767))
		}
		out[id] = dst
	}
	clear(m.frames) // do not keep the caller's buffers alive
}
