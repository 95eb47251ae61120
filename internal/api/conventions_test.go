package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/demo"
)

func TestCorrelationIDOnEveryResponse(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	tok := e.token(t, pAdminCC)
	cases := []struct {
		method, path, token string
		status              int
	}{
		{"GET", "/api/v2/users", tok, 200},
		{"GET", "/api/v2/users", "", 401},
		{"GET", "/api/v2/users/00000000-0000-4000-8000-00000000dead", tok, 404},
		{"GET", "/api/v2/no/such/thing", tok, 404},
		{"DELETE", "/api/v2/users", tok, 405},
		{"GET", "/healthz", "", 200},
		{"GET", "/metrics", "", 200},
		{"GET", "/openapi.json", "", 200},
		{"POST", "/oauth/token", "", 400},
		{"GET", "/ui/", "", 200},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.send(t, c.method, c.path, c.token, nil)
			if r.status != c.status {
				t.Fatalf("got %s, want %d", r, c.status)
			}
			if cid := r.header.Get("ININ-Correlation-Id"); !uuidRE.MatchString(cid) {
				t.Errorf("ININ-Correlation-Id %q, want a generated UUID", cid)
			}
			sent := "test-corr-" + strings.ReplaceAll(c.path, "/", "-")
			r = e.send(t, c.method, c.path, c.token, nil, "ININ-Correlation-Id", sent)
			if got := r.header.Get("ININ-Correlation-Id"); got != sent {
				t.Errorf("ININ-Correlation-Id %q, want the sent %q", got, sent)
			}
			if r.status >= 400 && strings.HasPrefix(c.path, "/api/") {
				if m := errorBody(t, r, c.status, ""); m["contextId"] != sent {
					t.Errorf("contextId %v, want %q", m["contextId"], sent)
				}
			}
		})
	}
}

func TestErrorBodies(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin, agent := e.token(t, pAdminCC), e.token(t, pAgentCC)
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
		hdr                       []string
	}{
		{"no token", "GET", "/api/v2/users", "", nil, 401, "authentication.required", nil},
		{"bad token", "GET", "/api/v2/users", "not-a-token", nil, 401, "bad.credentials", nil},
		{"forbidden", "POST", "/api/v2/routing/skills", agent, map[string]any{"name": "x"}, 403, "missing.permissions", nil},
		{"not found", "GET", "/api/v2/routing/queues/00000000-0000-4000-8000-00000000dead", admin, nil, 404, "not.found", nil},
		{"unknown path", "GET", "/api/v2/nope", admin, nil, 404, "not.found", nil},
		{"unknown oauth path", "GET", "/oauth/nope", "", nil, 404, "not.found", nil},
		{"wrong method", "PATCH", "/api/v2/routing/queues", admin, nil, 405, "method.not.allowed", nil},
		{"bad request", "POST", "/api/v2/routing/skills", admin, `{"name":`, 400, "bad.request", nil},
		{"bad query", "GET", "/api/v2/users?pageSize=x", admin, nil, 400, "bad.request", nil},
		{"duplicate", "POST", "/api/v2/routing/skills", admin, map[string]any{"name": "Ventas"}, 400, "duplicate.value", nil},
		{"no body", "POST", "/api/v2/routing/skills", admin, nil, 400, "bad.request", nil},
		{"media type", "POST", "/api/v2/routing/skills", admin, `{"name":"x"}`, 415, "unsupported.media.type", []string{"Content-Type", "text/plain"}},
		{"too large", "POST", "/api/v2/routing/skills", admin, `{"name":"` + strings.Repeat(" ", 1<<20) + `"}`, 413, "request.entity.too.large", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errorBody(t, e.send(t, c.method, c.path, c.token, c.body, c.hdr...), c.status, c.code)
		})
	}
}

func TestUnauthenticated(t *testing.T) {
	clk := newFakeClock()
	e := startEnv(t, apptest.Options{Clock: clk})
	tok := e.clientCredentials(t, demo.ClientID, demo.ClientSecret)
	person := e.login(t, "agent1", "agent")
	for name, hdr := range map[string]string{
		"missing":      "",
		"empty bearer": "Bearer ",
		"basic":        "Basic " + tok.AccessToken,
		"no scheme":    tok.AccessToken,
		"unknown":      "Bearer abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
		"refresh":      "Bearer " + person.RefreshToken,
		"huge":         "Bearer " + strings.Repeat("a", 600),
	} {
		t.Run(name, func(t *testing.T) {
			var r *response
			if hdr == "" {
				r = e.send(t, "GET", "/api/v2/users", "", nil)
			} else {
				r = e.send(t, "GET", "/api/v2/users", "", nil, "Authorization", hdr)
			}
			errorBody(t, r, 401, "")
			if r.header.Get("inin-ratelimit-count") != "" {
				t.Errorf("an unauthenticated request counted against a rate limit")
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		e.must(t, 200, "GET", "/api/v2/users", tok.AccessToken, nil)
		e.must(t, 200, "GET", "/api/v2/users", person.AccessToken, nil)
		clk.Advance(time.Hour + time.Second) // the web client's tokens last an hour
		errorBody(t, e.send(t, "GET", "/api/v2/users", person.AccessToken, nil), 401, "bad.credentials")
		e.must(t, 200, "GET", "/api/v2/users", tok.AccessToken, nil)
		clk.Advance(23 * time.Hour) // client credentials: 24 h
		errorBody(t, e.send(t, "GET", "/api/v2/users", tok.AccessToken, nil), 401, "bad.credentials")
	})
}

func TestUnknownPathAndMethod(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	tok := e.token(t, pAdminCC)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v2/nothing", 404},
		{"GET", "/api/v2/users/00000000-0000-4000-8000-000000000001/nothing", 404},
		{"POST", "/api/v3/users", 404},
		{"PUT", "/api/v2/users", 405},
		{"DELETE", "/api/v2/routing/queues", 405},
		{"POST", "/api/v2/tokens/me", 405},
		{"GET", "/oauth/token", 405},
	} {
		r := e.send(t, c.method, c.path, tok, nil)
		m := errorBody(t, r, c.status, "")
		if msg, _ := m["message"].(string); !strings.Contains(msg, "/") {
			t.Errorf("%s %s: message %q does not name the path", c.method, c.path, msg)
		}
	}
}

// walk calls f for every key/value pair in a decoded JSON document.
func walk(v any, f func(key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			f(k, c)
			walk(c, f)
		}
	case []any:
		for _, c := range x {
			walk(c, f)
		}
	}
}

func TestDatesAndIDs(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	tok := e.token(t, pAdminCC)
	agentID := e.userID(t, "agent1")
	ventas := e.findID(t, "/api/v2/routing/queues", "Ventas")
	var dates, ids int
	for _, path := range []string{
		"/api/v2/users", "/api/v2/users/" + agentID, "/api/v2/users/" + agentID + "/routingskills", "/api/v2/users/" + agentID + "/queues",
		"/api/v2/stations", "/api/v2/routing/queues", "/api/v2/routing/queues/" + ventas + "/members",
		"/api/v2/routing/queues/" + ventas + "/wrapupcodes", "/api/v2/routing/skills", "/api/v2/routing/wrapupcodes",
		"/api/v2/presencedefinitions", "/api/v2/presence/definitions", "/api/v2/oauth/clients",
	} {
		m := e.must(t, 200, "GET", path, tok, nil).obj(t)
		walk(m, func(k string, v any) {
			s, isString := v.(string)
			switch {
			case strings.HasPrefix(k, "date") || strings.HasSuffix(k, "Date"):
				dates++
				if !isString || !dateRE.MatchString(s) {
					t.Errorf("%s: %s = %v, want yyyy-mm-ddThh:mm:ss.mmmZ", path, k, v)
				}
			case k == "id" && !strings.HasPrefix(path, "/api/v2/oauth/clients"):
				ids++
				if !isString || !uuidRE.MatchString(s) {
					t.Errorf("%s: id %v is not a lowercase UUID", path, v)
				}
			case k == "selfUri" || k == "skillUri" || strings.HasSuffix(k, "Uri") && k != "registeredRedirectUri":
				if !isString || !strings.HasPrefix(s, "/api/v2/") {
					t.Errorf("%s: %s = %v, want a relative /api/v2/ path", path, k, v)
				}
			case k == "version" && strings.HasPrefix(path, "/api/v2/users"):
				if _, ok := v.(float64); !ok {
					t.Errorf("%s: user version %v is not a number", path, v)
				}
			case k == "version" && strings.HasPrefix(path, "/api/v2/routing/skills"):
				if !isString {
					t.Errorf("%s: skill version %v is not a string", path, v)
				}
			}
		})
	}
	if dates < 20 || ids < 40 {
		t.Errorf("checked only %d dates and %d ids", dates, ids)
	}
}

// page reads one page of users.
func (e *testEnv) usersPage(t *testing.T, query string) map[string]any {
	t.Helper()
	return e.must(t, 200, "GET", "/api/v2/users?"+query, e.token(t, pAdminCC), nil).obj(t)
}

func TestPaging(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	var all []string
	for n := 1; n <= 3; n++ {
		p := e.usersPage(t, fmt.Sprintf("pageSize=3&pageNumber=%d", n))
		for k, want := range map[string]float64{"pageSize": 3, "pageNumber": float64(n), "total": 7, "pageCount": 3} {
			if p[k] != want {
				t.Errorf("page %d: %s = %v (%T), want the number %v", n, k, p[k], p[k], want)
			}
		}
		ents, _ := p["entities"].([]any)
		wantLen := 3
		if n == 3 {
			wantLen = 1
		}
		if len(ents) != wantLen {
			t.Errorf("page %d has %d users, want %d", n, len(ents), wantLen)
		}
		for _, u := range ents {
			all = append(all, u.(map[string]any)["name"].(string))
		}
		uri := func(k string, num int) {
			t.Helper()
			s, ok := p[k].(string)
			if !ok {
				t.Errorf("page %d: %s = %v, want a string", n, k, p[k])
				return
			}
			u, err := url.Parse(s)
			if err != nil || u.IsAbs() || u.Path != "/api/v2/users" || u.Query().Get("pageSize") != "3" || u.Query().Get("pageNumber") != fmt.Sprint(num) {
				t.Errorf("page %d: %s = %q, want relative /api/v2/users with pageSize=3&pageNumber=%d", n, k, s, num)
			}
		}
		uri("firstUri", 1)
		uri("selfUri", n)
		uri("lastUri", 3)
		if n < 3 {
			uri("nextUri", n+1)
		} else if v, ok := p["nextUri"]; ok {
			t.Errorf("last page has nextUri %v; it must be absent", v)
		}
		if n > 1 {
			uri("previousUri", n-1)
		} else if v, ok := p["previousUri"]; ok {
			t.Errorf("first page has previousUri %v; it must be absent", v)
		}
	}
	sorted := slices.Clone(all)
	sort.Strings(sorted)
	if len(all) != 7 || !slices.Equal(all, sorted) || len(slices.Compact(sorted)) != 7 {
		t.Errorf("pages give %v, want the 7 users once each, by name", all)
	}

	t.Run("beyond the last page", func(t *testing.T) {
		p := e.usersPage(t, "pageSize=3&pageNumber=9")
		if ents, _ := p["entities"].([]any); ents == nil || len(ents) != 0 {
			t.Errorf("entities %v, want []", p["entities"])
		}
		if _, ok := p["nextUri"]; ok {
			t.Errorf("nextUri present beyond the end")
		}
	})

	t.Run("zero means default", func(t *testing.T) {
		p := e.usersPage(t, "pageSize=0&pageNumber=0")
		if p["pageSize"] != float64(25) || p["pageNumber"] != float64(1) || p["pageCount"] != float64(1) {
			t.Errorf("got pageSize %v pageNumber %v pageCount %v, want 25, 1, 1", p["pageSize"], p["pageNumber"], p["pageCount"])
		}
		if ents, _ := p["entities"].([]any); len(ents) != 7 {
			t.Errorf("%d users, want 7", len(ents))
		}
		if _, ok := p["nextUri"]; ok {
			t.Error("single page has nextUri")
		}
	})

	t.Run("other query parameters are kept", func(t *testing.T) {
		p := e.usersPage(t, "pageSize=2&sortOrder=descending&state=active")
		for _, k := range []string{"firstUri", "selfUri", "nextUri", "lastUri"} {
			u, err := url.Parse(p[k].(string))
			if err != nil || u.Query().Get("sortOrder") != "descending" || u.Query().Get("state") != "active" || u.Query().Get("pageSize") != "2" {
				t.Errorf("%s = %v, want sortOrder=descending&state=active kept", k, p[k])
			}
		}
		// Following nextUri gives the next page of the same query.
		next := e.must(t, 200, "GET", p["nextUri"].(string), e.token(t, pAdminCC), nil).obj(t)
		if next["pageNumber"] != float64(2) {
			t.Errorf("nextUri leads to page %v", next["pageNumber"])
		}
		got := append(names(toMaps(p["entities"])), names(toMaps(next["entities"]))...)
		if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("descending pages give %v", got)
		}
	})

	t.Run("page size over the maximum", func(t *testing.T) {
		for _, path := range []string{"/api/v2/users?pageSize=501", "/api/v2/routing/queues?pageSize=100000",
			"/api/v2/routing/queues/" + e.findID(t, "/api/v2/routing/queues", "Ventas") + "/members?pageSize=101"} {
			m := errorBody(t, e.send(t, "GET", path, e.token(t, pAdminCC), nil), 400, "bad.request")
			if !slices.Contains(detailFields(m), "pageSize") {
				t.Errorf("%s: details %v do not name pageSize", path, m["details"])
			}
		}
		m := errorBody(t, e.send(t, "GET", "/api/v2/users?pageNumber=-1", e.token(t, pAdminCC), nil), 400, "bad.request")
		if !slices.Contains(detailFields(m), "pageNumber") {
			t.Errorf("details %v do not name pageNumber", m["details"])
		}
	})

	t.Run("id lists", func(t *testing.T) {
		a, b, c := e.userID(t, "agent1"), e.userID(t, "agent2"), e.userID(t, "admin")
		for _, q := range []string{"id=" + a + "," + b + "," + c, "id=" + a + "&id=" + b + "&id=" + c, "id=" + a + "," + b + "&id=" + c} {
			p := e.usersPage(t, q)
			got := []string{}
			for _, u := range toMaps(p["entities"]) {
				got = append(got, u["id"].(string))
			}
			sort.Strings(got)
			want := []string{a, b, c}
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) || p["total"] != float64(3) {
				t.Errorf("%s: got %v (total %v), want %v", q, got, p["total"], want)
			}
		}
		errorBody(t, e.send(t, "GET", "/api/v2/users?id="+a+",nope", e.token(t, pAdminCC), nil), 400, "bad.request")
	})
}

func toMaps(v any) []map[string]any {
	raw, _ := v.([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i], _ = x.(map[string]any)
	}
	return out
}

func TestJSONContentTypeOnGET(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	tok := e.token(t, pAdminCC)
	for _, path := range []string{"/api/v2/users?pageSize=0&pageNumber=0", "/api/v2/routing/queues", "/api/v2/tokens/me", "/api/v2/presencedefinitions"} {
		req, _ := http.NewRequest("GET", e.base+path, nil)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		r := e.do(t, req)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s with Content-Type application/json: %s", path, r)
		}
	}
}
