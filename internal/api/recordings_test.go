package api_test

import (
	"bytes"
	"encoding/json"
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
