package contact

import (
	"context"
	"fmt"
	"strings"
)

// Lookup selects contacts across lists: by phone, by key, or by a text
// their values contain — what the built-in CRM connector searches with.
type Lookup struct {
	Phone    string // E.164: a contact with this number
	Key      string // or: the Clave_1 value
	Contains string // or: any value contains this (case-insensitive)
	SchemaID string // only the lists of this schema ("" = every list)
	Limit    int    // 0 = no limit
}

// FindIDs returns the ids of the contacts l selects, in list order.
func (s *Service) FindIDs(ctx context.Context, l Lookup) ([]string, error) {
	var q string
	var args []any
	switch {
	case l.Phone != "":
		q, args = `SELECT c.id FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE p.phone = $1`, []any{l.Phone}
	case l.Key != "":
		q, args = `SELECT c.id FROM contacts c WHERE c.contact_key = $1`, []any{l.Key}
	case l.Contains != "":
		q, args = `SELECT c.id FROM contacts c WHERE c.search LIKE $1 ESCAPE '\'`, []any{containsPattern(strings.ToLower(l.Contains))}
	default:
		return nil, fmt.Errorf("contact: a lookup needs a phone, a key or a text")
	}
	if l.SchemaID != "" {
		args = append(args, l.SchemaID)
		q += fmt.Sprintf(` AND c.list_id IN (SELECT id FROM contact_lists WHERE schema_id = $%d)`, len(args))
	}
	q += ` ORDER BY c.ord, c.id`
	if l.Limit > 0 {
		args = append(args, l.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
