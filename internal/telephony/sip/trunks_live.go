package sip

// SetTrunks replaces the switch's trunks while it runs (the application
// reloads them when an administrator changes one). They are checked like
// Options.Trunks; on error nothing changes. Calls already placed keep the
// trunk they went out on; new INVITEs and Originates see the new set.
func (s *Switch) SetTrunks(trunks []Trunk) error {
	prepared, err := prepareTrunks(trunks)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.opt.Trunks = prepared // a new slice: legs holding a *Trunk keep the old one
	s.mu.Unlock()
	return nil
}

// Trunks returns the names of the trunks in use, in order.
func (s *Switch) Trunks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.opt.Trunks))
	for i, t := range s.opt.Trunks {
		out[i] = t.Name
	}
	return out
}
