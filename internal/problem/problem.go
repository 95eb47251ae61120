// Package problem is how domain packages say what went wrong in terms a
// caller can act on — which field, which entity, why — without knowing about
// HTTP. The API turns a Problem into a status code and an error body.
package problem

import (
	"errors"
	"fmt"
)

// Kind classifies a problem.
type Kind int

const (
	Invalid   Kind = iota + 1 // the input is wrong: 400
	NotFound                  // the entity does not exist: 404
	Conflict                  // the input clashes with stored state, e.g. a stale version: 409
	Duplicate                 // a unique value (name, number) is already taken: 400
	Forbidden                 // the caller may not do this to this entity: 403
)

// Problem is one thing wrong with a request.
type Problem struct {
	Kind    Kind
	Field   string // dotted path in the request, e.g. "name" or "roles[1]"; may be empty
	Message string
	// Code, when set, is the specific error code clients see (dotted lower
	// case, e.g. "station.in.use") instead of the kind's generic one.
	Code string
}

func (p *Problem) Error() string {
	if p.Field != "" {
		return p.Field + ": " + p.Message
	}
	return p.Message
}

// Invalidf reports a wrong input field.
func Invalidf(field, format string, args ...any) error {
	return &Problem{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Conflictf reports a clash with stored state, such as a duplicate name.
func Conflictf(field, format string, args ...any) error {
	return &Problem{Kind: Conflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Duplicatef reports a unique value already taken.
func Duplicatef(field, format string, args ...any) error {
	return &Problem{Kind: Duplicate, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf reports a missing entity.
func NotFoundf(format string, args ...any) error {
	return &Problem{Kind: NotFound, Message: fmt.Sprintf(format, args...)}
}

// Forbiddenf reports an action the caller's role does not allow.
func Forbiddenf(format string, args ...any) error {
	return &Problem{Kind: Forbidden, Message: fmt.Sprintf(format, args...)}
}

// Coded reports a problem of kind with a specific error code.
func Coded(kind Kind, code, field, format string, args ...any) error {
	return &Problem{Kind: kind, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// All returns the problems inside err (which may join several).
func All(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if p, ok := e.(*Problem); ok {
			out = append(out, p)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	return out
}

// Collector gathers validation problems so all of them are reported at once.
type Collector struct{ errs []error }

// Add records a problem for field.
func (c *Collector) Add(field, format string, args ...any) {
	c.errs = append(c.errs, Invalidf(field, format, args...))
}

// Err returns the joined problems or nil.
func (c *Collector) Err() error { return errors.Join(c.errs...) }
