// Package auth issues and checks OAuth 2 tokens: client credentials for
// integrations, authorization code + PKCE (with refresh tokens) for people
// using the web UI. Tokens and codes are stored as SHA-256 hashes only.
package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Role is one of the three roles. Each includes the ones below it:
// admin ⊃ supervisor ⊃ agent.
type Role string

const (
	Agent      Role = "agent"
	Supervisor Role = "supervisor"
	Admin      Role = "admin"
)

// Roles lists every role, lowest first.
var Roles = []Role{Agent, Supervisor, Admin}

func (r Role) rank() int { return slices.Index(Roles, r) }

// ParseRoles validates a list of role names.
func ParseRoles(names []string) ([]Role, error) {
	var out []Role
	for _, n := range names {
		r := Role(strings.ToLower(strings.TrimSpace(n)))
		if r.rank() < 0 {
			return nil, fmt.Errorf("unknown role %q (allowed: admin, supervisor, agent)", n)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// JoinRoles is the stored form of a role list.
func JoinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// SplitRoles reads the stored form, dropping anything unknown.
func SplitRoles(s string) []Role {
	rs, _ := ParseRoles(strings.FieldsFunc(s, func(r rune) bool { return r == ',' }))
	return rs
}

// Principal is who is calling: an OAuth client, acting for a person when
// UserID is set.
type Principal struct {
	ClientID  string
	UserID    string
	Roles     []Role
	TokenHash string
	Family    string
}

// Has reports whether p holds min or a role above it.
func (p Principal) Has(min Role) bool {
	for _, r := range p.Roles {
		if r.rank() >= min.rank() {
			return true
		}
	}
	return false
}

// IsUser reports whether p acts for a person (has user context).
func (p Principal) IsUser() bool { return p.UserID != "" }
