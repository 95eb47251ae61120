package demo_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/demo"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

func TestSeedCRMOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		box, _ := secret.New(make([]byte, 32))
		svc := crm.New(db, outbox.New(db, nil, clock.Real{}, slog.New(slog.NewTextHandler(io.Discard, nil))), box, clock.Real{})
		if err := demo.SeedCRM(ctx, db, svc); err != nil {
			t.Fatal(err)
		}
		cc, err := svc.CallCenterByName(ctx, demo.CRMCallCenterName)
		if err != nil {
			t.Fatal(err)
		}
		d := crm.Defaults()
		if cc.Connector != crm.ConnectorBuiltin || !reflect.DeepEqual(cc.ExternalData, d.ExternalData) ||
			!reflect.DeepEqual(cc.DefaultNewRowData, d.DefaultNewRowData) || cc.AutomaticContactRelease != -1 || !cc.SaveActivityLog {
			t.Fatalf("demo call center %+v", cc)
		}
		// Once: deleted stays deleted.
		if err := svc.DeleteCallCenter(ctx, cc.ID); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedCRM(ctx, db, svc); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := svc.ListCallCenters(ctx, crm.Page{}); n != 0 {
			t.Fatalf("seeded again: %d call centers", n)
		}
	})
}
