package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/centralita/centralita/internal/api"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/telephony/sim"
	"github.com/centralita/centralita/internal/telephony/sip"
	"github.com/centralita/centralita/internal/trunk"
)

// The switch calls go through (config telephony): the simulated one, or
// the SIP switch with its registrar, the trunks from the store and the
// recordings directory. See docs/telephony.md.

// buildSwitch makes cc.sw (and cc.sim or cc.sip). The SIP switch listens
// at once: phones may register before Start.
func (a *App) buildSwitch(ctx context.Context, numbers func(string) sim.Party) error {
	cc := a.cc
	dir := a.Config.RecordingsPath()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("setting recordings_dir = %q: cannot create directory: %w", dir, err)
	}
	if a.Config.Telephony != config.TelephonySIP {
		cc.sim = sim.New(a.Clock, sim.Options{Numbers: numbers, RecordingDir: dir})
		cc.sw = cc.sim
		return nil
	}
	reg, err := sip.New(sip.Config{Credentials: a.Directory, Clock: a.Clock, Logger: a.Log})
	if err != nil {
		return err
	}
	trunks, err := a.sipTrunks(ctx)
	if err != nil {
		return err
	}
	lo, hi, err := a.Config.RTPPortRange()
	if err != nil {
		return fmt.Errorf("setting rtp_ports = %q: %w", a.Config.RTPPorts, err)
	}
	opts := sip.Options{Listen: a.Config.SIPListen, Registrar: reg, Trunks: trunks, RTPPortMin: lo, RTPPortMax: hi, RecordingDir: dir,
		Clock: a.Clock, Logger: a.Log}
	if opts.Browsers, err = a.browserPhones(); err != nil { // the softphone page as phone (browserphone.go)
		return err
	}
	if a.Config.SIPTLSListen != "" {
		// Validate read the files already; read again here, they may
		// have been replaced since (a renewal).
		cert, err := a.Config.SIPTLSCertificate()
		if err != nil {
			return err
		}
		// RootCAs nil: TLS trunks' certificates are verified against the
		// system's roots.
		opts.TLSListen = a.Config.SIPTLSListen
		opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	sw, err := sip.NewSwitch(opts)
	if err != nil {
		if a.Config.SIPTLSListen != "" { // the error names which (sip: listen TLS …)
			return fmt.Errorf("setting sip_listen = %q, sip_tls_listen = %q: %w", a.Config.SIPListen, a.Config.SIPTLSListen, err)
		}
		return fmt.Errorf("setting sip_listen = %q: %w", a.Config.SIPListen, err)
	}
	cc.sip, cc.reg, cc.sw = sw, reg, sw
	tlsAddr := "off"
	if ta := sw.TLSAddr(); ta != nil {
		tlsAddr = ta.String()
	}
	a.Log.Info("sip switch listening", "sip", sw.Addr().String(), "sip_tls", tlsAddr, "rtp", a.Config.RTPPorts, "trunks", len(trunks), "recordings", dir)
	return nil
}

// sipTrunks reads the trunks from the store as the switch takes them.
func (a *App) sipTrunks(ctx context.Context) ([]sip.Trunk, error) {
	live, err := a.Trunks.Live(ctx)
	if err != nil {
		return nil, fmt.Errorf("sip trunks: %w", err)
	}
	out := make([]sip.Trunk, len(live))
	for i, t := range live {
		// DIDs are not passed on: the switch takes any number from an
		// inbound trunk, and the conversations route it (SetNumberPlan);
		// a number that routes nowhere is rejected there.
		out[i] = sip.Trunk{Name: t.Name, Address: t.Address, Username: t.Username, Password: t.Password,
			Country: t.DefaultCountry, CallerID: t.CallerID, Inbound: true,
			Register: t.Register, RegisterExpires: time.Duration(t.RegisterExpires) * time.Second, Transport: t.Transport,
			SRTP: t.SRTP}
	}
	return out, nil
}

// trunkRegistrations shows the SIP switch's registrations to the API.
type trunkRegistrations struct{ sw *sip.Switch }

func (r trunkRegistrations) TrunkRegistrations() map[string]api.TrunkRegistration {
	live := r.sw.Registrations()
	out := make(map[string]api.TrunkRegistration, len(live))
	for name, reg := range live {
		ar := api.TrunkRegistration{State: reg.State, Error: reg.LastError}
		switch reg.State {
		case sip.RegRegistered:
			t := api.Time(reg.Expires)
			ar.ExpiresAt = &t
		case sip.RegFailed:
			t := api.Time(reg.Next)
			ar.RetryAt = &t
		}
		out[name] = ar
	}
	return out
}

// wireTelephony connects the conversations to the number plan (DIDs →
// queues), the recordings index and, for SIP, trunk changes.
func (a *App) wireTelephony() {
	a.Conversations.SetNumberPlan(a.Trunks.Route)
	a.cc.recorded = make(chan conversation.RecordingDone, 256)
	a.Conversations.OnRecording(func(r conversation.RecordingDone) {
		select {
		case a.cc.recorded <- r:
		default:
			go a.indexRecording(context.Background(), r) // a burst: never block the conversations
		}
	})
	a.Outbox.OnCommit(a.trunksChanged)
}

// runRecordings indexes finished recordings until ctx ends.
func (a *App) runRecordings(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-a.cc.recorded:
			a.indexRecording(ctx, r)
		}
	}
}

func (a *App) indexRecording(ctx context.Context, r conversation.RecordingDone) {
	rec, err := a.Recordings.Add(ctx, r.ConversationID, r.ParticipantID, r.UserID, r.File, r.End)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Warn("recording not indexed", "conversation", r.ConversationID, "file", r.File, "err", err)
		}
		return
	}
	a.recordingsIndexed.Inc()
	a.Log.Info("recording indexed", "conversation", r.ConversationID, "recording", rec.ID, "durationMs", rec.Duration.Milliseconds())
}

// trunksChanged reloads the SIP switch's trunks after an administrator
// changed one.
func (a *App) trunksChanged(ev bus.Event) {
	if !strings.HasPrefix(ev.Topic, trunk.TopicPrefix) || a.cc.sip == nil {
		return
	}
	ctx := context.Background()
	trunks, err := a.sipTrunks(ctx)
	if err == nil {
		err = a.cc.sip.SetTrunks(trunks)
	}
	if err != nil {
		a.Log.Error("sip trunks: reload failed; the switch keeps the previous ones", "err", err)
		return
	}
	a.Log.Info("sip trunks reloaded", "trunks", len(trunks))
}

// registerTelephonyMetrics adds the telephony gauges: stations with a
// registered phone and trunks' registrations with their carriers (SIP
// only), and recordings indexed.
func (a *App) registerTelephonyMetrics() {
	if reg := a.cc.reg; reg != nil {
		a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centralita_sip_registered_stations",
			Help: "Stations with at least one registered SIP contact."},
			func() float64 { return float64(len(reg.Stations())) }))
	}
	if a.cc.sip != nil {
		a.registry.MustRegister(trunkRegistrations{a.cc.sip})
	}
	a.registry.MustRegister(a.recordingsIndexed)
}

// trunkRegisteredDesc: one series per trunk that registers, so that an
// alert can fire when a carrier stops taking our binding (its calls then
// stop arriving).
var trunkRegisteredDesc = prometheus.NewDesc("centralita_sip_trunk_registered",
	"1 when the trunk's registration with its carrier is current, 0 while it is being sent or has failed.", []string{"trunk"}, nil)

func (r trunkRegistrations) Describe(ch chan<- *prometheus.Desc) { ch <- trunkRegisteredDesc }

func (r trunkRegistrations) Collect(ch chan<- prometheus.Metric) {
	for name, reg := range r.sw.Registrations() {
		v := 0.0
		if reg.State == sip.RegRegistered {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(trunkRegisteredDesc, prometheus.GaugeValue, v, name)
	}
}

// SIPSwitch is the SIP switch when telephony is sip (nil otherwise).
func (a *App) SIPSwitch() *sip.Switch { return a.cc.sip }

// Registrar is the SIP registrar when telephony is sip (nil otherwise).
func (a *App) Registrar() *sip.Registrar { return a.cc.reg }
