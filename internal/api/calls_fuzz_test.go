package api_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/routing"
)

// Random calls and random actions on them — answers, hang-ups from either
// side in every state, phones rejecting, holds, transfers, consults,
// presence changes, the clock jumping past alerting timeouts and patience —
// through the API on the simulated switch and the real ACD. After every
// step the ACD and the agent sessions agree (IDLE ⇔ idle, an offer ringing
// ⇔ ALERTING), and at the end every agent gets back to IDLE: nobody is stuck.
func TestRandomCallsNeverStrandAnAgent(t *testing.T) {
	seeds := 8
	if testing.Short() {
		seeds = 1
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { fuzzCalls(t, int64(seed), 250) })
	}
}

func fuzzCalls(t *testing.T, seed int64, steps int) {
	ce := startCalls(t)
	rng := rand.New(rand.NewSource(seed))
	users := []string{"agent1", "agent2", "agent3"}
	ids := map[string]string{}
	// Time-limited mandatory wrap-up, so after-call work is part of the mix.
	ce.must(t, 200, "PUT", "/api/v2/routing/queues/"+ce.ventas, ce.token(t, pAdmin), map[string]any{"name": "Ventas",
		"acwSettings": map[string]any{"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 20000}})
	for i, u := range users {
		ids[u] = ce.onQueue(t, u, fmt.Sprintf("100%d", i+1))
	}
	var convs []string
	var log []string
	did := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }
	defer func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("seed %d actions:\n%s", seed, strings.Join(log, "\n"))
		}
	}()
	send := func(method, path, who string, body any) int {
		return ce.send(t, method, path, ce.token(t, who), body).status
	}
	for step := 0; step < steps; step++ {
		switch r := rng.Intn(100); {
		case r < 20 || len(convs) == 0:
			args := []any{}
			if rng.Intn(2) == 0 {
				args = append(args, "patienceSeconds", 5+rng.Intn(40))
			}
			convs = append(convs, ce.inject(t, "Ventas", fmt.Sprintf("+3460000%04d", step), args...))
			did("inject %v", args)
		case r < 30:
			d := time.Duration(rng.Intn(5)) * time.Second
			if rng.Intn(4) == 0 {
				d = time.Duration(5+rng.Intn(30)) * time.Second // past alerting timeouts, patience, wrap-up limits
			}
			ce.advance(t, d)
			did("advance %s", d)
		case r < 38:
			u := users[rng.Intn(len(users))]
			p := []string{presenceOnQueue, presenceOnQueue, presenceOnQueue, presenceBreak, presenceAvailable}[rng.Intn(5)]
			st := send("PATCH", "/api/v2/users/"+ids[u]+"/presences/purecloud", u, map[string]any{"presenceDefinition": map[string]any{"id": p}})
			did("%s presence %s: %d", u, p[:8], st)
		default:
			// Mostly live calls; now and then an ended one (expect refusals).
			cid := convs[rng.Intn(len(convs))]
			c := ce.conv(t, cid)
			for try := 0; try < 8 && c["state"] == "disconnected" && !hasACW(c); try++ {
				cid = convs[rng.Intn(len(convs))]
				c = ce.conv(t, cid)
			}
			userOf := func(p map[string]any) string {
				if u, ok := p["user"].(map[string]any); ok {
					for name, id := range ids {
						if id == u["id"] {
							return name
						}
					}
				}
				return pSupervisor
			}
			var alerting, agents, customers, acw []map[string]any
			for _, p := range c.parts() {
				switch {
				case p["user"] != nil && p["state"] == "alerting":
					alerting = append(alerting, p)
				case p["user"] != nil && p["state"] == "connected" && p["purpose"] != "monitor":
					agents = append(agents, p)
				case p["purpose"] == "customer" && p["state"] == "connected":
					customers = append(customers, p)
				}
				if p["afterCallWork"] == true {
					acw = append(acw, p)
				}
			}
			pick := func(ps []map[string]any) map[string]any {
				if len(ps) == 0 {
					ps = c.parts() // nothing fits: try it on anyone (expect a refusal)
				}
				return ps[rng.Intn(len(ps))]
			}
			legOf := func(p map[string]any) string {
				for _, l := range ce.sw.Legs() {
					if l.Tags["participantId"] == p["id"] || (p["purpose"] == "customer" && l.Inbound && "tel:"+l.From == p["ani"]) {
						return l.ID
					}
				}
				return ""
			}
			var st int
			a := rng.Intn(12)
			if len(alerting) > 0 && rng.Intn(2) == 0 {
				a = 0
			}
			switch a {
			case 0, 1, 2:
				p := pick(alerting)
				st = send("PATCH", partPath(cid, p), userOf(p), map[string]any{"state": "connected"})
				did("%s answers %s %s: %d", userOf(p), p["purpose"], p["state"], st)
			case 3:
				p := pick(agents)
				st = send("PATCH", partPath(cid, p), userOf(p), map[string]any{"state": "disconnected"})
				did("%s hangs up (%s %s): %d", userOf(p), p["purpose"], p["state"], st)
			case 4:
				p := pick(customers)
				if l := legOf(p); l != "" {
					did("customer hangs up: %v", ce.sw.HangupFromPeer(l))
				}
			case 5:
				p := pick(alerting)
				if l := legOf(p); l != "" {
					did("%s's phone rejects: %v", userOf(p), ce.sw.RejectPhone(l))
				}
			case 6:
				p := pick(agents)
				st = send("PATCH", partPath(cid, p), userOf(p), map[string]any{"held": rng.Intn(2) == 0})
				did("%s hold: %d", userOf(p), st)
			case 7:
				p := pick(agents)
				st = send("POST", "/api/v2/conversations/"+cid+"/participants/"+p["id"].(string)+"/replace/queue", userOf(p), map[string]any{"queueName": "Ventas"})
				did("%s transfers to Ventas: %d", userOf(p), st)
			case 8, 9:
				ag, cu := pick(agents), pick(customers)
				other := users[rng.Intn(len(users))]
				switch rng.Intn(4) {
				case 0:
					st = send("POST", partPath(cid, cu)+"/consult/agent", userOf(ag), map[string]any{"userId": ids[other]})
					did("%s consults %s: %d", userOf(ag), other, st)
				case 1:
					st = send("DELETE", partPath(cid, cu)+"/consult", userOf(ag), nil)
					did("%s ends the consult: %d", userOf(ag), st)
				case 2:
					st = send("POST", partPath(cid, cu)+"/consult/complete", userOf(ag), nil)
					did("%s completes the consult: %d", userOf(ag), st)
				case 3:
					sp := []string{"DESTINATION", "OBJECT", "BOTH"}[rng.Intn(3)]
					st = send("PATCH", partPath(cid, cu)+"/consult", userOf(ag), map[string]any{"speakTo": sp})
					did("%s speaks to %s: %d", userOf(ag), sp, st)
				}
			case 10, 11:
				p := pick(acw)
				st = send("PATCH", partPath(cid, p), userOf(p), map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada}})
				did("%s wraps up: %d", userOf(p), st)
			}
			if st >= 500 {
				t.Fatalf("step %d: server error %d", step, st)
			}
		}
		ce.quiet(t)
		ce.checkAgreement(t, ids, fmt.Sprintf("step %d", step))
	}

	// The way out: every call is hung up, every wrap-up recorded, every
	// agent picks On Queue — and is IDLE.
	for _, cid := range convs {
		c := ce.conv(t, cid)
		if c["state"] != "disconnected" {
			ce.must(t, 200, "PATCH", "/api/v2/conversations/calls/"+cid, ce.token(t, pSupervisor), map[string]any{"state": "disconnected"})
		}
	}
	ce.quiet(t)
	for _, cid := range convs {
		for _, p := range ce.conv(t, cid).parts() {
			if p["afterCallWork"] == true {
				u := p["user"].(map[string]any)["id"]
				for name, id := range ids {
					if id == u {
						ce.must(t, 202, "PATCH", partPath(cid, p), ce.token(t, name), map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada}})
					}
				}
			}
		}
	}
	for name, id := range ids {
		ce.must(t, 200, "PATCH", "/api/v2/users/"+id+"/presences/purecloud", ce.token(t, name), onQueueBody())
	}
	ce.quiet(t)
	for name, id := range ids {
		if rs := ce.must(t, 200, "GET", "/api/v2/users/"+id+"/routingstatus", ce.token(t, name), nil).obj(t); rs["status"] != "IDLE" {
			t.Errorf("seed %d: %s is stuck in %v", seed, name, rs["status"])
		}
		if st, _ := ce.app.Engine().AgentState(t.Context(), id); st.Status != routing.StatusIdle {
			t.Errorf("seed %d: the ACD has %s %s", seed, name, st.Status)
		}
	}
	if legs := ce.sw.Legs(); len(legs) != 0 {
		t.Errorf("seed %d: %d legs still up: %+v", seed, len(legs), legs)
	}
	if ents := ce.must(t, 200, "GET", "/api/v2/conversations/monitorable", ce.token(t, pSupervisor), nil).obj(t)["entities"].([]any); len(ents) != 0 {
		t.Errorf("seed %d: live conversations left: %v", seed, ents)
	}
}

func hasACW(c conv) bool {
	for _, p := range c.parts() {
		if p["afterCallWork"] == true {
			return true
		}
	}
	return false
}

// checkAgreement: the ACD's view of every agent matches the session's.
func (ce *callEnv) checkAgreement(t *testing.T, ids map[string]string, where string) {
	t.Helper()
	for name, id := range ids {
		v := ce.app.Sessions.Get(id)
		st, err := ce.app.Engine().AgentState(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		alerting := false
		for _, a := range v.Activities {
			alerting = alerting || a == "alerting"
		}
		switch {
		case v.Status == "IDLE" && st.Status != routing.StatusIdle:
			t.Fatalf("%s: %s is IDLE but the ACD has %s", where, name, st.Status)
		case st.Status == routing.StatusIdle && v.Status != "IDLE":
			t.Fatalf("%s: the ACD routes to %s, who is %s", where, name, v.Status)
		case st.Status == routing.StatusAlerting && !alerting:
			t.Fatalf("%s: the ACD offered %s (%s) but no phone rings for them (%v)", where, name, st.Offered, v.Activities)
		}
	}
}
