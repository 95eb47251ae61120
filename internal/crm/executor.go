package crm

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// This file runs a plan server-side when a call connects to an agent:
// search the CRM, decide, write the externalData fields on the record that
// pops, and hand a new-record form its defaults and a neoSyncId to tie the
// record back to the call once the agent saves it (SPEC 3.2–3.4).

// DefaultSyncField is the external-id field every CRM object used carries
// (seed 002: neoSyncId, Número (18, 0), IdExterno, Exclusivo).
const DefaultSyncField = "neoSyncId__c"

// Pop is what a screen pop found and decided, as sent to the agent
// (v2.users.{id}.crm.screenpop).
type Pop struct {
	ConversationID string   `json:"conversationId"`
	CallCenterID   string   `json:"callCenterId"`
	Plan           Plan     `json:"plan"`
	Decision       Decision `json:"decision"`
	// Record is the record opened (one match) or synced later.
	Record *Record `json:"record,omitempty"`
	// SyncID is the neoSyncId given to a new-record form: the sync
	// endpoint finds the saved record by it.
	SyncID string `json:"syncId,omitempty"`
	Error  string `json:"error,omitempty"`
}

// SyncField is the call center's external-id field for new-record sync.
func (cc CallCenter) SyncField() string {
	if f := cc.Settings["syncField"]; f != "" {
		return f
	}
	return DefaultSyncField
}

// ScreenPop plans, searches and decides for a call; a CRM that cannot be
// reached leaves the decision to the no-match rule with the error named,
// so the agent still gets the call and its data.
func ScreenPop(ctx context.Context, conn Connector, cc CallCenter, convID string, cd CallData) Pop {
	plan := PlanCall(cd, cc)
	pop := Pop{ConversationID: convID, CallCenterID: cc.ID, Plan: plan}
	var found []Record
	if plan.Search != nil && conn != nil {
		rs, err := conn.Search(ctx, *plan.Search)
		if err != nil {
			pop.Error = "CRM search failed: " + err.Error()
		}
		found = rs
	}
	pop.Decision = plan.Decide(found)
	switch pop.Decision.Action.Kind {
	case "open":
		for i := range pop.Decision.Matches {
			if pop.Decision.Matches[i].ID == pop.Decision.Action.RecordID {
				r := pop.Decision.Matches[i]
				pop.Record = &r
			}
		}
		// A source the call does not carry writes nothing (it must not
		// blank the CRM's field on every pop).
		updates := map[string]string{}
		for k, v := range plan.Updates {
			if v != "" {
				updates[k] = v
			}
		}
		if len(updates) > 0 && conn != nil && pop.Record != nil {
			if err := conn.Update(ctx, pop.Record.Type, pop.Record.ID, updates); err != nil && !errors.Is(err, ErrNotFound) {
				pop.Error = "writing externalData failed: " + err.Error()
			}
		}
	case "new":
		pop.SyncID = newSyncID()
		if pop.Decision.Action.Defaults == nil {
			pop.Decision.Action.Defaults = map[string]string{}
		}
		pop.Decision.Action.Defaults[cc.SyncField()] = pop.SyncID
	}
	return pop
}

// newSyncID is an 18-digit number (the field is Número (18, 0)).
func newSyncID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%018d", binary.BigEndian.Uint64(b[:])%1_000_000_000_000_000_000)
}

// Sync finds the record a new-record form saved with syncID and returns it.
func Sync(ctx context.Context, conn Connector, cc CallCenter, syncID string, types []string) (Record, error) {
	rs, err := conn.Search(ctx, Query{Field: cc.SyncField(), Value: syncID, Types: types})
	if err != nil {
		return Record{}, err
	}
	if len(rs) == 0 {
		return Record{}, ErrNotFound
	}
	if len(rs) > 1 {
		return Record{}, ErrMultiple
	}
	return rs[0], nil
}
