package sip

// SetTrunks replaces the switch's trunks while it runs (the application
// reloads them when an administrator changes one). They are checked like
// Options.Trunks; on error nothing changes. Calls already placed keep the
// trunk they went out on; new INVITEs and Originates see the new set.
// Registrations follow (register.go): a new trunk with Register starts
// registering, a removed one or one no longer registering un-REGISTERs,
// one whose address, credentials or expiry changed does both; the others
// go on untouched.
func (s *Switch) SetTrunks(trunks []Trunk) error {
	prepared, err := prepareTrunks(trunks)
	if err != nil {
		return err
	}
	// s.regs.mu across both keeps concurrent calls from leaving the
	// trunks of one and the registrations of the other.
	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()
	s.mu.Lock()
	s.opt.Trunks = prepared // a new slice: legs holding a *Trunk keep the old one
	s.mu.Unlock()
	s.syncRegistrations(prepared)
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
