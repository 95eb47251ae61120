package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony/audio"
)

// With the simulated switch a recording is a synthetic stereo WAV as long
// as the time recorded: the demo lists and plays it like a real one.
func TestSimRecordingListedAndDownloaded(t *testing.T) {
	ce := startCalls(t)
	ce.onQueue(t, "agent1", "1001")
	cid := ce.inject(t, "Ventas", "+34600111222")
	ce.quiet(t)
	ce.answer(t, cid, "agent1")
	sup := ce.token(t, pSupervisor)
	recPath := "/api/v2/conversations/" + cid + "/recordings"
	var list []map[string]any
	if err := json.Unmarshal(ce.must(t, 200, "GET", recPath, sup, nil).body, &list); err != nil || len(list) != 0 {
		t.Fatalf("recordings before any: %v %v", list, err)
	}

	// The supervisor records the customer; the customer hangs up 12 s later.
	cust := ce.conv(t, cid).part("customer", "")
	ce.must(t, 202, "PATCH", partPath(cid, cust), sup, map[string]any{"recording": true})
	ce.advance(t, 12*time.Second)
	if err := ce.sw.HangupFromPeer(ce.leg(t, cust)); err != nil {
		t.Fatal(err)
	}
	ce.quiet(t)
	deadline := time.Now().Add(5 * time.Second) // the index is written by its own goroutine
	for {
		if err := json.Unmarshal(ce.must(t, 200, "GET", recPath, sup, nil).body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(list) != 1 {
		t.Fatalf("recordings: %v", list)
	}
	rec := list[0]
	if rec["participantId"] != cust["id"] || rec["durationMs"] != float64(12000) || rec["media"] != "audio" ||
		rec["startTime"] != "2026-05-01T10:00:00.000Z" || rec["endTime"] != "2026-05-01T10:00:12.000Z" {
		t.Fatalf("recording: %v", rec)
	}
	if _, ok := rec["userId"]; ok {
		t.Fatalf("a customer's recording names a user: %v", rec)
	}
	uri := rec["mediaUris"].(map[string]any)["S"].(map[string]any)["mediaUri"].(string)
	if uri != recPath+"/"+rec["id"].(string)+"/media" {
		t.Fatalf("mediaUri %q", uri)
	}

	// The agent of the call and supervisors hear it; another agent does not.
	wav := ce.must(t, 200, "GET", uri, ce.token(t, "agent1"), nil)
	left, right, err := audio.ReadStereoWAV(bytes.NewReader(wav.body))
	if err != nil || len(left) != 12*audio.SampleRate || len(right) != len(left) {
		t.Fatalf("wav: %d/%d samples, %v", len(left), len(right), err)
	}
	if f := audio.Dominant(left[:800], 440, 660); f != 440 {
		t.Fatalf("left channel %v Hz", f)
	}
	ce.must(t, 200, "GET", uri, ce.token(t, pAdminCC), nil)
	ce.must(t, 200, "GET", "/api/v2/conversations/calls/"+cid+"/recordings/"+rec["id"].(string), ce.token(t, "agent1"), nil)
	for _, who := range []string{"agent2", pAgentCC} {
		errorBody(t, ce.send(t, "GET", recPath, ce.token(t, who), nil), 403, "")
		errorBody(t, ce.send(t, "GET", uri, ce.token(t, who), nil), 403, "")
	}
	errorBody(t, ce.send(t, "GET", recPath+"/"+unknownID+"/media", sup, nil), 404, "")
	errorBody(t, ce.send(t, "GET", recPath+"/nope/media", sup, nil), 400, "")
}

// The listing across conversations pages newest first, shapes each
// recording like the per-conversation list, and is for supervisors and
// admins only.
func TestRecentRecordingsPaged(t *testing.T) {
	ce := startCalls(t)
	rs := ce.app.Recordings
	ctx := context.Background()
	base := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	convs := []string{"c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002", "c0000000-0000-4000-8000-000000000003"}
	for i, conv := range convs {
		name := fmt.Sprintf("recent-%d.wav", i)
		f, err := os.Create(filepath.Join(rs.Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		w, err := audio.NewStereoWriter(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(make([]int16, audio.SampleRate), make([]int16, audio.SampleRate)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, err := rs.Add(ctx, conv, "p0000000-0000-4000-8000-000000000001", "", name, base.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	type page struct {
		Entities   []map[string]any `json:"entities"`
		PageSize   int              `json:"pageSize"`
		PageNumber int              `json:"pageNumber"`
		Total      int              `json:"total"`
	}
	get := func(tok, q string) page {
		t.Helper()
		var p page
		if err := json.Unmarshal(ce.must(t, 200, "GET", "/api/v2/recordings"+q, tok, nil).body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sup := ce.token(t, pSupervisor)
	p1 := get(sup, "?pageSize=2&pageNumber=1")
	if p1.Total != 3 || p1.PageSize != 2 || p1.PageNumber != 1 || len(p1.Entities) != 2 ||
		p1.Entities[0]["conversationId"] != convs[2] || p1.Entities[1]["conversationId"] != convs[1] {
		t.Fatalf("page 1: %+v", p1)
	}
	e := p1.Entities[0]
	uri := e["mediaUris"].(map[string]any)["S"].(map[string]any)["mediaUri"].(string)
	if e["durationMs"] != float64(1000) || e["endTime"] != "2026-05-01T09:02:00.000Z" ||
		uri != "/api/v2/conversations/"+convs[2]+"/recordings/"+e["id"].(string)+"/media" {
		t.Fatalf("entity: %v", e)
	}
	p2 := get(ce.token(t, pAdminCC), "?pageSize=2&pageNumber=2")
	if p2.Total != 3 || len(p2.Entities) != 1 || p2.Entities[0]["conversationId"] != convs[0] {
		t.Fatalf("page 2: %+v", p2)
	}
	if p := get(sup, ""); p.PageSize != 25 || len(p.Entities) != 3 {
		t.Fatalf("default page: %+v", p)
	}
	errorBody(t, ce.send(t, "GET", "/api/v2/recordings?pageSize=101", sup, nil), 400, "bad.request")
	for _, who := range []string{"agent1", pAgentCC} {
		errorBody(t, ce.send(t, "GET", "/api/v2/recordings", ce.token(t, who), nil), 403, "")
	}
}
