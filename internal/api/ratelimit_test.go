package api_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
)

func TestRateLimitPerToken(t *testing.T) {
	clk := newFakeClock()
	e := startEnv(t, apptest.Options{RateLimit: 5, Clock: clk})
	tok, other := e.token(t, pAdminCC), e.token(t, pAgent)

	header := func(r *response, name string) int {
		t.Helper()
		n, err := strconv.Atoi(r.header.Get(name))
		if err != nil {
			t.Fatalf("header %s = %q: %v", name, r.header.Get(name), err)
		}
		return n
	}
	for i := 1; i <= 5; i++ {
		r := e.must(t, 200, "GET", "/api/v2/users", tok, nil)
		if got := header(r, "inin-ratelimit-count"); got != i {
			t.Errorf("request %d: inin-ratelimit-count %d", i, got)
		}
		if got := header(r, "inin-ratelimit-allowed"); got != 5 {
			t.Errorf("inin-ratelimit-allowed %d, want 5", got)
		}
		if got := header(r, "inin-ratelimit-reset"); got < 1 || got > 60 {
			t.Errorf("inin-ratelimit-reset %d, want 1..60", got)
		}
	}
	clk.Advance(30 * time.Second)
	r := e.send(t, "GET", "/api/v2/users", tok, nil)
	m := errorBody(t, r, 429, "too.many.requests")
	retry := header(r, "Retry-After")
	if retry != 30 {
		t.Errorf("Retry-After %d, want the 30 s left in the window", retry)
	}
	if header(r, "inin-ratelimit-reset") != retry || header(r, "inin-ratelimit-allowed") != 5 || header(r, "inin-ratelimit-count") != 5 {
		t.Errorf("429 rate-limit headers: %v", r.header)
	}
	if p, _ := m["messageParams"].(map[string]any); p["retryAfter"] != "30" {
		t.Errorf("messageParams %v", m["messageParams"])
	}
	// Any endpoint, and writes too: the limit is per token.
	errorBody(t, e.send(t, "POST", "/api/v2/routing/skills", tok, map[string]any{"name": "Limited"}), 429, "too.many.requests")

	// Another token is not affected.
	e.must(t, 200, "GET", "/api/v2/users", other, nil)

	// The next window restores service.
	clk.Advance(30 * time.Second)
	r = e.must(t, 200, "GET", "/api/v2/users", tok, nil)
	if header(r, "inin-ratelimit-count") != 1 {
		t.Errorf("new window starts at count %s", r.header.Get("inin-ratelimit-count"))
	}
	// Nothing was created while limited.
	if n := e.must(t, 200, "GET", "/api/v2/routing/skills?name=Limited", other, nil).obj(t)["total"]; n != float64(0) {
		t.Errorf("a rate-limited POST created %v skills", n)
	}
}
