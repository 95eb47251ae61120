package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/api"
	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/clock"
)

// Guessing client secrets from one address is cut off after
// MaxFailedLoginsPerMinute failures — even the right secret is then refused
// until the window passes — and successes are not counted.
func TestFailedClientAuthenticationsAreThrottled(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	a := apptest.Start(t, apptest.Options{Clock: fake})
	try := func(secret string) *http.Response {
		req, _ := http.NewRequest("POST", a.URL()+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-client", secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for i := 0; i < 3; i++ {
		if res := try("demo-secret"); res.StatusCode != 200 {
			t.Fatalf("right secret: %d", res.StatusCode)
		}
	}
	for i := 0; i < api.MaxFailedLoginsPerMinute; i++ {
		if res := try("wrong"); res.StatusCode != 401 {
			t.Fatalf("wrong secret #%d: %d", i+1, res.StatusCode)
		}
	}
	res := try("demo-secret")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures want 429 with Retry-After, got %d %q", api.MaxFailedLoginsPerMinute, res.StatusCode, res.Header.Get("Retry-After"))
	}
	fake.Advance(61 * time.Second)
	if res := try("demo-secret"); res.StatusCode != 200 {
		t.Fatalf("after the window: %d", res.StatusCode)
	}
}
