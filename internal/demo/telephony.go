package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/trunk"
)

// The demo's telephony (docs/telephony.md): a carrier trunk whose numbers
// reach the demo queues. Phones registered as 1001..1005 (password
// StationPassword) dial the short numbers; a carrier (or SIPp) sending
// from TrunkAddress dials the E.164 ones. 600 is the switch's echo test.
const (
	TrunkName    = "Demo carrier"
	TrunkAddress = "127.0.0.1:5080"
	EchoNumber   = "600"
)

// DemoNumbers are the numbers that reach each demo queue.
var DemoNumbers = []struct{ Queue, Short, E164 string }{
	{"Ventas", "2001", "+34910000001"},
	{"Soporte", "2002", "+34910000002"},
}

const telephonySeededKey = "demo.telephony.seeded"

// Trunks is what the demo needs of the trunk service.
type Trunks interface {
	Create(ctx context.Context, in trunk.Input) (trunk.Trunk, error)
}

// SeedTelephony creates the demo trunk and its numbers once.
func SeedTelephony(ctx context.Context, db *store.DB, dir *directory.Service, trunks Trunks) error {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, telephonySeededKey).Scan(&v)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	in := trunk.Input{Name: TrunkName, Address: TrunkAddress, DefaultCountry: "ES", CallerID: "+34910000000"}
	for _, n := range DemoNumbers {
		qs, _, err := dir.ListQueues(ctx, directory.QueueFilter{Name: n.Queue}, directory.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(qs) == 0 {
			continue // renamed or deleted by an admin: no number for it
		}
		in.DIDs = append(in.DIDs, trunk.DID{Number: n.Short, QueueID: qs[0].ID}, trunk.DID{Number: n.E164, QueueID: qs[0].ID})
	}
	if _, err := trunks.Create(ctx, in); err != nil && !isDuplicate(err) {
		return fmt.Errorf("demo trunk: %w", err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO settings (key, value, modified_at) VALUES ($1, '1', $2) ON CONFLICT (key) DO NOTHING`,
		telephonySeededKey, store.Millis(time.Now()))
	return err
}
