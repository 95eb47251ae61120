package sip

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// SIP INFO DTMF: some phones and carriers send key presses as in-dialog
// INFO requests instead of RFC 4733 packets. Two bodies are understood:
//
//	Content-Type: application/dtmf-relay     Signal=5\r\nDuration=160
//	Content-Type: application/dtmf           5
//
// Each gives one telephony.DTMF event on the leg (only once it is
// answered) and 200 OK. An INFO with no body (a keep-alive) gets 200, any
// other body 415 with the types we accept, a DTMF body we cannot read 400.

// maxInfoBody bounds the INFO bodies read.
const maxInfoBody = 1024

var errDTMFBody = errors.New("sip: DTMF body not understood")

func (s *Switch) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	callID := req.CallID()
	if callID == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	s.mu.Lock()
	l := s.byCallID[callID.Value()]
	if l != nil && !inDialog(l, req) {
		l = nil
	}
	s.mu.Unlock()
	if l == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	body := req.Body()
	mt := mediaType(ct)
	switch {
	case len(body) == 0:
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		return
	case mt != "application/dtmf-relay" && mt != "application/dtmf":
		res := sip.NewResponseFromRequest(req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", nil)
		res.AppendHeader(sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		_ = tx.Respond(res)
		return
	}
	digit, err := parseDTMFInfo(mt, body)
	if err != nil {
		s.log.Info("sip info: bad DTMF body", "leg", l.id, "content_type", mt, "err", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad DTMF Body", nil))
		return
	}
	s.partyDigit(l, digit) // a DTMF event if the leg is answered (hold.go)
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

// mediaType is a Content-Type's type/subtype, lower case, without parameters.
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// parseDTMFInfo reads the digit of an INFO body of media type mt
// ("application/dtmf-relay": lines "Signal=5" and "Duration=160", the
// Signal required; "application/dtmf": the digit alone). Digits are 0-9
// * # A-D; the RFC 4733 event codes 10-15 (for * # A-D) are accepted too.
func parseDTMFInfo(mt string, body []byte) (string, error) {
	if len(body) > maxInfoBody {
		return "", fmt.Errorf("%w: body of %d bytes", errDTMFBody, len(body))
	}
	text := string(body)
	switch mt {
	case "application/dtmf":
		return dtmfDigit(strings.TrimSpace(text))
	case "application/dtmf-relay":
		signal, seen := "", false
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return "", fmt.Errorf("%w: line %q is not KEY=VALUE", errDTMFBody, clip(line))
			}
			if strings.EqualFold(strings.TrimSpace(k), "signal") {
				if seen {
					return "", fmt.Errorf("%w: two Signal lines", errDTMFBody)
				}
				signal, seen = strings.TrimSpace(v), true
			}
		}
		if !seen {
			return "", fmt.Errorf("%w: no Signal line", errDTMFBody)
		}
		return dtmfDigit(signal)
	}
	return "", fmt.Errorf("%w: content type %q", errDTMFBody, clip(mt))
}

// dtmfDigit reads one key: 0-9 * # A-D (a-d too) or an RFC 4733 event code 10-15.
func dtmfDigit(v string) (string, error) {
	switch {
	case len(v) == 1 && (v[0] >= '0' && v[0] <= '9' || v[0] == '*' || v[0] == '#' || v[0] >= 'A' && v[0] <= 'D'):
		return v, nil
	case len(v) == 1 && v[0] >= 'a' && v[0] <= 'd':
		return strings.ToUpper(v), nil
	}
	if i := indexOf([]string{"10", "11", "12", "13", "14", "15"}, v); i >= 0 {
		return string("*#ABCD"[i]), nil
	}
	return "", fmt.Errorf("%w: %q is not a DTMF key (0-9 * # A-D)", errDTMFBody, clip(v))
}

func indexOf(list []string, v string) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

// clip shortens outside input quoted in errors and logs.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
