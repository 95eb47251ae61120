package app

import (
	"fmt"
	"net"

	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/notify"
	"github.com/centralita/centralita/internal/telephony/sip"
	"github.com/centralita/centralita/internal/telephony/webrtc"
	"github.com/centralita/centralita/internal/telephony/webrtc/browserphone"
)

// The browser phone (SIP switch only): an agent logged into a "webrtc"
// station has the softphone page as phone. Its media (ICE host
// candidates) is offered on the SIP switch's own IP; its signalling runs
// over the notification hub (topic v2.users.{id}.phone and "phone" client
// messages). See internal/telephony/webrtc/browserphone.

// browserPhones makes the switch's Options.Browsers. The sessions and the
// notification hub are built after the switch: the phones reach them
// through the App when a page or a call needs them.
func (a *App) browserPhones() (sip.BrowserPhones, error) {
	host, _, err := net.SplitHostPort(a.Config.SIPListen)
	if err != nil {
		return nil, fmt.Errorf("browser phone: sip_listen %q: %w", a.Config.SIPListen, err)
	}
	api, err := webrtc.NewAPI(webrtc.Config{IPs: []string{host}})
	if err != nil {
		return nil, fmt.Errorf("browser phone: %w", err)
	}
	return browserphone.New(browserphone.Options{API: api, Stations: a.Directory, Sessions: appSessions{a},
		Events: appHub{a}, Clock: a.Clock, Log: a.Log})
}

// attachBrowserPhones puts the browser phone on the notification hub:
// its topic and its client messages. A no-op without the SIP switch.
func (a *App) attachBrowserPhones() {
	if a.cc == nil || a.cc.sip == nil || a.Notify == nil {
		return
	}
	p, ok := a.cc.sip.Browsers().(*browserphone.Phones)
	if !ok {
		return
	}
	a.Notify.Register(notify.Topic{Template: browserphone.TopicTemplate, Rule: notify.SelfOrSupervisor,
		Description: "The user's browser phone (a webrtc station on the SIP switch): WebRTC offers of calls to it, requests to answer, hang-ups. The page answers with \"phone\" client messages on the same WebSocket."})
	a.Notify.HandleClient(browserphone.Message, p.Handle)
}

// appSessions reads the sessions once they exist.
type appSessions struct{ a *App }

func (s appSessions) StationOf(user string) (string, bool) {
	if s.a.Sessions == nil {
		return "", false
	}
	return s.a.Sessions.StationOf(user)
}

// appHub delivers to this node's notification sockets once the hub exists.
type appHub struct{ a *App }

func (h appHub) Deliver(ev bus.Event) {
	if h.a.Notify != nil {
		h.a.Notify.Deliver(ev)
	}
}
