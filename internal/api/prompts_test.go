package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// toneWAV is n samples of a tone as a mono 8 kHz PCM16 WAV file.
func toneWAV(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := audio.WriteWAV(&b, audio.Tone(700, 8000, n, nil)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPromptsAPI(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin, super := e.token(t, pAdmin), e.token(t, pSupervisor)
	const base = "/api/v2/architect/prompts"
	wavHdr := []string{"Content-Type", "audio/wav"}

	// The built-in prompts, read-only.
	list := e.must(t, 200, "GET", base, super, nil).entities(t)
	if !slices.Equal(names(list), []string{"abandon", "echo", "moh", "queue-wait"}) {
		t.Fatalf("built-ins: %v", names(list))
	}
	for _, p := range list {
		if p["builtIn"] != true || p["hasAudio"] != true || p["durationMs"].(float64) < 1000 || p["id"] != "builtin-"+p["name"].(string) {
			t.Errorf("built-in %v", p)
		}
	}
	moh := e.must(t, 200, "GET", base+"/builtin-moh/audio", super, nil)
	if moh.header.Get("Content-Type") != "audio/wav" {
		t.Errorf("built-in audio: %s", moh.header.Get("Content-Type"))
	}
	if _, err := audio.ReadWAV(bytes.NewReader(moh.body)); err != nil {
		t.Errorf("built-in audio is no prompt WAV: %v", err)
	}
	errorBody(t, e.send(t, "DELETE", base+"/builtin-moh", admin, nil), 409, "")
	errorBody(t, e.send(t, "PUT", base+"/builtin-moh/audio", admin, toneWAV(t, 800), wavHdr...), 409, "")
	errorBody(t, e.send(t, "GET", base+"/builtin-nope", super, nil), 404, "not.found")
	errorBody(t, e.send(t, "GET", base+"/nope", super, nil), 400, "")

	// Create, then upload the audio.
	for _, bad := range []string{"Gracias", "gra cias", "-x", strings.Repeat("a", 65)} {
		m := errorBody(t, e.send(t, "POST", base, admin, map[string]any{"name": bad}), 400, "")
		if !slices.Contains(detailFields(m), "name") && !strings.Contains(m["message"].(string), "name") {
			t.Errorf("bad name %q: %v", bad, m)
		}
	}
	p := e.must(t, 200, "POST", base, admin, map[string]any{"name": "gracias", "description": "Thanks for waiting"}).obj(t)
	id := p["id"].(string)
	if !uuidRE.MatchString(id) || p["hasAudio"] != false || p["builtIn"] != false || p["selfUri"] != base+"/"+id {
		t.Fatalf("created %v", p)
	}
	errorBody(t, e.send(t, "POST", base, admin, map[string]any{"name": "gracias"}), 400, "")
	errorBody(t, e.send(t, "GET", base+"/"+id+"/audio", super, nil), 404, "")

	// A file that is not 8 kHz mono PCM16 gets a 400 saying what is wrong.
	stereo := toneWAV(t, 800)
	binary.LittleEndian.PutUint16(stereo[22:], 2)
	for name, body := range map[string][]byte{"stereo": stereo, "text": []byte("RIFF but not really a wave file at all"), "empty": {}} {
		m := errorBody(t, e.send(t, "PUT", base+"/"+id+"/audio", admin, body, wavHdr...), 400, "")
		msg := m["message"].(string)
		if !strings.Contains(msg, "8 kHz mono") && !strings.Contains(msg, "body is required") {
			t.Errorf("%s: %s", name, msg)
		}
	}
	big := append(toneWAV(t, 800), make([]byte, 10<<20)...)
	if r := e.send(t, "PUT", base+"/"+id+"/audio", admin, big, wavHdr...); r.status != 400 && r.status != 413 {
		t.Errorf("11 MB upload: %s", r)
	}

	// A caller waiting in Ventas, to see what the simulated switch accepts.
	ctx := context.Background()
	conv, err := e.app.SimulateCall(ctx, "Ventas", "+34600000777", time.Hour, time.Hour, conversation.Routing{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.Quiesce(ctx); err != nil {
		t.Fatal(err)
	}
	var caller string
	for _, l := range e.app.Switch().Legs() {
		if l.From == "+34600000777" {
			caller = l.ID
		}
	}
	if in, _ := e.app.Switch().Info(caller); caller == "" || in.Prompts != 1 {
		t.Fatalf("caller %s waiting in Ventas (%s) hears %d prompts, want the waiting prompt", caller, conv, in.Prompts)
	}
	if err := e.app.Switch().Play(ctx, caller, "gracias"); err == nil {
		t.Fatal("the switch plays a prompt without audio")
	}
	// switchKnows polls: the switch learns of changes in the background.
	switchKnows := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := e.app.Switch().Play(ctx, caller, "gracias")
			if (err == nil) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the switch knows gracias: %v, want %v (%v)", err == nil, want, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	wav := toneWAV(t, 12000)
	errorBody(t, e.send(t, "PUT", base+"/"+id+"/audio", super, wav, wavHdr...), 403, "")
	p = e.must(t, 200, "GET", base+"/"+id, super, nil).obj(t)
	if p["hasAudio"] != false {
		t.Fatalf("a supervisor uploaded: %v", p)
	}
	r := e.send(t, "PUT", base+"/"+id+"/audio", admin, wav, wavHdr...)
	if r.status != 200 {
		t.Fatalf("upload: %s", r)
	}
	p = r.obj(t)
	if p["hasAudio"] != true || p["durationMs"] != 1500.0 || p["mediaUri"] != base+"/"+id+"/audio" {
		t.Fatalf("after upload %v", p)
	}
	if got := e.must(t, 200, "GET", base+"/"+id+"/audio", super, nil); !bytes.Equal(got.body, wav) {
		t.Fatalf("downloaded %d bytes, uploaded %d", len(got.body), len(wav))
	}
	switchKnows(true)

	// Settings name prompts: a queue's waiting audio, a campaign's abandon message.
	queue := e.findID(t, "/api/v2/routing/queues", "Ventas")
	q := e.must(t, 200, "GET", "/api/v2/routing/queues/"+queue, admin, nil).obj(t)
	if q["waitPrompt"] != "queue-wait" || q["holdMusic"] != "moh" {
		t.Fatalf("queue defaults %v %v", q["waitPrompt"], q["holdMusic"])
	}
	readOnly := func(q map[string]any) map[string]any {
		for _, k := range []string{"joinedMemberCount", "memberCount", "userMemberCount", "dateCreated", "dateModified", "division"} {
			delete(q, k) // read-only, not accepted back
		}
		return q
	}
	readOnly(q)
	q["waitPrompt"] = "nope"
	m := errorBody(t, e.send(t, "PUT", "/api/v2/routing/queues/"+queue, admin, q), 400, "")
	if !slices.Contains(detailFields(m), "waitPrompt") {
		t.Errorf("unknown wait prompt: %v", m)
	}
	q["waitPrompt"], q["holdMusic"] = "gracias", "moh"
	if q = e.must(t, 200, "PUT", "/api/v2/routing/queues/"+queue, admin, q).obj(t); q["waitPrompt"] != "gracias" {
		t.Fatalf("queue %v", q["waitPrompt"])
	}

	camps := e.must(t, 200, "GET", "/api/v2/outbound/campaigns", admin, nil).entities(t)
	if len(camps) == 0 {
		t.Fatal("no demo campaign")
	}
	c := camps[0]
	if c["abandonPrompt"] != "abandon" {
		t.Errorf("demo campaign's abandon prompt %v", c["abandonPrompt"])
	}
	c["abandonPrompt"] = "nope"
	m = errorBody(t, e.send(t, "PUT", "/api/v2/outbound/campaigns/"+c["id"].(string), admin, c), 400, "")
	if !slices.Contains(detailFields(m), "abandonPrompt") {
		t.Errorf("unknown abandon prompt: %v", m)
	}
	c["abandonPrompt"] = "gracias"
	if got := e.must(t, 200, "PUT", "/api/v2/outbound/campaigns/"+c["id"].(string), admin, c).obj(t); got["abandonPrompt"] != "gracias" {
		t.Errorf("campaign %v", got["abandonPrompt"])
	}

	// The operator's own music on hold overrides the built-in one.
	own := e.must(t, 200, "POST", base, admin, map[string]any{"name": "moh"}).obj(t)
	e.must(t, 200, "PUT", base+"/"+own["id"].(string)+"/audio", admin, string(wav))
	list = e.must(t, 200, "GET", base, super, nil).entities(t)
	var overridden bool
	for _, p := range list {
		if p["id"] == "builtin-moh" {
			overridden = p["overridden"] == true
		}
	}
	if !overridden {
		t.Errorf("built-in moh not marked overridden: %v", list)
	}

	e.must(t, 204, "DELETE", base+"/"+own["id"].(string), admin, nil)
	errorBody(t, e.send(t, "DELETE", base+"/"+own["id"].(string), admin, nil), 404, "")
	errorBody(t, e.send(t, "DELETE", base+"/"+id, super, nil), 403, "")
	// Still named by Ventas and the campaign: not deleted.
	m = errorBody(t, e.send(t, "DELETE", base+"/"+id, admin, nil), 409, "prompt.in.use")
	if msg := m["message"].(string); !strings.Contains(msg, `queue "Ventas"`) || !strings.Contains(msg, "campaign") {
		t.Errorf("in use: %s", msg)
	}
	q = readOnly(q)
	q["waitPrompt"] = ""
	e.must(t, 200, "PUT", "/api/v2/routing/queues/"+queue, admin, q)
	c["abandonPrompt"] = ""
	if got := e.must(t, 200, "PUT", "/api/v2/outbound/campaigns/"+c["id"].(string), admin, c).obj(t); got["abandonPrompt"] != "abandon" {
		t.Errorf("an empty abandon prompt is %v, want the default abandon", got["abandonPrompt"])
	}
	e.must(t, 204, "DELETE", base+"/"+id, admin, nil)
	switchKnows(false)
}
