package demo

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// CRMCallCenterName is the demo's call center: seed 002's options on the
// built-in contact store.
const CRMCallCenterName = "Demo"

const crmSeededKey = "demo.crm.seeded"

// DemoCallCenter is the demo's call center as created: seed 002's option
// values (neotelConfigOptions) on the built-in connector.
func DemoCallCenter() crm.CallCenter {
	cc := crm.Defaults()
	cc.Name = CRMCallCenterName
	cc.Connector = crm.ConnectorBuiltin
	cc.InternalName = "CentralitaDemo"
	cc.DisplayName = "Centralita Demo"
	return cc
}

// SeedCRM creates the demo's call center once: deleting it later is not
// undone by a restart.
func SeedCRM(ctx context.Context, db *store.DB, svc *crm.Service) error {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, crmSeededKey).Scan(&v)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := svc.CallCenterByName(ctx, CRMCallCenterName); err != nil {
		if !crmNotFound(err) {
			return err
		}
		if _, err := svc.CreateCallCenter(ctx, DemoCallCenter()); err != nil {
			return err
		}
	}
	_, err = db.ExecContext(ctx, `INSERT INTO settings (key, value, modified_at) VALUES ($1, '1', $2) ON CONFLICT (key) DO NOTHING`,
		crmSeededKey, store.Millis(time.Now()))
	return err
}

func crmNotFound(err error) bool {
	ps := problem.All(err)
	return len(ps) > 0 && ps[0].Kind == problem.NotFound
}
