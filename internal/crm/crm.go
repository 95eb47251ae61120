// Package crm is how Centralita works with the CRM agents live in: the
// Connector interface every CRM implements (Salesforce, Dynamics 365,
// Zendesk, the built-in contact store), the call-center options (SPEC 3.7)
// with the Salesforce call-center XML, the screen-pop planner (pure), the
// server-side execution of plans, and the activity log that is never lost.
package crm

import (
	"context"
	"errors"
	"time"
)

// Record types in the Salesforce vocabulary; other CRMs map theirs onto
// them (Dynamics contact/account/lead/opportunity, Zendesk user/organization).
const (
	TypeContact     = "Contact"
	TypeAccount     = "Account"
	TypeLead        = "Lead"
	TypeOpportunity = "Opportunity"
	TypeCompany     = "Company"
)

// Errors connectors return; wrap them with detail (errors.Is must hold).
var (
	ErrNotFound = errors.New("crm: record not found")
	// ErrMultiple: an upsert by external id matched several records (HTTP 300).
	ErrMultiple = errors.New("crm: several records match")
	// ErrUnavailable: the CRM could not be reached or answered 5xx / 429 /
	// a lock error: retry later with backoff.
	ErrUnavailable = errors.New("crm: unavailable")
	// ErrAuth: credentials were refused even after getting a new token.
	ErrAuth = errors.New("crm: authentication refused")
	// ErrRejected: the CRM refused the request itself (validation, unknown
	// field, permissions): retrying will not help; the reason is in the error.
	ErrRejected = errors.New("crm: request rejected")
)

// Record is one CRM record.
type Record struct {
	Type   string            `json:"type"` // TypeContact, ...
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Phones []string          `json:"phones,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
	URL    string            `json:"url,omitempty"` // where a person opens it
}

// Query is a search: by a field's value (the key) or by phone, across
// record types.
type Query struct {
	Field string   // search by this field's exact value ("Id" = the record id); empty with Phone
	Value string   // the value of Field
	Phone string   // or: search phone fields for this number (E.164)
	Types []string // the record types to search; empty = the connector's default set
	Limit int      // 0 = 50
}

// Activity is the log of a call (a Salesforce Task, a Dynamics phone call
// activity, a Zendesk ticket comment). CallID makes it idempotent: logging
// the same CallID again updates the same CRM record, never adds one.
type Activity struct {
	CallID          string    `json:"callId"` // our conversation id
	RecordType      string    `json:"recordType,omitempty"`
	RecordID        string    `json:"recordId,omitempty"` // WhoId (Contact/Lead) or WhatId (others)
	Subject         string    `json:"subject"`
	Description     string    `json:"description,omitempty"`
	Direction       string    `json:"direction"`             // inbound, outbound, internal
	Disposition     string    `json:"disposition,omitempty"` // "Category / Subcategory"
	DurationSeconds int       `json:"durationSeconds"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	OwnerID         string    `json:"ownerId,omitempty"` // the agent's CRM user id, when known
	Phone           string    `json:"phone,omitempty"`
}

// VoiceCall is a voice-call record (SPEC 3.9c), also keyed by CallID.
type VoiceCall struct {
	CallID          string    `json:"callId"`
	RelatedRecordID string    `json:"relatedRecordId,omitempty"`
	From, To        string    `json:"-"`
	Direction       string    `json:"direction"`
	Start, End      time.Time `json:"-"`
	DurationSeconds int       `json:"durationSeconds"`
	Disposition     string    `json:"disposition,omitempty"`
}

// User is a CRM user (to map agents to CRM owners).
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// Connector is one CRM.
type Connector interface {
	// Search finds records by key or phone, across Query.Types.
	Search(ctx context.Context, q Query) ([]Record, error)
	// Get reads one record.
	Get(ctx context.Context, typ, id string) (Record, error)
	// Create adds a record and returns its id.
	Create(ctx context.Context, typ string, fields map[string]string) (string, error)
	// Update changes fields of a record.
	Update(ctx context.Context, typ, id string, fields map[string]string) error
	// Upsert creates or updates the record whose external-id field extField
	// holds extValue (ErrMultiple when several do).
	Upsert(ctx context.Context, typ, extField, extValue string, fields map[string]string) (id string, created bool, err error)
	// LogActivity writes (or rewrites) the activity of a.CallID and returns
	// the CRM's id for it.
	LogActivity(ctx context.Context, a Activity) (string, error)
	// CreateVoiceCall writes (or rewrites) the voice-call record of v.CallID.
	CreateVoiceCall(ctx context.Context, v VoiceCall) (string, error)
	// Users lists the CRM's users.
	Users(ctx context.Context) ([]User, error)
}
