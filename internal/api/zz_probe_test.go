package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
)

func TestZZProbe(t *testing.T) {
	t0 := time.Now()
	a := apptest.Start(t, apptest.Options{})
	fmt.Println("start took", time.Since(t0))
	base := a.URL()
	do := func(method, path, tok, ct, body string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s := string(b)
		if len(s) > 1500 {
			s = s[:1500]
		}
		fmt.Printf("== %s %s -> %d %v\n%s\n", method, path, resp.StatusCode, resp.Header, s)
	}
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth("demo-client", "demo-secret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := http.DefaultClient.Do(req)
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(string(b))
	tok := strings.Split(strings.Split(string(b), `"access_token":"`)[1], `"`)[0]
	_ = url.Values{}
	do("GET", "/api/v2/users?pageSize=3&pageNumber=3", tok, "", "")
	do("POST", "/api/v2/users", tok, "application/json", `{"name":"x","bogus":1}`)
	do("POST", "/api/v2/users", tok, "application/json", `{"name":1}`)
	do("POST", "/api/v2/users", tok, "application/json", `{`)
	do("POST", "/api/v2/users", tok, "application/json", `{}`)
	do("POST", "/api/v2/users", tok, "", `{"name":"a","username":"admin"}`)
	do("POST", "/api/v2/routing/skills", tok, "application/json", `{"name":"Ventas"}`)
	do("GET", "/api/v2/users/not-a-uuid", tok, "", "")
	do("GET", "/api/v2/users?pageSize=501", tok, "", "")
	do("GET", "/api/v2/users?pageSize=abc", tok, "", "")
	do("GET", "/api/v2/users/me", tok, "", "")
	do("GET", "/api/v2/nothing", tok, "", "")
	do("PUT", "/api/v2/users", tok, "", "")
	do("GET", "/openapi.json", "", "", "")
	do("GET", "/openapi.yaml", "", "", "")
	do("GET", "/docs", "", "", "")
	do("POST", "/api/v2/routing/queues/00000000-0000-4000-8000-000000000009/members", tok, "application/json", `[{"id":"x"}]`)
	do("POST", "/api/v2/routing/queues/00000000-0000-4000-8000-000000000009/members", tok, "application/json", `{}`)
	do("GET", "/api/v2/presencedefinitions", tok, "", "")
	do("GET", "/api/v2/tokens/me", tok, "", "")
	do("POST", "/api/v2/oauth/clients", tok, "application/json", `{"name":"Demo integration","roles":["agent"]}`)
}
