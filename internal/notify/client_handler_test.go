package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/problem"
)

// A registered client message reaches its handler with the channel's
// owner and the message's body; the reply carries the handler's verdict.
func TestRegisteredClientMessages(t *testing.T) {
	h, _ := newTestHub(t, Options{})
	type seen struct {
		user string
		body string
	}
	got := make(chan seen, 8)
	h.HandleClient("Phone", func(_ context.Context, p auth.Principal, body json.RawMessage) error {
		got <- seen{p.UserID, string(body)}
		var m struct{ Type string }
		json.Unmarshal(body, &m)
		switch m.Type {
		case "ok":
			return nil
		case "bad":
			return problem.Invalidf("type", "bad is bad")
		case "theirs":
			return problem.NotFoundf("no such call")
		case "late":
			return problem.Conflictf("callId", "already answered")
		case "nope":
			return problem.Forbiddenf("not yours")
		}
		return errors.New("database on fire")
	})
	ch := mustCreate(t, h, agentP)
	c := dial(t, wsServer(t, h), ch.ID)
	ready(t, c)

	for _, tc := range []struct {
		typ, result, status, text string
	}{
		{"ok", "200", "ok", ""},
		{"bad", "400", "error", "bad is bad"},
		{"theirs", "404", "error", "no such call"},
		{"late", "409", "error", "already answered"},
		{"nope", "403", "error", "not yours"},
		{"fire", "500", "error", "failed to handle"},
	} {
		writeJSON(t, c, map[string]any{"message": "phone", "correlationId": "c-" + tc.typ, "body": map[string]string{"type": tc.typ}})
		m := readJSON(t, c)
		if m["result"] != tc.result || m["status"] != tc.status || m["correlationId"] != "c-"+tc.typ || !strings.Contains(fmt.Sprint(m["message"]), tc.text) {
			t.Errorf("%s answered %v, want result %s status %s with %q", tc.typ, m, tc.result, tc.status, tc.text)
		}
		if strings.Contains(fmt.Sprint(m["message"]), "on fire") {
			t.Errorf("an internal error leaked to the client: %v", m)
		}
		s := <-got
		if s.user != agentP.UserID || !strings.Contains(s.body, `"type":"`+tc.typ+`"`) {
			t.Errorf("handler saw %+v", s)
		}
	}
	// Unregistered names are still refused, naming what is expected.
	writeJSON(t, c, map[string]any{"message": "dial"})
	if m := readJSON(t, c); m["result"] != "400" || !strings.Contains(fmt.Sprint(m["message"]), "unknown message dial") {
		t.Errorf("unknown message answered %v", m)
	}
}
