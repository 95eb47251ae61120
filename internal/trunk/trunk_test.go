package trunk

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

const (
	qVentas  = "11111111-1111-4111-8111-111111111111"
	qSoporte = "22222222-2222-4222-8222-222222222222"
)

type queues struct{}

func (queues) GetQueue(ctx context.Context, id string) (directory.Queue, error) {
	if id == qVentas || id == qSoporte {
		return directory.Queue{ID: id}, nil
	}
	return directory.Queue{}, problem.NotFoundf("queue %s not found", id)
}

func newService(t *testing.T, db *store.DB) *Service {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return New(db, outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil))), box, queues{}, clk)
}

func TestTrunksStoredAndRouted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		tr, err := s.Create(ctx, Input{Name: "Carrier", Address: "192.0.2.1:5060", Username: "u", Password: "pw-secret", DefaultCountry: "ES",
			DIDs: []DID{{Number: "2001", QueueID: qVentas}, {Number: "91 000 00 02", QueueID: qSoporte}}})
		if err != nil {
			t.Fatal(err)
		}
		if !tr.HasPassword || len(tr.DIDs) != 2 || tr.DIDs[0].Number != "+34910000002" || tr.DIDs[1].Number != "2001" {
			t.Fatalf("created %+v", tr)
		}
		var sealed string
		if err := db.QueryRowContext(ctx, `SELECT password FROM sip_trunks WHERE id = $1`, tr.ID).Scan(&sealed); err != nil || sealed == "" || strings.Contains(sealed, "pw-secret") {
			t.Fatalf("stored password %q %v", sealed, err)
		}
		var body string
		if err := db.QueryRowContext(ctx, `SELECT body FROM outbox WHERE topic = $1`, TopicPrefix+tr.ID).Scan(&body); err != nil || strings.Contains(body, "pw-secret") {
			t.Fatalf("event %q %v", body, err)
		}
		live, err := s.Live(ctx)
		if err != nil || len(live) != 1 || live[0].Password != "pw-secret" {
			t.Fatalf("live %+v %v", live, err)
		}
		if ts, err := s.List(ctx); err != nil || len(ts) != 1 || ts[0].Name != "Carrier" {
			t.Fatalf("list %+v %v", ts, err)
		}

		for _, tc := range []struct{ dialled, queue string }{
			{"2001", qVentas},
			{"+342001", qVentas},          // what the switch makes of "2001" from an ES trunk
			{"910000002", qSoporte},       // national, read in ES
			{"+34 910 000 002", qSoporte}, // E.164 with separators
			{"tel:+34910000002", qSoporte},
			{"0034910000002", qSoporte}, // the international prefix dialled in ES
			{"2002", ""},
			{"Ventas", ""},
		} {
			q, ok, err := s.Route(ctx, tc.dialled)
			if err != nil || ok != (tc.queue != "") || q != tc.queue {
				t.Errorf("Route(%q) = %q %v %v, want %q", tc.dialled, q, ok, err, tc.queue)
			}
		}

		// A number belongs to one trunk.
		_, err = s.Create(ctx, Input{Name: "Other", Address: "192.0.2.2", DIDs: []DID{{Number: "2001", QueueID: qSoporte}}})
		if ps := problem.All(err); len(ps) != 1 || ps[0].Kind != problem.Duplicate || ps[0].Field != "dids[0].number" || !strings.Contains(ps[0].Message, "Carrier") {
			t.Fatalf("duplicate DID: %v", err)
		}
		if ts, _ := s.List(ctx); len(ts) != 1 {
			t.Fatalf("a failed create left a trunk: %+v", ts)
		}

		// Update: keep, replace, clear the password; DIDs replaced.
		tr, err = s.Update(ctx, tr.ID, Input{Name: "Carrier", Address: "192.0.2.1", Username: "u", DIDs: []DID{{Number: "2002", QueueID: qSoporte}}})
		if err != nil || !tr.HasPassword || len(tr.DIDs) != 1 {
			t.Fatalf("update %+v %v", tr, err)
		}
		if _, ok, _ := s.Route(ctx, "2001"); ok {
			t.Fatal("a removed DID still routes")
		}
		if live, _ := s.Live(ctx); live[0].Password != "pw-secret" {
			t.Fatal("update without a password lost it")
		}
		tr, err = s.Update(ctx, tr.ID, Input{Name: "Carrier", Address: "192.0.2.1", ClearPassword: true})
		if err != nil || tr.HasPassword {
			t.Fatalf("clear %+v %v", tr, err)
		}
		if _, err := s.Update(ctx, qVentas, Input{Name: "x", Address: "192.0.2.1"}); problemKind(err) != problem.NotFound {
			t.Fatalf("update unknown: %v", err)
		}
		if err := s.Delete(ctx, tr.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Route(ctx, "2002"); ok {
			t.Fatal("a deleted trunk's DID still routes")
		}
		if err := s.Delete(ctx, tr.ID); problemKind(err) != problem.NotFound {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

func problemKind(err error) problem.Kind {
	if ps := problem.All(err); len(ps) > 0 {
		return ps[0].Kind
	}
	return 0
}

func TestValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newService(t, db)
		for _, tc := range []struct {
			in    Input
			field string
		}{
			{Input{Address: "192.0.2.1"}, "name"},
			{Input{Name: "x"}, "address"},
			{Input{Name: "x", Address: "host:0"}, "address"},
			{Input{Name: "x", Address: "user@host"}, "address"},
			{Input{Name: "x", Address: "h", DefaultCountry: "ZZ"}, "defaultCountry"},
			{Input{Name: "x", Address: "h", CallerID: "abc"}, "callerId"},
			{Input{Name: "x", Address: "h", Password: "p"}, "username"},
			{Input{Name: "x", Address: "h", Password: "a\nb", Username: "u"}, "password"},
			{Input{Name: "x\r\ny", Address: "h"}, "name"},
			{Input{Name: "x", Address: "h", DIDs: []DID{{Number: "", QueueID: qVentas}}}, "dids[0].number"},
			{Input{Name: "x", Address: "h", DIDs: []DID{{Number: "123456789012345678901", QueueID: qVentas}}}, "dids[0].number"},
			{Input{Name: "x", Address: "h", DIDs: []DID{{Number: "1", QueueID: "nope"}}}, "dids[0].queueId"},
			{Input{Name: "x", Address: "h", Register: true}, "username"},
			{Input{Name: "x", Address: "h", Username: "u", Register: true}, "password"},
			{Input{Name: "x", Address: "h", Username: "u", Password: "p", Register: true, RegisterExpires: 59}, "registerExpires"},
			{Input{Name: "x", Address: "h", RegisterExpires: 86401}, "registerExpires"},
			{Input{Name: "x", Address: "h", RegisterExpires: -1}, "registerExpires"},
			{Input{Name: "x", Address: "h", Transport: "tcp"}, "transport"},
			{Input{Name: "x", Address: "h", Transport: "sips"}, "transport"},
			{Input{Name: "x", Address: "h", SRTP: true}, "srtp"},
			{Input{Name: "x", Address: "h", Transport: "udp", SRTP: true}, "srtp"},
		} {
			_, err := s.Create(context.Background(), tc.in)
			ps := problem.All(err)
			if len(ps) == 0 || ps[0].Field != tc.field {
				t.Errorf("%+v: got %v, want a problem on %s", tc.in, err, tc.field)
			}
		}
	})
}

func FuzzCleanNumber(f *testing.F) {
	for _, s := range []string{"2001", "+34 910 000 001", "tel:+1-555-0100", "(91) 000.00.01", "+", "", "12ab", "++1", "1+2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := CleanNumber(raw)
		if err != nil {
			return
		}
		d := strings.TrimPrefix(n, "+")
		if d == "" || len(d) > 20 || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("CleanNumber(%q) = %q", raw, n)
		}
		if again, err := CleanNumber(n); err != nil || again != n {
			t.Fatalf("not idempotent: %q → %q → %q %v", raw, n, again, err)
		}
	})
}

// Registration settings are stored on both stores; registering needs the
// credentials the trunk will have once the change is applied.
func TestRegisterSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		tr, err := s.Create(ctx, Input{Name: "Reg", Address: "192.0.2.1", Username: "acct", Password: "pw", Register: true, RegisterExpires: 600})
		if err != nil || !tr.Register || tr.RegisterExpires != 600 {
			t.Fatalf("created %+v %v", tr, err)
		}
		if live, err := s.Live(ctx); err != nil || !live[0].Register || live[0].RegisterExpires != 600 || live[0].Password != "pw" {
			t.Fatalf("live %+v %v", live, err)
		}
		// The stored password still registers; the default time applies.
		tr, err = s.Update(ctx, tr.ID, Input{Name: "Reg", Address: "192.0.2.1", Username: "acct", Register: true})
		if err != nil || !tr.Register || tr.RegisterExpires != DefaultRegisterExpires {
			t.Fatalf("update keeping the password %+v %v", tr, err)
		}
		// Clearing it while registering is refused, and nothing changes.
		_, err = s.Update(ctx, tr.ID, Input{Name: "Reg2", Address: "192.0.2.1", Username: "acct", Register: true, ClearPassword: true})
		if ps := problem.All(err); len(ps) != 1 || ps[0].Field != "password" || !strings.Contains(ps[0].Message, "required to register") {
			t.Fatalf("clearing the password of a registering trunk: %v", err)
		}
		if got, _ := s.Get(ctx, tr.ID); got.Name != "Reg" || !got.HasPassword {
			t.Fatalf("a refused update changed the trunk: %+v", got)
		}
		// Another trunk registering the same account there is refused.
		_, err = s.Create(ctx, Input{Name: "Twin", Address: "192.0.2.1", Username: "acct", Password: "pw", Register: true})
		if ps := problem.All(err); len(ps) != 1 || ps[0].Kind != problem.Duplicate || ps[0].Field != "username" || !strings.Contains(ps[0].Message, `"Reg"`) {
			t.Fatalf("a second trunk registering acct@192.0.2.1: %v", err)
		}
		if ts, _ := s.List(ctx); len(ts) != 1 {
			t.Fatalf("a refused create left a trunk: %+v", ts)
		}
		// Not registering: the password may go, the time stays as given.
		tr, err = s.Update(ctx, tr.ID, Input{Name: "Reg", Address: "192.0.2.1", ClearPassword: true, RegisterExpires: 120})
		if err != nil || tr.Register || tr.HasPassword || tr.RegisterExpires != 120 {
			t.Fatalf("update without registering %+v %v", tr, err)
		}
	})
}

// The transport is stored on both stores: udp by default (and for trunks
// from before it existed), tls when asked, any case; anything else is
// refused naming udp and tls.
func TestTransportSetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		tr, err := s.Create(ctx, Input{Name: "Plain", Address: "192.0.2.1"})
		if err != nil || tr.Transport != TransportUDP {
			t.Fatalf("default transport %+v %v", tr, err)
		}
		tr, err = s.Update(ctx, tr.ID, Input{Name: "Plain", Address: "sip.carrier.example", Transport: " TLS "})
		if err != nil || tr.Transport != TransportTLS {
			t.Fatalf("update to tls %+v %v", tr, err)
		}
		if live, err := s.Live(ctx); err != nil || live[0].Transport != TransportTLS {
			t.Fatalf("live %+v %v", live, err)
		}
		_, err = s.Update(ctx, tr.ID, Input{Name: "Plain", Address: "192.0.2.1", Transport: "tcp"})
		if ps := problem.All(err); len(ps) != 1 || ps[0].Field != "transport" || !strings.Contains(ps[0].Message, `must be udp or tls`) || !strings.Contains(ps[0].Message, `"tcp"`) {
			t.Fatalf("tcp: %v", err)
		}
		if got, _ := s.Get(ctx, tr.ID); got.Transport != TransportTLS {
			t.Fatalf("a refused update changed the transport: %+v", got)
		}
		// A row written before the column existed reads as udp.
		if _, err := db.ExecContext(ctx, `INSERT INTO sip_trunks (id, name, address, username, password, default_country, caller_id, created_at, modified_at)
			VALUES ('33333333-3333-4333-8333-333333333333', 'Old', '192.0.2.9', '', '', '', '', 0, 0)`); err != nil {
			t.Fatal(err)
		}
		if old, err := s.Get(ctx, "33333333-3333-4333-8333-333333333333"); err != nil || old.Transport != TransportUDP {
			t.Fatalf("old row %+v %v", old, err)
		}
	})
}

// SRTP is stored on both stores: off by default (and for trunks from
// before it existed), on only with transport tls; over UDP it is refused
// on srtp saying why, and a refused update changes nothing.
func TestSRTPSetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		tr, err := s.Create(ctx, Input{Name: "Sec", Address: "192.0.2.1", Transport: "tls", SRTP: true})
		if err != nil || !tr.SRTP || tr.Transport != TransportTLS {
			t.Fatalf("create with srtp %+v %v", tr, err)
		}
		if live, err := s.Live(ctx); err != nil || !live[0].SRTP {
			t.Fatalf("live %+v %v", live, err)
		}
		_, err = s.Update(ctx, tr.ID, Input{Name: "Sec", Address: "192.0.2.1", SRTP: true})
		if ps := problem.All(err); len(ps) != 1 || ps[0].Field != "srtp" || !strings.Contains(ps[0].Message, "needs transport tls") {
			t.Fatalf("srtp over udp: %v", err)
		}
		if got, _ := s.Get(ctx, tr.ID); !got.SRTP || got.Transport != TransportTLS {
			t.Fatalf("a refused update changed the trunk: %+v", got)
		}
		tr, err = s.Update(ctx, tr.ID, Input{Name: "Sec", Address: "192.0.2.1", Transport: "tls"})
		if err != nil || tr.SRTP {
			t.Fatalf("update without srtp %+v %v", tr, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO sip_trunks (id, name, address, username, password, default_country, caller_id, created_at, modified_at)
			VALUES ('44444444-4444-4444-8444-444444444444', 'Old', '192.0.2.9', '', '', '', '', 0, 0)`); err != nil {
			t.Fatal(err)
		}
		if old, err := s.Get(ctx, "44444444-4444-4444-8444-444444444444"); err != nil || old.SRTP {
			t.Fatalf("old row %+v %v", old, err)
		}
	})
}
