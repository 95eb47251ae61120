package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/problem"
)

type closeCode = websocket.StatusCode

const (
	closeNormal    = websocket.StatusNormalClosure
	closeGoingAway = websocket.StatusGoingAway
	closePolicy    = websocket.StatusPolicyViolation
)

const (
	// maxClientMessage bounds what a client may send in one message (a
	// subscribe with 1,000 long topic names fits).
	maxClientMessage = 256 << 10
	// writeTimeout bounds one write; a client that reads nothing for this
	// long loses its socket.
	writeTimeout = 10 * time.Second
	// finalTimeout bounds flushing the queue and the closing notice.
	finalTimeout = 2 * time.Second
)

// Close reasons a client sees.
const (
	ReasonUnknownChannel = "unknown notification channel: it expired, was evicted or never existed"
	ReasonReplaced       = "another WebSocket connected to this channel"
	ReasonExpired        = "channel expired"
	ReasonEvicted        = "channel evicted: its owner created more than 20 channels"
	ReasonShutdown       = "server shutting down"
)

// Messages of the channel.metadata topic.
var (
	heartbeatMessage = []byte(`{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`)
	pongMessage      = []byte(`{"topicName":"channel.metadata","eventBody":{"message":"pong"}}`)
)

// SocketClosingTopic is the topic of the notice sent before the server
// closes sockets on shutdown.
const SocketClosingTopic = "v2.system.socket_closing"

func closingMessage(channelID string) []byte {
	body, _ := json.Marshal(map[string]string{
		"channelId":       channelID,
		"systemTopicType": "socket_closing",
		"message":         "The server is shutting down; its channels end with it: create a new channel and subscribe again.",
	})
	b, _ := json.Marshal(envelope{TopicName: SocketClosingTopic, Version: "2", EventBody: body})
	return b
}

// conn is what a socket writes to; *websocket.Conn in production.
type conn interface {
	Write(ctx context.Context, msg []byte) error
	Close(code closeCode, reason string) error
}

type wsConn struct{ c *websocket.Conn }

func (w wsConn) Write(ctx context.Context, msg []byte) error {
	return w.c.Write(ctx, websocket.MessageText, msg)
}
func (w wsConn) Close(code closeCode, reason string) error { return w.c.Close(code, reason) }

type sendResult int

const (
	sent sendResult = iota
	full
	stopped
)

// socket is one open WebSocket of a channel: a bounded queue drained by a
// writer goroutine, the only writer of the connection.
type socket struct {
	channelID  string
	conn       conn
	queue      chan []byte
	done       chan struct{} // closed by stop
	writerDone chan struct{}
	once       sync.Once
	code       closeCode
	reason     string
	final      []byte
}

func newSocket(channelID string, c conn, size int) *socket {
	return &socket{channelID: channelID, conn: c, queue: make(chan []byte, size),
		done: make(chan struct{}), writerDone: make(chan struct{})}
}

// send queues msg without blocking.
func (s *socket) send(msg []byte) sendResult {
	select {
	case <-s.done:
		return stopped
	default:
	}
	select {
	case s.queue <- msg:
		return sent
	default:
		return full
	}
}

// stop asks the writer to close the connection with code and reason, after
// writing final when it is not nil. Only the first call counts.
func (s *socket) stop(code closeCode, reason string, final []byte) {
	s.once.Do(func() {
		s.code, s.reason, s.final = code, reason, final
		close(s.done)
	})
}

func (s *socket) writeLoop() {
	defer close(s.writerDone)
	for {
		select {
		case <-s.done:
			s.finish()
			return
		case m := <-s.queue:
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err := s.conn.Write(ctx, m)
			cancel()
			if err != nil {
				s.stop(closeGoingAway, "write failed", nil)
			}
		}
	}
}

// finish flushes the queue and the final message (bounded), then closes.
func (s *socket) finish() {
	if s.final != nil {
		ctx, cancel := context.WithTimeout(context.Background(), finalTimeout)
	flush:
		for {
			select {
			case m := <-s.queue:
				if s.conn.Write(ctx, m) != nil {
					break flush
				}
			default:
				break flush
			}
		}
		s.conn.Write(ctx, s.final)
		cancel()
	}
	s.conn.Close(s.code, s.reason)
}

// ServeWebSocket serves the WebSocket of channel channelID. The channel id
// is the secret, as on the platform: browsers cannot set headers on a
// WebSocket, so there is no other authentication and any origin may
// connect. A second socket on a channel closes the first; an unknown or
// expired channel is closed at once with ReasonUnknownChannel.
func (h *Hub) ServeWebSocket(w http.ResponseWriter, r *http.Request, channelID string) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		h.log.Debug("notification websocket not accepted", "err", err)
		return
	}
	c.SetReadLimit(maxClientMessage)
	s := newSocket(channelID, wsConn{c}, h.queueSize)
	old, code, reason := h.attach(channelID, s)
	if reason != "" {
		c.Close(code, reason)
		return
	}
	defer h.sockets.Done()
	if old != nil {
		old.stop(closeNormal, ReasonReplaced, nil)
	}
	h.serve(s, c)
}

// serve runs an attached socket until it ends.
func (h *Hub) serve(s *socket, c *websocket.Conn) {
	go s.writeLoop()
	for {
		_, data, err := c.Read(context.Background())
		if err != nil {
			break
		}
		h.handleClient(s, data)
	}
	s.stop(closeNormal, "", nil)
	h.detach(s)
	<-s.writerDone
}

// attach makes s the socket of channel id; it returns the socket it
// replaces, or the close code and reason when s is refused.
func (h *Hub) attach(id string, s *socket) (old *socket, code closeCode, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, closeGoingAway, ReasonShutdown
	}
	ch := h.liveLocked(id)
	if ch == nil {
		return nil, closePolicy, ReasonUnknownChannel
	}
	old, ch.sock = ch.sock, s
	h.touchLocked(ch, h.clock.Now())
	h.sockets.Add(1)
	return old, 0, ""
}

func (h *Hub) detach(s *socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch := h.channels[s.channelID]; ch != nil && ch.sock == s {
		ch.sock = nil
		h.touchLocked(ch, h.clock.Now())
	}
}

// clientMessage is what a client may send.
type clientMessage struct {
	Message       string          `json:"message"`
	Topics        []string        `json:"topics"`
	CorrelationID string          `json:"correlationId"`
	Body          json.RawMessage `json:"body"` // for a registered handler
}

// ClientHandler handles a client message other than ping, subscribe and
// unsubscribe: body is the message's "body", p the channel's owner. It
// runs on the socket's reading goroutine, so it must be quick. A nil
// error answers {"result":"200","status":"ok"}; a problem error answers
// with its kind's code (400, 403, 404, 409) and message.
type ClientHandler func(ctx context.Context, p auth.Principal, body json.RawMessage) error

// HandleClient registers fn for client messages named message (matched
// without regard to case), e.g. the browser phone's "phone" messages.
func (h *Hub) HandleClient(message string, fn ClientHandler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.handlers == nil {
		h.handlers = map[string]ClientHandler{}
	}
	h.handlers[strings.ToLower(message)] = fn
}

// handleRegistered runs the handler registered for m, if any.
func (h *Hub) handleRegistered(s *socket, m clientMessage, ch *channel, p auth.Principal) bool {
	h.mu.Lock()
	fn := h.handlers[strings.ToLower(m.Message)]
	h.mu.Unlock()
	if fn == nil {
		return false
	}
	if ch == nil {
		h.replyTo(s, reply{Result: "404", Status: "error", CorrelationID: m.CorrelationID, Message: ReasonUnknownChannel})
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := fn(ctx, p, m.Body)
	cancel()
	if err == nil {
		h.replyTo(s, reply{Result: "200", Status: "ok", CorrelationID: m.CorrelationID})
		return true
	}
	result := "500"
	for _, pr := range problem.All(err) {
		switch pr.Kind {
		case problem.Invalid, problem.Duplicate:
			result = "400"
		case problem.Forbidden:
			result = "403"
		case problem.NotFound:
			result = "404"
		case problem.Conflict:
			result = "409"
		}
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	if result == "500" {
		h.log.Warn("notification client message failed", "channel", s.channelID, "message", m.Message, "err", err)
		msg = "the server failed to handle the message; try again"
	}
	h.replyTo(s, reply{Result: result, Status: "error", Message: msg, CorrelationID: m.CorrelationID})
	return true
}

// reply answers subscribe and unsubscribe; result is a string ("200").
type reply struct {
	Result        string `json:"result"`
	Status        string `json:"status"`
	Message       string `json:"message,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
}

func (h *Hub) handleClient(s *socket, data []byte) {
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		h.replyTo(s, reply{Result: "400", Status: "error", Message: "messages are JSON objects such as {\"message\":\"ping\"}: " + err.Error()})
		return
	}
	h.mu.Lock()
	ch := h.liveLocked(s.channelID)
	var p auth.Principal
	if ch != nil && ch.sock == s {
		p = ch.principal
		h.touchLocked(ch, h.clock.Now())
	} else {
		ch = nil
	}
	h.mu.Unlock()
	switch strings.ToLower(m.Message) {
	case "ping":
		h.push(s, pongMessage)
		return
	case "subscribe", "unsubscribe":
	default:
		if h.handleRegistered(s, m, ch, p) {
			return
		}
		h.replyTo(s, reply{Result: "400", Status: "error", CorrelationID: m.CorrelationID,
			Message: "unknown message " + strings.TrimSpace(m.Message) + ": expected ping, subscribe or unsubscribe"})
		return
	}
	if ch == nil {
		h.replyTo(s, reply{Result: "404", Status: "error", CorrelationID: m.CorrelationID, Message: ReasonUnknownChannel})
		return
	}
	var err error
	status := "subscribed"
	if strings.EqualFold(m.Message, "subscribe") {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = h.subscribe(ctx, p, s.channelID, m.Topics, Add, false)
		cancel()
	} else {
		status = "unsubscribed"
		err = h.unsubscribe(s.channelID, m.Topics)
	}
	if err != nil {
		result := "400"
		for _, pr := range problem.All(err) {
			if pr.Kind == problem.NotFound {
				result = "404"
			}
		}
		if len(problem.All(err)) == 0 {
			h.log.Warn("notification subscribe failed", "channel", s.channelID, "err", err)
			err = errors.New("the server failed to subscribe; try again")
			result = "500"
		}
		h.replyTo(s, reply{Result: result, Status: "error", Message: strings.ReplaceAll(err.Error(), "\n", "; "), CorrelationID: m.CorrelationID})
		return
	}
	h.replyTo(s, reply{Result: "200", Status: status, CorrelationID: m.CorrelationID})
}

func (h *Hub) replyTo(s *socket, r reply) {
	b, _ := json.Marshal(r)
	h.push(s, b)
}
