package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

// logWait bounds every real-time wait.
const logWait = 10 * time.Second

var logT0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// --- the log source -------------------------------------------------------

// viewBody renders c as the conversation package does for its events.
func viewBody(t *testing.T, c *conversation.Conversation) []byte {
	t.Helper()
	b, err := json.Marshal(c.View(map[string]string{"q1": "Ventas"}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func part(purpose, state string, mod func(p *conversation.Participant)) *conversation.Participant {
	p := &conversation.Participant{ID: fmt.Sprintf("p-%s-%d", purpose, time.Now().UnixNano()), Purpose: purpose, State: state,
		StartTime: logT0, Attributes: map[string]string{}}
	if mod != nil {
		mod(p)
	}
	return p
}

// inboundCall is an ACD call answered by agent u1 10 s in and ended at 70 s.
func inboundCall(mod func(c *conversation.Conversation)) *conversation.Conversation {
	c := &conversation.Conversation{ID: "c-in", MediaType: "call", Direction: "inbound", Address: "tel:+34910000000",
		StartTime: logT0, EndTime: logT0.Add(70 * time.Second), Ended: true, Participants: []*conversation.Participant{
			part(conversation.PurposeCustomer, conversation.StateDisconnected, func(p *conversation.Participant) {
				p.Address, p.Ani, p.Dnis = "tel:+34600111222", "tel:+34600111222", "tel:+34910000000"
				p.EndTime = logT0.Add(70 * time.Second)
				p.Attributes = map[string]string{"crmRecordType": "Contact", "crmRecordId": "003xx0000012345"}
			}),
			part(conversation.PurposeACD, conversation.StateDisconnected, func(p *conversation.Participant) {
				p.QueueID = "q1"
				p.EndTime = logT0.Add(10 * time.Second)
			}),
			part(conversation.PurposeAgent, conversation.StateDisconnected, func(p *conversation.Participant) {
				p.UserID, p.QueueID = "u1", "q1"
				p.ConnectedTime, p.EndTime = logT0.Add(10*time.Second), logT0.Add(70*time.Second)
				p.Wrapup = &conversation.Wrapup{Code: "w1", Name: "Venta / Cerrada", Notes: "Llamar el lunes", EndTime: logT0.Add(90 * time.Second)}
			}),
		}}
	if mod != nil {
		mod(c)
	}
	return c
}

func outboundCall(dialer bool, mod func(c *conversation.Conversation)) *conversation.Conversation {
	c := &conversation.Conversation{ID: "c-out", MediaType: "call", Direction: "outbound", Address: "tel:+34600333444",
		StartTime: logT0, EndTime: logT0.Add(125 * time.Second), Ended: true}
	if dialer {
		c.Participants = []*conversation.Participant{
			part(conversation.PurposeCustomer, conversation.StateDisconnected, func(p *conversation.Participant) {
				p.Address, p.Dnis, p.Ani = "tel:+34600333444", "tel:+34600333444", "tel:+34910000000"
				p.Attributes = map[string]string{"callDialer": "predictive", "phoneNumber": "600333444", "contactId": "k1"}
				p.EndTime = c.EndTime
			}),
			part(conversation.PurposeAgent, conversation.StateDisconnected, func(p *conversation.Participant) {
				p.UserID = "u2"
				p.ConnectedTime, p.EndTime = logT0.Add(5*time.Second), c.EndTime
				p.Wrapup = &conversation.Wrapup{Code: "w2", Name: "No interesa / Precio", Notes: ""}
			}),
		}
	} else {
		c.Participants = []*conversation.Participant{
			part(conversation.PurposeUser, conversation.StateDisconnected, func(p *conversation.Participant) {
				p.UserID = "u3"
				p.ConnectedTime, p.EndTime = logT0.Add(5*time.Second), c.EndTime
				p.Wrapup = &conversation.Wrapup{Code: "w3", Name: "Seguimiento", Notes: "Envía presupuesto"}
			}),
			part(conversation.PurposeExternal, conversation.StateDisconnected, func(p *conversation.Participant) {
				p.Address = "tel:+34600333444"
				p.EndTime = c.EndTime
			}),
		}
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func TestActivityFromConversation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		conv *conversation.Conversation
		body []byte // instead of conv
		want *Activity
	}{
		{name: "inbound answered and wrapped up", conv: inboundCall(nil), want: &Activity{
			CallID: "c-in", RecordType: "Contact", RecordID: "003xx0000012345", Subject: "Inbound call from +34600111222",
			Description: "Llamar el lunes", Direction: "inbound", Disposition: "Venta / Cerrada", DurationSeconds: 60,
			Start: logT0.Add(10 * time.Second), End: logT0.Add(70 * time.Second), Phone: "+34600111222"}},
		{name: "inbound still talking", conv: inboundCall(func(c *conversation.Conversation) {
			c.EndTime, c.Ended = time.Time{}, false
			c.Participants[0].State, c.Participants[2].State = conversation.StateConnected, conversation.StateConnected
			c.Participants[0].EndTime, c.Participants[2].EndTime = time.Time{}, time.Time{}
		})},
		{name: "customer left, agent still on (ending)", conv: inboundCall(func(c *conversation.Conversation) {
			c.EndTime, c.Ended = time.Time{}, false
			c.Participants[2].State, c.Participants[2].EndTime = conversation.StateConnected, time.Time{}
		})},
		{name: "abandoned in queue", conv: inboundCall(func(c *conversation.Conversation) {
			c.Participants = c.Participants[:2]
		})},
		{name: "agent alerted but never connected", conv: inboundCall(func(c *conversation.Conversation) {
			c.Participants[2].ConnectedTime, c.Participants[2].Wrapup = time.Time{}, nil
		})},
		{name: "in after-call work, no wrap-up yet", conv: inboundCall(func(c *conversation.Conversation) {
			c.Participants[2].ACW, c.Participants[2].Wrapup = true, nil
			c.Participants[0].Attributes = map[string]string{}
		}), want: &Activity{CallID: "c-in", Subject: "Inbound call from +34600111222", Direction: "inbound", DurationSeconds: 60,
			Start: logT0.Add(10 * time.Second), End: logT0.Add(70 * time.Second), Phone: "+34600111222"}},
		{name: "transferred: first connect to end, last agent's wrap-up", conv: inboundCall(func(c *conversation.Conversation) {
			c.EndTime = logT0.Add(200 * time.Second)
			c.Participants[2].EndTime = logT0.Add(40 * time.Second)
			c.Participants = append(c.Participants, part(conversation.PurposeAgent, conversation.StateDisconnected, func(p *conversation.Participant) {
				p.UserID = "u9"
				p.ConnectedTime, p.EndTime = logT0.Add(45*time.Second), logT0.Add(200*time.Second)
				p.Wrapup = &conversation.Wrapup{Code: "w9", Name: "Incidencia / Resuelta", Notes: "ok"}
			}))
		}), want: &Activity{CallID: "c-in", RecordType: "Contact", RecordID: "003xx0000012345", Subject: "Inbound call from +34600111222",
			Description: "ok", Direction: "inbound", Disposition: "Incidencia / Resuelta", DurationSeconds: 190,
			Start: logT0.Add(10 * time.Second), End: logT0.Add(200 * time.Second), Phone: "+34600111222"}},
		{name: "dialer call", conv: outboundCall(true, nil), want: &Activity{CallID: "c-out", Subject: "Outbound call to +34600333444",
			Direction: "outbound", Disposition: "No interesa / Precio", DurationSeconds: 120,
			Start: logT0.Add(5 * time.Second), End: logT0.Add(125 * time.Second), Phone: "+34600333444"}},
		{name: "manual call", conv: outboundCall(false, nil), want: &Activity{CallID: "c-out", Subject: "Outbound call to +34600333444",
			Description: "Manual call to +34600333444\nEnvía presupuesto", Direction: "outbound", Disposition: "Seguimiento", DurationSeconds: 120,
			Start: logT0.Add(5 * time.Second), End: logT0.Add(125 * time.Second), Phone: "+34600333444"}},
		{name: "number only in the attributes", conv: outboundCall(true, func(c *conversation.Conversation) {
			p := c.Participants[0]
			p.Address, p.Dnis, p.Ani = "", "", ""
		}), want: &Activity{CallID: "c-out", Subject: "Outbound call to 600333444",
			Direction: "outbound", Disposition: "No interesa / Precio", DurationSeconds: 120,
			Start: logT0.Add(5 * time.Second), End: logT0.Add(125 * time.Second), Phone: "600333444"}},
		{name: "not JSON", body: []byte("{")},
		{name: "not a conversation", body: []byte(`{"presence":"Break"}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.conv != nil {
				body = viewBody(t, tc.conv)
			}
			got, ok := ActivityFromConversation(body)
			if tc.want == nil {
				if ok {
					t.Fatalf("got an activity %+v for a conversation that should log none", got)
				}
				return
			}
			if !ok {
				t.Fatalf("no activity from %s", body)
			}
			if !got.Start.Equal(tc.want.Start) || !got.End.Equal(tc.want.End) {
				t.Fatalf("start/end %v %v, want %v %v", got.Start, got.End, tc.want.Start, tc.want.End)
			}
			got.Start, got.End = tc.want.Start, tc.want.End
			if got != *tc.want {
				t.Fatalf("activity\n got %+v\nwant %+v", got, *tc.want)
			}
		})
	}
}

// --- the writer -----------------------------------------------------------

// fakeCRM counts writes per CallID; it may be down (until a time) or reject.
type fakeCRM struct {
	Connector // the rest is not used
	clk       *clock.Fake

	mu        sync.Mutex
	downUntil time.Time
	reject    bool
	calls     map[string]int
	times     map[string][]time.Time
	written   map[string]Activity // the CRM's records, by CallID
	voice     map[string]VoiceCall
	// crashOn: when the call of this CallID arrives, it is written, then
	// the call blocks until ctx ends (the process dies before recording it).
	crashOn string
	crashed chan struct{}
}

func newFakeCRM(clk *clock.Fake) *fakeCRM {
	return &fakeCRM{clk: clk, calls: map[string]int{}, times: map[string][]time.Time{}, written: map[string]Activity{},
		voice: map[string]VoiceCall{}, crashed: make(chan struct{})}
}

func (f *fakeCRM) LogActivity(ctx context.Context, a Activity) (string, error) {
	f.mu.Lock()
	now := f.clk.Now()
	f.calls[a.CallID]++
	f.times[a.CallID] = append(f.times[a.CallID], now)
	switch {
	case now.Before(f.downUntil):
		f.mu.Unlock()
		return "", fmt.Errorf("%w: HTTP 503", ErrUnavailable)
	case f.reject:
		f.mu.Unlock()
		return "", fmt.Errorf("%w: INVALID_FIELD: Subject too long", ErrRejected)
	}
	f.written[a.CallID] = a
	crash := f.crashOn == a.CallID
	if crash {
		f.crashOn = ""
	}
	f.mu.Unlock()
	if crash {
		close(f.crashed)
		<-ctx.Done()
		return "", ctx.Err()
	}
	return "00T" + a.CallID, nil
}

func (f *fakeCRM) CreateVoiceCall(ctx context.Context, v VoiceCall) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[v.CallID]++
	f.voice[v.CallID] = v
	return "0LQ" + v.CallID, nil
}

func (f *fakeCRM) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func (f *fakeCRM) setDownUntil(t time.Time) {
	f.mu.Lock()
	f.downUntil = t
	f.mu.Unlock()
}

func (f *fakeCRM) connectorFor(cc string) (Connector, error) {
	if cc != "cc1" {
		return nil, fmt.Errorf("%w: unknown call center %q", ErrRejected, cc)
	}
	return f, nil
}

// startWriter runs RunActivityLog until the returned stop (also at cleanup).
func startWriter(t *testing.T, s *Service, f *fakeCRM) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.RunActivityLog(ctx, f.connectorFor); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(logWait):
				t.Error("RunActivityLog did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// settle waits until the writer has nothing to do before the next timer.
func settle(t *testing.T, s *Service) {
	t.Helper()
	deadline := time.Now().Add(logWait)
	for !s.logs().idle() {
		if time.Now().After(deadline) {
			t.Fatal("the activity-log writer did not settle")
		}
		time.Sleep(time.Millisecond)
	}
}

// advance moves the clock by d one writer wake-up at a time.
func advance(t *testing.T, s *Service, clk *clock.Fake, d time.Duration) {
	t.Helper()
	end := clk.Now().Add(d)
	settle(t, s)
	for {
		next, err := s.nextDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if next.IsZero() || next.After(end) {
			break
		}
		clk.Advance(max(next.Sub(clk.Now()), 10*time.Millisecond))
		settle(t, s)
	}
	clk.Advance(end.Sub(clk.Now()))
	settle(t, s)
}

// nextDue is the earliest pending row's time (tests).
func (s *Service) nextDue(ctx context.Context) (time.Time, error) {
	var next *int64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM crm_activity_logs WHERE state = 'pending'`).Scan(&next); err != nil || next == nil {
		return time.Time{}, err
	}
	return store.Time(*next), nil
}

func enqueue(t *testing.T, s *Service, db *store.DB, a Activity, cc string, due time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error { return s.EnqueueLog(ctx, tx, a, cc, due) }); err != nil {
		t.Fatal(err)
	}
}

func activity(id string, end time.Time) Activity {
	return Activity{CallID: id, Subject: "Inbound call from +34600111222", Direction: "inbound", Phone: "+34600111222",
		Start: end.Add(-time.Minute), End: end, DurationSeconds: 60}
}

func logStatus(t *testing.T, s *Service, id string) LogStatus {
	t.Helper()
	st, err := s.ActivityLog(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestLogWrittenOnceAfterTheGrace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(logT0)
		s := New(db, nil, nil, clk)
		f := newFakeCRM(clk)
		startWriter(t, s, f)
		ids := []string{"call-1", "call-2", "call-3"}
		for i, id := range ids {
			enqueue(t, s, db, activity(id, logT0), "cc1", logT0.Add(LogGrace+time.Duration(i)*time.Second))
		}
		settle(t, s)
		if n, err := s.PendingLogs(context.Background()); err != nil || n != 3 {
			t.Fatalf("PendingLogs = %d, %v; want 3", n, err)
		}
		st := logStatus(t, s, "call-1")
		if st.State != LogPending || !st.NextAttempt.Equal(logT0.Add(LogGrace)) || st.CallCenterID != "cc1" || st.Mode != ActivityTask {
			t.Fatalf("before the grace: %+v", st)
		}
		advance(t, s, clk, LogGrace-time.Second)
		for _, id := range ids {
			if n := f.count(id); n != 0 {
				t.Fatalf("%s written %d times before its grace ended", id, n)
			}
		}
		advance(t, s, clk, 2*time.Hour)
		for i, id := range ids {
			if n := f.count(id); n != 1 {
				t.Fatalf("%s written %d times, want 1", id, n)
			}
			if at := f.times[id][0]; !at.Equal(logT0.Add(LogGrace + time.Duration(i)*time.Second)) {
				t.Fatalf("%s written at %v, want at the end of its grace", id, at)
			}
			st := logStatus(t, s, id)
			if st.State != LogWritten || st.ActivityID != "00T"+id || st.Attempts != 1 || st.LastError != "" ||
				!st.NextAttempt.IsZero() || !st.DateWritten.Equal(f.times[id][0]) {
				t.Fatalf("%s after writing: %+v", id, st)
			}
		}
		if n, _ := s.PendingLogs(context.Background()); n != 0 {
			t.Fatalf("PendingLogs = %d after writing", n)
		}
		if _, err := s.ActivityLog(context.Background(), "nope"); err == nil {
			t.Fatal("ActivityLog of a conversation without a log did not fail")
		}
	})
}

func TestLogRetriedWithBackoffWhileTheCRMIsDown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(logT0)
		s := New(db, nil, nil, clk)
		f := newFakeCRM(clk)
		due := logT0.Add(LogGrace)
		up := due.Add(time.Hour)
		f.setDownUntil(up)
		startWriter(t, s, f)
		enqueue(t, s, db, activity("down-1", logT0), "cc1", due)

		advance(t, s, clk, LogGrace+30*time.Minute)
		st := logStatus(t, s, "down-1")
		if st.State != LogPending || st.Attempts < 5 || !strings.Contains(st.LastError, "503") {
			t.Fatalf("while down: %+v", st)
		}
		advance(t, s, clk, 2*time.Hour)

		// The expected schedule: the grace, then 5 s doubling to 15 min,
		// until the first attempt at or after the CRM is back.
		want := []time.Time{due}
		for n := 1; want[len(want)-1].Before(up); n++ {
			want = append(want, want[len(want)-1].Add(LogBackoff(n)))
		}
		got := f.times["down-1"]
		if len(got) != len(want) {
			t.Fatalf("%d attempts %v, want %d %v", len(got), got, len(want), want)
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Fatalf("attempt %d at +%v, want +%v", i, got[i].Sub(due), want[i].Sub(due))
			}
		}
		if len(f.written) != 1 {
			t.Fatalf("%d activities in the CRM, want 1", len(f.written))
		}
		st = logStatus(t, s, "down-1")
		if st.State != LogWritten || st.Attempts != len(want) || st.LastError != "" || st.ActivityID != "00Tdown-1" {
			t.Fatalf("after the CRM came back: %+v", st)
		}
	})
}

func TestLogBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 640 * time.Second, 15 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		if got := LogBackoff(i + 1); got != w {
			t.Errorf("LogBackoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if LogBackoff(1000) != 15*time.Minute {
		t.Error("LogBackoff(1000) is not the cap")
	}
}

func TestLogRejectedFailsWithoutRetry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(logT0)
		s := New(db, nil, nil, clk)
		f := newFakeCRM(clk)
		f.reject = true
		startWriter(t, s, f)
		enqueue(t, s, db, activity("rej-1", logT0), "cc1", logT0)
		enqueue(t, s, db, activity("rej-2", logT0), "unknown-cc", logT0)
		advance(t, s, clk, 3*time.Hour)
		if n := f.count("rej-1"); n != 1 {
			t.Fatalf("a rejected log was tried %d times, want 1", n)
		}
		st := logStatus(t, s, "rej-1")
		if st.State != LogFailed || st.Attempts != 1 || !strings.Contains(st.LastError, "INVALID_FIELD") || !st.NextAttempt.IsZero() {
			t.Fatalf("rejected: %+v", st)
		}
		st = logStatus(t, s, "rej-2")
		if st.State != LogFailed || !strings.Contains(st.LastError, "unknown call center") {
			t.Fatalf("no connector: %+v", st)
		}
		if n, _ := s.PendingLogs(context.Background()); n != 0 {
			t.Fatalf("PendingLogs = %d", n)
		}
	})
}

func TestLaterEditRewritesTheSameActivity(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(logT0)
		s := New(db, nil, nil, clk)
		f := newFakeCRM(clk)
		startWriter(t, s, f)
		a := activity("edit-1", logT0)
		enqueue(t, s, db, a, "cc1", logT0.Add(LogGrace))
		// The disposition arrives within the grace: still one write.
		a.Disposition, a.Description = "Venta / Cerrada", "primera nota"
		enqueue(t, s, db, a, "cc1", logT0.Add(LogGrace))
		advance(t, s, clk, 5*time.Minute)
		if n := f.count("edit-1"); n != 1 {
			t.Fatalf("written %d times within the grace, want 1", n)
		}
		// The same payload again (a redelivered or repeated event) is no edit.
		enqueue(t, s, db, a, "cc1", logT0.Add(LogGrace))
		advance(t, s, clk, 5*time.Minute)
		if n := f.count("edit-1"); n != 1 {
			t.Fatalf("an unchanged payload was written again (%d writes)", n)
		}
		// A supervisor edits the notes later: the same CRM record is rewritten.
		a.Description = "nota corregida"
		enqueue(t, s, db, a, "cc1", logT0.Add(LogGrace))
		advance(t, s, clk, 5*time.Minute)
		if n := f.count("edit-1"); n != 2 {
			t.Fatalf("written %d times after the edit, want 2", n)
		}
		if len(f.written) != 1 || f.written["edit-1"].Description != "nota corregida" || f.written["edit-1"].Disposition != "Venta / Cerrada" {
			t.Fatalf("CRM records after the edit: %+v", f.written)
		}
		st := logStatus(t, s, "edit-1")
		if st.State != LogWritten || st.ActivityID != "00Tedit-1" || st.Activity.Description != "nota corregida" {
			t.Fatalf("after the edit: %+v", st)
		}
	})
}

func TestVoiceCallMode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(logT0)
		s := New(db, nil, nil, clk)
		s.SetActivityModeFor(func(_ context.Context, cc string) string { return ActivityVoiceCall })
		f := newFakeCRM(clk)
		startWriter(t, s, f)
		a := activity("vc-1", logT0)
		a.RecordID, a.Disposition = "003abc", "Venta"
		enqueue(t, s, db, a, "cc1", logT0)
		advance(t, s, clk, time.Minute)
		v, ok := f.voice["vc-1"]
		if !ok || v.RelatedRecordID != "003abc" || v.From != "+34600111222" || v.Disposition != "Venta" || v.DurationSeconds != 60 {
			t.Fatalf("voice call %+v (%v)", v, ok)
		}
		if st := logStatus(t, s, "vc-1"); st.State != LogWritten || st.ActivityID != "0LQvc-1" || st.Mode != ActivityVoiceCall {
			t.Fatalf("status %+v", st)
		}
	})
}

// A process dies while writing (the CRM got the write, the row was not
// marked); a new process on the same database writes every log, and each
// call has exactly one CRM record.
func TestRestartWritesEveryLogOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(logT0)
		f := newFakeCRM(clk)
		s1 := New(db, nil, nil, clk)
		var ids []string
		for i := range 30 {
			id := fmt.Sprintf("rs-%02d", i)
			ids = append(ids, id)
			enqueue(t, s1, db, activity(id, logT0), "cc1", logT0.Add(LogGrace))
		}
		f.crashOn = "rs-04"
		stop1 := startWriter(t, s1, f)
		settle(t, s1)
		clk.Advance(LogGrace)
		select {
		case <-f.crashed:
		case <-time.After(logWait):
			t.Fatal("the writer never reached the call that crashes")
		}
		stop1() // the process dies in the middle of rs-04's write

		db2 := storetest.Reopen(t, db)
		s2 := New(db2, nil, nil, clk)
		startWriter(t, s2, f)
		advance(t, s2, clk, 10*time.Minute)
		for _, id := range ids {
			want := 1
			if id == "rs-04" {
				want = 2 // written again after the lease: the CRM updates the same record
			}
			if n := f.count(id); n != want {
				t.Errorf("%s: %d calls, want %d", id, n, want)
			}
			if st := logStatus(t, s2, id); st.State != LogWritten {
				t.Errorf("%s: %+v", id, st)
			}
		}
		if len(f.written) != len(ids) {
			t.Fatalf("%d CRM records, want %d", len(f.written), len(ids))
		}
	})
}

// --- the intake -----------------------------------------------------------

// twice delivers every event to the handler two times in a row, as a
// redelivery after a crash between the enqueue and the ack would.
type twice struct{ b *bus.Bus }

func (w twice) Subscribe(ctx context.Context, durable, filter string, h bus.Handler) (func(), error) {
	return w.b.Subscribe(ctx, durable, filter, func(ctx context.Context, ev bus.Event) error {
		if err := h(ctx, ev); err != nil {
			return err
		}
		return h(ctx, ev)
	})
}

func TestIntakeThroughTheBusEnqueuesOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(logT0.Add(2 * time.Minute))
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		bctx, cancel := context.WithTimeout(ctx, logWait)
		defer cancel()
		b, err := bus.Open(bctx, "", t.TempDir(), log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		ob := outbox.New(db, b, clk, log)
		s := New(db, ob, nil, clk)
		var asked []EndedCall
		var mu sync.Mutex
		s.SetCallCenterFor(func(_ context.Context, call EndedCall) (string, bool) {
			mu.Lock()
			asked = append(asked, call)
			mu.Unlock()
			return "cc1", len(call.QueueIDs) > 0 // only queue calls belong to cc1
		})
		stop, err := s.ConsumeConversations(ctx, twice{b})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)

		publish := func(c *conversation.Conversation) {
			t.Helper()
			view := c.View(map[string]string{"q1": "Ventas"})
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				for _, topic := range []string{"v2.conversations." + c.ID, "v2.conversations.calls." + c.ID, "v2.users.u1.conversations"} {
					if err := ob.Add(ctx, tx, topic, view); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := ob.RelayOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		live := inboundCall(func(c *conversation.Conversation) {
			c.ID = "11111111-0000-4000-8000-000000000001"
			c.EndTime = time.Time{}
			c.Participants[2].State = conversation.StateConnected
		})
		ended := inboundCall(func(c *conversation.Conversation) { c.ID = "11111111-0000-4000-8000-000000000001" })
		manual := outboundCall(false, func(c *conversation.Conversation) { c.ID = "22222222-0000-4000-8000-000000000002" })
		sentinel := inboundCall(func(c *conversation.Conversation) { c.ID = "33333333-0000-4000-8000-000000000003" })
		publish(live)
		publish(ended)
		publish(manual)   // no call center: skipped
		publish(sentinel) // delivered last: everything before it was handled

		deadline := time.Now().Add(logWait)
		for {
			if _, err := s.ActivityLog(ctx, sentinel.ID); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the sentinel's log never arrived")
			}
			time.Sleep(5 * time.Millisecond)
		}
		var rows, version int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM crm_activity_logs`).Scan(&rows, &version); err != nil {
			t.Fatal(err)
		}
		if rows != 2 || version != 1 {
			t.Fatalf("%d log rows (max version %d), want 2 rows written once each", rows, version)
		}
		st := logStatus(t, s, ended.ID)
		want, _ := ActivityFromConversation(viewBody(t, ended))
		if st.State != LogPending || st.CallCenterID != "cc1" || !st.NextAttempt.Equal(logT0.Add(70*time.Second+LogGrace)) ||
			st.Activity.CallID != ended.ID || st.Activity.Disposition != want.Disposition {
			t.Fatalf("enqueued log %+v", st)
		}
		var markers int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbox WHERE consumer = $1`, ConsumerActivityLog).Scan(&markers); err != nil {
			t.Fatal(err)
		}
		if markers != 2 {
			t.Fatalf("%d inbox markers, want 2 (one per enqueued event)", markers)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(asked) != 6 { // ended, manual, sentinel, each delivered twice
			t.Fatalf("CallCenterFor asked %d times, want 6", len(asked))
		}
		if c := asked[0]; c.ConversationID != ended.ID || len(c.UserIDs) != 1 || c.UserIDs[0] != "u1" || c.QueueIDs[0] != "q1" ||
			c.Attributes["crmRecordId"] != "003xx0000012345" {
			t.Fatalf("CallCenterFor got %+v", c)
		}
	})
}
