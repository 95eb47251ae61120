package salesforce_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/crm/salesforce"
)

func dataRequests(logs []string) int {
	n := 0
	for _, l := range logs {
		if l != "POST /services/oauth2/token" {
			n++
		}
	}
	return n
}

func TestCompositeReferences(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	resps, err := c.Composite(ctx(t), true, []salesforce.SubRequest{
		{Method: "POST", URL: "/sobjects/Contact", ReferenceID: "refContact", Body: map[string]any{"LastName": "Ref", "Phone": "+34 91 555 0101"}},
		{Method: "POST", URL: "/sobjects/Task", ReferenceID: "refTask", Body: map[string]any{"Subject": "Call", "WhoId": "@{refContact.id}"}},
		{Method: "GET", URL: "/sobjects/Contact/@{refContact.id}?fields=Id,LastName", ReferenceID: "refGet"},
		{Method: "GET", URL: "/query?q=SELECT+Id+FROM+Contact+WHERE+LastName+%3D+%27Ref%27", ReferenceID: "refQ"},
		{Method: "PATCH", URL: "/services/data/v66.0/sobjects/Contact/@{refQ.records[0].Id}", ReferenceID: "refUpd", Body: map[string]any{"Title": "@{refGet.LastName} @{refTask.success}"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := salesforce.CompositeError(resps); err != nil {
		t.Fatal(err)
	}
	want := []int{201, 201, 200, 200, 204}
	for i, r := range resps {
		if r.StatusCode != want[i] || r.ReferenceID == "" {
			t.Errorf("subresponse %d: %d %s %s, want %d", i, r.StatusCode, r.ReferenceID, r.Body, want[i])
		}
	}
	cid := resps[0].ID()
	if cid == "" || resps[0].Headers["Location"] != "/services/data/v66.0/sobjects/Contact/"+cid {
		t.Errorf("contact id %q, headers %v", cid, resps[0].Headers)
	}
	task := emu.Record("Task", resps[1].ID())
	if task == nil || task["WhoId"] != cid {
		t.Errorf("task %v, want WhoId %s", task, cid)
	}
	var got map[string]any
	if err := json.Unmarshal(resps[2].Body, &got); err != nil || got["Id"] != cid {
		t.Errorf("referenced GET body %s", resps[2].Body)
	}
	if title := emu.Record("Contact", cid)["Title"]; title != "Ref true" {
		t.Errorf("Title = %v, want %q (references resolved in body strings)", title, "Ref true")
	}
	if n := dataRequests(emu.Log()); n != 1 {
		t.Errorf("data requests = %d, want 1", n)
	}
}

func TestCompositeAllOrNoneRollback(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	before := len(emu.Records("Contact"))
	resps, err := c.Composite(ctx(t), true, []salesforce.SubRequest{
		{Method: "POST", URL: "/sobjects/Contact", ReferenceID: "ok", Body: map[string]any{"LastName": "Kept?"}},
		{Method: "POST", URL: "/sobjects/Contact", ReferenceID: "bad", Body: map[string]any{"LastName": "X", "NoSuchField__c": "x"}},
		{Method: "POST", URL: "/sobjects/Task", ReferenceID: "later", Body: map[string]any{"Subject": "Call", "WhoId": "@{ok.id}"}},
	})
	if err != nil {
		t.Fatalf("top-level error %v: subrequest failures belong in the answers", err)
	}
	if !resps[0].Halted() || resps[0].StatusCode != 400 || !resps[2].Halted() {
		t.Errorf("other subrequests not PROCESSING_HALTED: %+v", resps)
	}
	if resps[1].Halted() || !errors.Is(resps[1].Err(), crm.ErrRejected) {
		t.Errorf("failing subrequest: %d %s", resps[1].StatusCode, resps[1].Body)
	}
	err = salesforce.CompositeError(resps)
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.Code != "INVALID_FIELD" || !errors.Is(err, crm.ErrRejected) {
		t.Errorf("CompositeError = %v, want the INVALID_FIELD cause", err)
	}
	if n := len(emu.Records("Contact")); n != before {
		t.Errorf("contacts %d → %d: the first subrequest was not rolled back", before, n)
	}
	if n := len(emu.Tasks()); n != 0 {
		t.Errorf("%d tasks after rollback", n)
	}
	// The store works normally afterwards and ids are not reused.
	id, err := c.Create(ctx(t), "Contact", map[string]string{"LastName": "After"})
	if err != nil || emu.Record("Contact", id) == nil {
		t.Fatalf("create after rollback: %q %v", id, err)
	}
}

func TestCompositePartialSuccess(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	resps, err := c.Composite(ctx(t), false, []salesforce.SubRequest{
		{Method: "POST", URL: "/sobjects/Lead", ReferenceID: "lead", Body: map[string]any{"LastName": "L", "Company": "C"}},
		{Method: "POST", URL: "/sobjects/Lead", ReferenceID: "noCompany", Body: map[string]any{"LastName": "L2"}},
		{Method: "PATCH", URL: "/sobjects/Lead/@{noCompany.id}", ReferenceID: "dependent", Body: map[string]any{"Title": "x"}},
		{Method: "GET", URL: "/sobjects/Lead/00QKg0000000999AAA", ReferenceID: "missing"},
		{Method: "POST", URL: "/sobjects/Task", ReferenceID: "task", Body: map[string]any{"Subject": "Call", "WhoId": "@{lead.id}"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{201, 400, 400, 404, 201}
	for i, r := range resps {
		if r.StatusCode != want[i] {
			t.Errorf("subresponse %s: %d %s, want %d", r.ReferenceID, r.StatusCode, r.Body, want[i])
		}
	}
	var ae *salesforce.APIError
	if !errors.As(resps[1].Err(), &ae) || ae.Code != "REQUIRED_FIELD_MISSING" {
		t.Errorf("noCompany: %v", resps[1].Err())
	}
	if !resps[2].Halted() {
		t.Errorf("reference to a failed subrequest: %s, want PROCESSING_HALTED", resps[2].Body)
	}
	if !errors.Is(resps[3].Err(), crm.ErrNotFound) {
		t.Errorf("missing: %v, want ErrNotFound", resps[3].Err())
	}
	if len(emu.Records("Lead")) != 1 || len(emu.Tasks()) != 1 || emu.Tasks()[0]["WhoId"] != resps[0].ID() {
		t.Errorf("leads %v tasks %v", emu.Records("Lead"), emu.Tasks())
	}
	if err := salesforce.CompositeError(resps); !errors.As(err, &ae) || ae.Code != "REQUIRED_FIELD_MISSING" {
		t.Errorf("CompositeError = %v", err)
	}
}

func TestCompositeRejectedBeforeSending(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	many := make([]salesforce.SubRequest, salesforce.MaxSubRequests+1)
	for i := range many {
		many[i] = salesforce.SubRequest{Method: "GET", URL: "/sobjects/User/x", ReferenceID: fmt.Sprintf("r%d", i)}
	}
	for name, reqs := range map[string][]salesforce.SubRequest{
		"26":        many,
		"none":      nil,
		"duplicate": {{Method: "GET", URL: "/x", ReferenceID: "a"}, {Method: "GET", URL: "/y", ReferenceID: "a"}},
		"bad ref":   {{Method: "GET", URL: "/x", ReferenceID: "a.b"}},
		"method":    {{Method: "TRACE", URL: "/x", ReferenceID: "a"}},
		"url":       {{Method: "GET", URL: "/services/oauth2/token", ReferenceID: "a"}},
	} {
		if _, err := c.Composite(ctx(t), true, reqs); !errors.Is(err, crm.ErrRejected) {
			t.Errorf("%s: err = %v, want ErrRejected", name, err)
		}
	}
	if n := emu.Requests(); n != 0 {
		t.Errorf("requests sent = %d, want none", n)
	}
	// 25 is fine and is one request.
	resps, err := c.Composite(ctx(t), false, many[:salesforce.MaxSubRequests])
	if err != nil || len(resps) != salesforce.MaxSubRequests {
		t.Fatalf("25 subrequests: %d answers, %v", len(resps), err)
	}
	if n := dataRequests(emu.Log()); n != 1 {
		t.Errorf("data requests = %d, want 1", n)
	}
}

func TestCompositeTokenExpiry(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	if _, err := c.Users(ctx(t)); err != nil {
		t.Fatal(err)
	}
	emu.ExpireTokens()
	before := emu.Requests()
	resps, err := c.Composite(ctx(t), true, []salesforce.SubRequest{
		{Method: "POST", URL: "/sobjects/Contact", ReferenceID: "c", Body: map[string]any{"LastName": "Expiry"}},
		{Method: "POST", URL: "/sobjects/Task", ReferenceID: "t", Body: map[string]any{"Subject": "Call", "WhoId": "@{c.id}"}},
	})
	if err != nil || salesforce.CompositeError(resps) != nil {
		t.Fatalf("composite after expiry: %v %v", err, resps)
	}
	if n := emu.Requests() - before; n != 3 {
		t.Errorf("requests after expiry = %d, want 3 (refused, new token, retry)", n)
	}
	if n := tokenRequests(emu); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
	if n := len(emu.Records("Contact")); n != 1 {
		t.Errorf("contacts = %d, want 1 (the refused attempt ran nothing)", n)
	}
	// Other top-level failures are classified like any call.
	emu.SetDown(true)
	if _, err := c.Composite(ctx(t), true, []salesforce.SubRequest{{Method: "GET", URL: "/sobjects/User/x", ReferenceID: "u"}}); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("down: %v, want ErrUnavailable", err)
	}
	emu.SetDown(false)
	emu.SetRateLimited(true)
	if _, err := c.Composite(ctx(t), true, []salesforce.SubRequest{{Method: "GET", URL: "/sobjects/User/x", ReferenceID: "u"}}); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("limited: %v, want ErrUnavailable", err)
	}
}

func TestCompositeCountsOneAPICall(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	emu.SetAPIUsage(100)
	var reqs []salesforce.SubRequest
	for i := 0; i < 10; i++ {
		reqs = append(reqs, salesforce.SubRequest{Method: "POST", URL: "/sobjects/Account", ReferenceID: fmt.Sprintf("a%d", i), Body: map[string]any{"Name": fmt.Sprint("Acme ", i)}})
	}
	before := emu.Requests()
	if _, err := c.Composite(ctx(t), false, reqs); err != nil {
		t.Fatal(err)
	}
	if used, limit := c.APIUsage(); used != 101 || limit != 15000 {
		t.Errorf("APIUsage = %d/%d, want 101/15000", used, limit)
	}
	if n := emu.Requests() - before; n != 2 { // token + composite
		t.Errorf("requests = %d, want 2 (token, one composite)", n)
	}
	if n := len(emu.Records("Account")); n != 10 {
		t.Errorf("accounts = %d", n)
	}
}

func TestCreateWithActivity(t *testing.T) {
	emu, c := setup(t, "client_credentials")
	a := crm.Activity{CallID: "conv-42", Subject: "Inbound call", Direction: "inbound", DurationSeconds: 61, Disposition: "Sales / New",
		RecordType: crm.TypeAccount, RecordID: "001ignored"}
	lead1, task1, err := c.CreateWithActivity(ctx(t), crm.TypeLead, map[string]string{"LastName": "Caller", "Company": "Unknown", "Phone": "+34915550101"}, a)
	if err != nil {
		t.Fatal(err)
	}
	if n := dataRequests(emu.Log()); n != 1 {
		t.Errorf("data requests = %d, want 1 (one composite)", n)
	}
	task := emu.Record("Task", task1)
	if emu.Record("Lead", lead1) == nil || task == nil || task["WhoId"] != lead1 || task["WhatId"] != nil ||
		task["neoCallId__c"] != "conv-42" || task["TaskSubtype"] != "Call" || task["CallType"] != "Inbound" {
		t.Fatalf("lead %q task %v", lead1, task)
	}
	// Same call again: the Task is upserted, not duplicated.
	lead2, task2, err := c.CreateWithActivity(ctx(t), crm.TypeLead, map[string]string{"LastName": "Caller 2", "Company": "Unknown"}, a)
	if err != nil {
		t.Fatal(err)
	}
	if task2 != task1 || len(emu.Tasks()) != 1 {
		t.Errorf("task ids %s/%s, %d tasks; want one", task1, task2, len(emu.Tasks()))
	}
	if got := emu.Record("Task", task1)["WhoId"]; got != lead2 {
		t.Errorf("WhoId = %v, want the new lead %s", got, lead2)
	}
	if n := len(emu.Records("Lead")); n != 2 {
		t.Errorf("leads = %d, want 2 (the refused first attempt was rolled back)", n)
	}
	// A non-person record goes to WhatId.
	acc, task3, err := c.CreateWithActivity(ctx(t), crm.TypeAccount, map[string]string{"Name": "Acme"}, crm.Activity{CallID: "conv-43", Direction: "outbound"})
	if err != nil {
		t.Fatal(err)
	}
	if tk := emu.Record("Task", task3); tk["WhatId"] != acc || tk["WhoId"] != nil || tk["CallType"] != "Outbound" {
		t.Errorf("account task %v", tk)
	}
	// A failing create writes nothing: no orphan Task.
	_, _, err = c.CreateWithActivity(ctx(t), crm.TypeLead, map[string]string{"LastName": "No company"}, crm.Activity{CallID: "conv-44"})
	var ae *salesforce.APIError
	if !errors.Is(err, crm.ErrRejected) || !errors.As(err, &ae) || ae.Code != "REQUIRED_FIELD_MISSING" {
		t.Errorf("lead without company: %v", err)
	}
	if len(emu.Tasks()) != 2 || len(emu.Records("Lead")) != 2 {
		t.Errorf("after a failed composite: %d tasks, %d leads", len(emu.Tasks()), len(emu.Records("Lead")))
	}
	if _, _, err := c.CreateWithActivity(ctx(t), crm.TypeLead, nil, crm.Activity{}); !errors.Is(err, crm.ErrRejected) {
		t.Errorf("no call id: %v", err)
	}
}
