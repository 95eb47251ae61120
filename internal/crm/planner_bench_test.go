package crm_test

import (
	"testing"

	"github.com/centralita/centralita/internal/crm"
)

func BenchmarkPlanCall(b *testing.B) {
	cc := seedCenter()
	cc.SearchTypePriority = []string{"Contact", "Account", "Lead"}
	cd := inbound()
	b.ReportAllocs()
	for b.Loop() {
		_ = crm.PlanCall(cd, cc)
	}
}

func BenchmarkDecide(b *testing.B) {
	cc := seedCenter()
	cc.SearchTypePriority = []string{"Contact", "Account", "Lead"}
	p := crm.PlanCall(inbound(), cc)
	found := []crm.Record{rec("Account", "a1"), rec("Account", "a2"), rec("Lead", "l1"), rec("Contact", "c1"), rec("Opportunity", "o1")}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Decide(found)
	}
}
