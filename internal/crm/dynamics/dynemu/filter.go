package dynemu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// node is a parsed $filter expression.
type node struct {
	op          string // or, and, not, eq, ne, contains, startswith
	left, right *node
	attr        string
	lit         any // string, float64, bool, nil
}

func (n *node) attrs() []string {
	if n == nil {
		return nil
	}
	if n.attr != "" {
		return []string{n.attr}
	}
	return append(n.left.attrs(), n.right.attrs()...)
}

func (n *node) eval(row map[string]any) bool {
	switch n.op {
	case "or":
		return n.left.eval(row) || n.right.eval(row)
	case "and":
		return n.left.eval(row) && n.right.eval(row)
	case "not":
		return !n.left.eval(row)
	}
	v, has := row[n.attr]
	if !has {
		v = nil
	}
	switch n.op {
	case "eq":
		return equal(v, n.lit)
	case "ne":
		return !equal(v, n.lit)
	case "contains", "startswith":
		s, _ := v.(string)
		l, _ := n.lit.(string)
		s, l = strings.ToLower(s), strings.ToLower(l)
		if n.op == "contains" {
			return strings.Contains(s, l)
		}
		return strings.HasPrefix(s, l)
	}
	return false
}

// equal compares like Dataverse: strings case-insensitively.
func equal(v, lit any) bool {
	switch l := lit.(type) {
	case nil:
		return v == nil || v == ""
	case string:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, l)
	case float64:
		f, ok := v.(float64)
		return ok && f == l
	case bool:
		b, ok := v.(bool)
		return ok && b == l
	}
	return false
}

type lexer struct {
	toks []string
	i    int
}

func lex(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			var b strings.Builder
			b.WriteByte('\'')
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, errors.New("unterminated string literal")
			}
			toks = append(toks, b.String())
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' && s[j] != ',' && s[j] != '\'' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func parseFilter(s string) (*node, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	l := &lexer{toks: toks}
	n, err := l.or()
	if err != nil {
		return nil, err
	}
	if l.i != len(l.toks) {
		return nil, fmt.Errorf("unexpected %q", l.toks[l.i])
	}
	return n, nil
}

func (l *lexer) peek() string {
	if l.i < len(l.toks) {
		return l.toks[l.i]
	}
	return ""
}

func (l *lexer) next() string { t := l.peek(); l.i++; return t }

func (l *lexer) or() (*node, error) {
	n, err := l.and()
	for err == nil && l.peek() == "or" {
		l.next()
		var r *node
		if r, err = l.and(); err == nil {
			n = &node{op: "or", left: n, right: r}
		}
	}
	return n, err
}

func (l *lexer) and() (*node, error) {
	n, err := l.unary()
	for err == nil && l.peek() == "and" {
		l.next()
		var r *node
		if r, err = l.unary(); err == nil {
			n = &node{op: "and", left: n, right: r}
		}
	}
	return n, err
}

func (l *lexer) unary() (*node, error) {
	switch t := l.peek(); t {
	case "not":
		l.next()
		n, err := l.unary()
		return &node{op: "not", left: n, right: nil}, err
	case "(":
		l.next()
		n, err := l.or()
		if err != nil {
			return nil, err
		}
		if l.next() != ")" {
			return nil, errors.New("missing )")
		}
		return n, nil
	case "contains", "startswith":
		l.next()
		if l.next() != "(" {
			return nil, fmt.Errorf("%s needs (", t)
		}
		attr := l.next()
		if l.next() != "," {
			return nil, fmt.Errorf("%s needs two arguments", t)
		}
		lit, err := literal(l.next())
		if err != nil {
			return nil, err
		}
		if l.next() != ")" {
			return nil, errors.New("missing )")
		}
		return &node{op: t, attr: attr, lit: lit}, nil
	}
	attr := l.next()
	if attr == "" || strings.HasPrefix(attr, "'") {
		return nil, fmt.Errorf("expected a property name, got %q", attr)
	}
	op := l.next()
	if op != "eq" && op != "ne" {
		return nil, fmt.Errorf("operator %q is not supported by the emulator", op)
	}
	lit, err := literal(l.next())
	if err != nil {
		return nil, err
	}
	return &node{op: op, attr: attr, lit: lit}, nil
}

func literal(t string) (any, error) {
	switch {
	case strings.HasPrefix(t, "'"):
		return t[1:], nil
	case t == "null":
		return nil, nil
	case t == "true" || t == "false":
		return t == "true", nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return nil, fmt.Errorf("bad literal %q", t)
	}
	return f, nil
}
