package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

func TestOpenAPIDocsMetricsHealth(t *testing.T) {
	e := startEnv(t, apptest.Options{})

	t.Run("openapi.json", func(t *testing.T) {
		r := e.must(t, 200, "GET", "/openapi.json", "", nil)
		if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "json") {
			t.Errorf("Content-Type %q", ct)
		}
		var doc struct {
			OpenAPI string                                `json:"openapi"`
			Paths   map[string]map[string]json.RawMessage `json:"paths"`
			Comps   struct {
				SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
			} `json:"components"`
		}
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.") {
			t.Errorf("openapi %q", doc.OpenAPI)
		}
		for _, p := range []string{"/api/v2/users", "/api/v2/users/{userId}", "/api/v2/routing/queues", "/api/v2/presencedefinitions", "/api/v2/oauth/clients"} {
			if _, ok := doc.Paths[p]; !ok {
				t.Errorf("path %s missing", p)
			}
		}
		if _, ok := doc.Paths["/api/v2/users"]["get"]; !ok {
			t.Error("GET /api/v2/users missing")
		}
		if _, ok := doc.Comps.SecuritySchemes["oauth"]; !ok {
			t.Error("oauth security scheme missing")
		}
	})
	t.Run("openapi.yaml", func(t *testing.T) {
		r := e.must(t, 200, "GET", "/openapi.yaml", "", nil)
		if !strings.Contains(string(r.body), "/api/v2/users:") {
			t.Error("YAML document lacks /api/v2/users")
		}
	})
	t.Run("docs", func(t *testing.T) {
		r := e.must(t, 200, "GET", "/docs", "", nil)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type %q", ct)
		}
		if b := string(r.body); !strings.Contains(b, "<html") || !strings.Contains(b, "/openapi") {
			t.Errorf("docs page does not load the API document: %s", r)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		e.must(t, 200, "GET", "/api/v2/users", e.token(t, pAdminCC), nil)
		e.send(t, "GET", "/api/v2/users", "", nil) // a 401
		r := e.must(t, 200, "GET", "/metrics", "", nil)
		b := string(r.body)
		for _, want := range []string{
			"# TYPE centralita_http_requests_total counter",
			`centralita_http_requests_total{method="GET",route="GET /api/v2/users",status="200"} 1`,
			`centralita_http_requests_total{method="GET",route="GET /api/v2/users",status="401"} 1`,
			`centralita_http_requests_total{method="POST",route="POST /oauth/token",status="200"}`,
			"centralita_http_request_duration_seconds_bucket",
		} {
			if !strings.Contains(b, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
	t.Run("healthz", func(t *testing.T) {
		r := e.must(t, 200, "GET", "/healthz", "", nil)
		if m := r.obj(t); m["status"] != "ok" {
			t.Errorf("healthz %s", r)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("healthz Cache-Control %q", r.header.Get("Cache-Control"))
		}
	})
}
