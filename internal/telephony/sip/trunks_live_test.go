package sip

import (
	"context"
	"slices"
	"testing"
)

type noCredentials struct{}

func (noCredentials) StationPassword(ctx context.Context, name string) (string, error) {
	return "", ErrUnknownStation
}

func TestSetTrunks(t *testing.T) {
	reg, err := New(Config{Credentials: noCredentials{}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSwitch(Options{Listen: "127.0.0.1:0", Registrar: reg, Trunks: []Trunk{{Name: "a", Address: "127.0.0.1:5090", Inbound: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Trunks(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("Trunks = %v", got)
	}
	if err := s.SetTrunks([]Trunk{{Name: "b", Address: "bad address:x:y"}}); err == nil {
		t.Fatal("a bad trunk was accepted")
	}
	if got := s.Trunks(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("a failed SetTrunks changed them: %v", got)
	}
	if err := s.SetTrunks([]Trunk{{Name: "b", Address: "192.0.2.1", Country: "es"}, {Name: "c", Address: "192.0.2.2:5070"}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Trunks(); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("Trunks = %v", got)
	}
	s.mu.Lock()
	tr, err := s.pickTrunk(map[string]string{"trunk": "c"})
	s.mu.Unlock()
	if err != nil || tr.Name != "c" || tr.port != 5070 {
		t.Fatalf("pickTrunk = %+v %v", tr, err)
	}
	if err := s.SetTrunks(nil); err != nil || len(s.Trunks()) != 0 {
		t.Fatalf("clearing: %v %v", s.Trunks(), err)
	}
}
