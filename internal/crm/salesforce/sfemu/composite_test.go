package sfemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	var v any
	_ = json.Unmarshal([]byte(`{"id":"001","records":[{"Id":"a"},{"Id":"b","x":[[1,2]]}],"attributes":{"type":"Contact"}}`), &v)
	for path, want := range map[string]any{"id": "001", "records[1].Id": "b", "attributes.type": "Contact", "records[1].x[0][1]": 2.0} {
		if got, ok := lookup(v, path); !ok || got != want {
			t.Errorf("lookup(%s) = %v %v, want %v", path, got, ok, want)
		}
	}
	for _, path := range []string{"nope", "records[2].Id", "records[x]", "id.more", "records[0"} {
		if got, ok := lookup(v, path); ok {
			t.Errorf("lookup(%s) = %v, want no value", path, got)
		}
	}
}

func TestCompositeTopLevelErrors(t *testing.T) {
	e := New()
	defer e.Close()
	e.mu.Lock()
	e.tokens["tok"] = true
	e.mu.Unlock()
	post := func(body string) (int, string) {
		req, _ := http.NewRequest("POST", e.URL()+"/services/data/v66.0/composite", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := e.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	var subs []string
	for i := 0; i < 26; i++ {
		subs = append(subs, fmt.Sprintf(`{"method":"GET","url":"/services/data/v66.0/sobjects/User/x","referenceId":"r%d"}`, i))
	}
	for body, code := range map[string]string{
		`{"compositeRequest":[` + strings.Join(subs, ",") + `]}`: "LIMIT_EXCEEDED",
		`{"compositeRequest":[]}`:                                "INVALID_INPUT",
		`{"compositeRequest":[{"method":"GET","url":"/x","referenceId":"a"},{"method":"GET","url":"/x","referenceId":"a"}]}`: "INVALID_INPUT",
		`not json`: "JSON_PARSER_ERROR",
	} {
		if st, b := post(body); st != 400 || !strings.Contains(b, code) {
			t.Errorf("%.60s: %d %s, want 400 %s", body, st, b, code)
		}
	}
	// A subrequest outside the data API, or a nested composite, fails on its own.
	st, b := post(`{"compositeRequest":[{"method":"GET","url":"/services/oauth2/token","referenceId":"a"},{"method":"POST","url":"/services/data/v66.0/composite","referenceId":"b","body":{}}]}`)
	if st != 200 || !strings.Contains(b, `"httpStatusCode":404`) || !strings.Contains(b, `"httpStatusCode":400`) {
		t.Errorf("bad subrequest urls: %d %s", st, b)
	}
}
