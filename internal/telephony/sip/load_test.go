package sip

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// TestSIPpInboundLoad is a rough figure, not a benchmark of record: SIPp
// places CENTRALITA_SIP_LOAD calls (rate CENTRALITA_SIP_RATE per second,
// default 10% of the calls and at most 200/s) through a trunk, the switch answers each and SIPp hangs up after
// 200 ms. Runs only when CENTRALITA_SIP_LOAD is set, e.g.
//
//	CENTRALITA_SIP_LOAD=2000 go test -run TestSIPpInboundLoad -v ./internal/telephony/sip
func TestSIPpInboundLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CENTRALITA_SIP_LOAD"))
	if n <= 0 {
		t.Skip("set CENTRALITA_SIP_LOAD=CALLS to run")
	}
	requireSIPp(t)
	reg, err := New(Config{Credentials: fakeCreds{}, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := NewSwitch(Options{Listen: "127.0.0.1:0", Registrar: reg, Trunks: inboundTrunks("127.0.0.1"),
		Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var answered, normal atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sw.Events() {
			switch ev.Type {
			case telephony.Incoming:
				_ = sw.Answer(bg, ev.Leg)
			case telephony.Answered:
				answered.Add(1)
			case telephony.Hangup:
				if ev.Cause == telephony.CauseNormal {
					normal.Add(1)
				}
			}
		}
	}()
	rate := max(1, min(200, n/10))
	if r, _ := strconv.Atoi(os.Getenv("CENTRALITA_SIP_RATE")); r > 0 {
		rate = r
	}
	ctx, cancel := context.WithTimeout(bg, 5*time.Minute)
	defer cancel()
	cmd := sippCmd(ctx, t, "sipp_uac_inbound.xml", fmt.Sprintf("127.0.0.1:%d", sw.Addr().Port),
		"-p", fmt.Sprint(freeUDPPort(t)), "-m", fmt.Sprint(n), "-r", fmt.Sprint(rate), "-l", "1000")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	sw.Close()
	<-done
	reg.Close()
	t.Logf("%d calls at %d/s offered: %d answered, %d normal hangups, %.1f s, sipp err=%v", n, rate, answered.Load(), normal.Load(), elapsed.Seconds(), err)
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, lastLines(string(out), 30))
	}
	if answered.Load() != int64(n) || normal.Load() != int64(n) {
		t.Fatalf("answered %d, normal hangups %d, want %d", answered.Load(), normal.Load(), n)
	}
}
