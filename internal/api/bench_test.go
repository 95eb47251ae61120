package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

func benchToken(b *testing.B, base string) string {
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	return tok.AccessToken
}

// BenchmarkListUsers is one authenticated, rate-limited, paged API request
// over loopback: token lookup, role check, two queries, JSON.
func BenchmarkListUsers(b *testing.B) {
	a := apptest.Start(b, apptest.Options{RateLimit: 100000})
	tok := benchToken(b, a.URL())
	req, _ := http.NewRequest("GET", a.URL()+"/api/v2/users?pageSize=25", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

// BenchmarkCreateSkill is one write: validation, a transaction with the row
// and its outbox event, then the relay publishing it to JetStream.
func BenchmarkCreateSkill(b *testing.B) {
	a := apptest.Start(b, apptest.Options{RateLimit: 100000})
	tok := benchToken(b, a.URL())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", a.URL()+"/api/v2/routing/skills", strings.NewReader(fmt.Sprintf(`{"name":"bench-%d"}`, i)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
