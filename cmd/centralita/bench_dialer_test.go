package main

import (
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/dialer/dialersim"
)

func TestParseDialerCell(t *testing.T) {
	c, err := parseDialerCell("100/0.1/60")
	if err != nil || c != (dialersim.Cell{Agents: 100, P: 0.1, AHT: time.Minute}) {
		t.Fatalf("100/0.1/60: %+v, %v", c, err)
	}
	for _, bad := range []string{"", "100/0.1", "0/0.1/60", "x/0.1/60", "10/0/60", "10/1.5/60", "10/0.3/0", "10/0.3/60/1"} {
		if _, err := parseDialerCell(bad); err == nil || !strings.Contains(err.Error(), "--cell") {
			t.Errorf("%q: err %v, want a --cell error", bad, err)
		}
	}
}
