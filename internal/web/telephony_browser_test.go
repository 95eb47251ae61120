package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/session"
)

// TestBrowserTelephony drives the console's SIP trunks and Recordings tabs
// through tests/browser/telephony.js, on a demo where a simulated call was
// recorded for 5 s (the simulated switch writes a synthetic WAV).
func TestBrowserTelephony(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "tests", "browser"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node not in PATH"
	case !executable(chromiumPath):
		missing = chromiumPath + " missing (apt-get install chromium)"
	case !isDir(filepath.Join(dir, "node_modules", "playwright-core")):
		missing = "tests/browser/node_modules missing (run scripts/test, or npm ci in tests/browser)"
	}
	if missing != "" {
		if os.Getenv("CENTRALITA_REQUIRE_PEERS") == "1" {
			t.Fatalf("CENTRALITA_REQUIRE_PEERS=1 and %s", missing)
		}
		t.Skip(missing)
	}

	clk := clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	a := apptest.Start(t, apptest.Options{Clock: clk})
	ctx := context.Background()
	settle := func() {
		t.Helper()
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := a.Quiesce(qctx); err != nil {
			t.Fatal(err)
		}
	}
	// A recorded call: agent1 takes a call to Ventas, the supervisor
	// records the agent for 5 s.
	u, err := a.Directory.GetUserByUsername(ctx, "agent1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sessions.Login(ctx, u.ID, session.StationRef{Name: "1001"}, "device"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sessions.SetPresence(ctx, u.ID, session.PresenceOnQueue, nil); err != nil {
		t.Fatal(err)
	}
	cid, err := a.SimulateCall(ctx, "Ventas", "+34600111222", time.Hour, time.Hour, conversation.Routing{})
	if err != nil {
		t.Fatal(err)
	}
	settle()
	agentPart := func() conversation.CallMediaParticipant {
		c, err := a.Conversations.Get(ctx, conversation.Actor{Supervisor: true}, cid)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range c.Participants {
			if p.Purpose == "agent" {
				return p
			}
		}
		t.Fatalf("no agent in %+v", c)
		return conversation.CallMediaParticipant{}
	}
	p := agentPart()
	for _, l := range a.Switch().Legs() {
		if l.Tags["participantId"] == p.ID {
			if err := a.Switch().AnswerPhone(l.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	settle()
	sup := conversation.Actor{Supervisor: true}
	if err := a.Conversations.SetRecording(ctx, sup, cid, p.ID, true); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Second)
	settle()
	if err := a.Conversations.SetRecording(ctx, sup, cid, p.ID, false); err != nil {
		t.Fatal(err)
	}
	settle()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rs, err := a.Recordings.List(ctx, cid)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording not indexed: %v", rs)
		}
		time.Sleep(10 * time.Millisecond)
	}

	shots := os.Getenv("CENTRALITA_BROWSER_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	cctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, node, "telephony.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CENTRALITA_URL="+a.URL(), "SCREENSHOT_DIR="+shots, "CONVERSATION_ID="+cid)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("telephony.js failed: %v\n%s", err, out)
	}
	if result := lastJSONLine(string(out)); !strings.Contains(result, `"ok":true`) {
		t.Fatalf("telephony.js exited 0 without an ok result:\n%s", out)
	}
	for _, name := range []string{"telephony-trunks.png", "telephony-recordings.png"} {
		if fi, err := os.Stat(filepath.Join(shots, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s missing or empty: %v", name, err)
		}
	}
}
