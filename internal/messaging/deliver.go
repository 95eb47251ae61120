package messaging

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/centralita/centralita/internal/store"
)

// Delivery: one writer goroutine takes due pending messages (a lease, so a
// second node or a restart never sends one twice at the same time), POSTs
// each to its integration's webhook and records the outcome. A timeout, a
// refused connection, 429 or 5xx is retried after Backoff; after
// MaxAttempts, or on any other answer, the message fails with the reason.

const (
	// MaxAttempts bounds the tries of one message (the first and 5 retries,
	// as the platform does).
	MaxAttempts = 6
	backoffMin  = 5 * time.Second
	backoffMax  = 5 * time.Minute
	batch       = 20
	lease       = 2 * time.Minute
	dbRetry     = 5 * time.Second
	// SignatureHeader carries base64(HMAC-SHA256(secret, body)) after "sha256=".
	SignatureHeader = "X-Hub-Signature-256"
)

// Backoff is the wait after the n-th failed attempt (n ≥ 1): 5 s doubling,
// at most 5 min.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 10 {
		return backoffMax
	}
	return min(backoffMin<<(n-1), backoffMax)
}

// Sign is the X-Hub-Signature-256 value of body under secret: "sha256="
// and the base64 (not hex) HMAC-SHA256.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify reports whether sig is body's signature under secret (what a
// receiver checks).
func Verify(secret string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

// signal wakes the writer.
func (s *Service) signal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy = true
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Idle reports whether the writer waits with nothing to do (tests with a
// fake clock wait for it).
func (s *Service) Idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.busy
}

// Run delivers due messages until ctx ends.
func (s *Service) Run(ctx context.Context) {
	for {
		next, err := s.deliverDue(ctx)
		if ctx.Err() != nil {
			return
		}
		now := s.clock.Now()
		if err != nil {
			next = now.Add(dbRetry)
		}
		var timer interface{ Stop() bool }
		if !next.IsZero() {
			timer = s.clock.AfterFunc(max(next.Sub(now), 10*time.Millisecond), s.signal)
		}
		s.mu.Lock()
		s.busy = len(s.wake) > 0
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-s.wake:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

type dueRow struct {
	id, integration, payload string
	attempts                 int
	nextAt                   int64
}

// deliverDue delivers every due message; it returns when the next pending
// one falls due (zero: none).
func (s *Service) deliverDue(ctx context.Context) (time.Time, error) {
	for {
		rows, err := s.due(ctx)
		if err != nil {
			return time.Time{}, err
		}
		for _, r := range rows {
			if err := s.deliver(ctx, r); err != nil {
				return time.Time{}, err
			}
		}
		if len(rows) < batch {
			break
		}
	}
	var next sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM messaging_messages WHERE state = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, err
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return store.Time(next.Int64), nil
}

func (s *Service) due(ctx context.Context) ([]dueRow, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT id, integration_id, payload, attempts, next_attempt_at FROM messaging_messages
		WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`, store.Millis(s.clock.Now()), batch)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []dueRow
	for rs.Next() {
		var r dueRow
		if err := rs.Scan(&r.id, &r.integration, &r.payload, &r.attempts, &r.nextAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// permanentError is an outcome that is not retried.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func permanent(format string, args ...any) error {
	return &permanentError{msg: fmt.Sprintf(format, args...)}
}

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// deliver takes one due message (the lease) and POSTs it.
func (s *Service) deliver(ctx context.Context, r dueRow) error {
	now := s.clock.Now()
	res, err := s.db.ExecContext(ctx, `UPDATE messaging_messages SET next_attempt_at = $1, modified_at = $2
		WHERE id = $3 AND state = 'pending' AND next_attempt_at = $4`, store.Millis(now.Add(lease)), store.Millis(now), r.id, r.nextAt)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	code, werr := s.post(ctx, r)
	if werr != nil && ctx.Err() != nil {
		return ctx.Err() // shutting down: the lease hands it to the next run
	}
	return s.outcome(ctx, r, code, werr)
}

// post sends one message to its webhook and returns the HTTP status.
func (s *Service) post(ctx context.Context, r dueRow) (int, error) {
	in, sealed, err := getIntegration(ctx, s.db, r.integration)
	if err != nil {
		return 0, permanent("the messaging integration was deleted")
	}
	secret, err := s.box.Open(sealed)
	if err != nil {
		return 0, permanent("the integration's secret cannot be opened: %v", err)
	}
	if err := CheckWebhookURL(in.WebhookURL, s.opts.AllowInternal); err != nil {
		return 0, permanent("the webhook URL %v", err)
	}
	body := []byte(r.payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, permanent("%v", err)
	}
	for k, v := range in.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Centralita-Messaging/1")
	req.Header.Set(SignatureHeader, Sign(secret, body))
	resp, err := s.client.Do(req)
	if err != nil {
		var blocked *blockedError
		if errors.As(err, &blocked) {
			return 0, permanent("%v", blocked)
		}
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return resp.StatusCode, fmt.Errorf("the webhook answered %d", resp.StatusCode)
	default:
		return resp.StatusCode, permanent("the webhook answered %d", resp.StatusCode)
	}
}

func (s *Service) outcome(ctx context.Context, r dueRow, code int, werr error) error {
	now := s.clock.Now()
	attempts := r.attempts + 1
	state, next, lastErr := Delivered, int64(0), ""
	delivered := int64(0)
	switch {
	case werr == nil:
		delivered = store.Millis(now)
	case isPermanent(werr) || attempts >= MaxAttempts:
		state, lastErr = Failed, truncate(werr.Error(), 1000)
		if !isPermanent(werr) {
			lastErr = truncate(fmt.Sprintf("gave up after %d attempts: %v", attempts, werr), 1000)
		}
	default:
		state, lastErr = Pending, truncate(werr.Error(), 1000)
		next = store.Millis(now.Add(Backoff(attempts)))
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE messaging_messages SET state = $1, attempts = $2, next_attempt_at = $3, last_error = $4,
			status_code = $5, delivered_at = $6, modified_at = $7 WHERE id = $8`,
			state, attempts, next, lastErr, code, delivered, store.Millis(now), r.id); err != nil {
			return err
		}
		if state == Pending {
			return nil
		}
		m, err := s.messageIn(ctx, tx, r.id)
		if err != nil {
			return err
		}
		return s.announce(ctx, tx, m)
	})
}

func (s *Service) messageIn(ctx context.Context, tx *store.Tx, id string) (Message, error) {
	var m Message
	err := tx.QueryRowContext(ctx, `SELECT id, conversation_id, integration_id, to_address, messenger_type, user_id, state
		FROM messaging_messages WHERE id = $1`, id).Scan(&m.ID, &m.ConversationID, &m.IntegrationID, &m.ToAddress, &m.MessengerType, &m.UserID, &m.State)
	return m, err
}

// PendingMessages counts the messages not yet delivered.
func (s *Service) PendingMessages(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM messaging_messages WHERE state = 'pending'`).Scan(&n)
	return n, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ---- the outbound guard -------------------------------------------------------

// blockedError is a dial refused by the guard.
type blockedError struct{ ip netip.Addr }

func (e *blockedError) Error() string {
	return fmt.Sprintf("the webhook resolves to an internal address (%s); internal webhooks are not allowed here", e.ip)
}

// internal reports addresses a webhook must not reach from a server:
// loopback, private, link-local, unspecified, multicast, shared (CGNAT)
// and IPv4-mapped forms of them.
func internal(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip) || netip.MustParsePrefix("0.0.0.0/8").Contains(ip)
}

// guardedClient is the webhook client: no proxy, no redirects followed, and
// (unless allowInternal) a dialer that refuses internal addresses after
// name resolution, so a public name pointing inside is refused too.
func guardedClient(allowInternal bool, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowInternal {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return err
			}
			if internal(ip) {
				return &blockedError{ip: ip.Unmap()}
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
