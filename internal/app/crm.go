package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/crm/builtin"
	"github.com/centralita/centralita/internal/crm/dynamics"
	"github.com/centralita/centralita/internal/crm/salesforce"
	"github.com/centralita/centralita/internal/crm/zendesk"
	"github.com/centralita/centralita/internal/store"
)

// The CRM connector's live part: which call center a call belongs to, its
// connector (built from the call center's settings and secrets, cached
// until the call center changes), screen pops when an agent connects, and
// the activity log's intake and writer.

// screenPopWorkers run screen pops side by side: a slow CRM must not hold
// up the next agent's pop.
const screenPopWorkers = 4

type crmRuntime struct {
	a     *App
	mu    sync.Mutex
	conns map[string]crm.Connector // call center id → connector
	pops  map[string]crm.Pop       // conversation id → its last screen pop
	work  chan conversation.AgentConnected
	sf    *salesforceUsage
}

func (a *App) buildCRM() {
	r := &crmRuntime{a: a, conns: map[string]crm.Connector{}, pops: map[string]crm.Pop{},
		work: make(chan conversation.AgentConnected, 4096), sf: &salesforceUsage{}}
	a.crm = r
	a.Conversations.OnAgentConnected(func(ev conversation.AgentConnected) {
		select {
		case r.work <- ev:
		default:
			a.Log.Warn("crm: screen pop queue full, pop skipped", "conversation", ev.ConversationID)
		}
	})
	a.CRM.SetCallCenterFor(func(ctx context.Context, call crm.EndedCall) (string, bool) {
		cc, err := r.CallCenter(ctx)
		if err != nil || !cc.SaveActivityLog || cc.LogsFromBrowser() {
			return "", false // the softphone logs through its host (Open CTI saveLog)
		}
		return cc.ID, true
	})
	a.CRM.SetActivityModeFor(func(ctx context.Context, id string) string {
		cc, err := a.CRM.GetCallCenter(ctx, id)
		if err != nil {
			return ""
		}
		return cc.ActivityMode
	})
	a.Outbox.OnCommit(func(ev bus.Event) {
		if id, ok := strings.CutPrefix(ev.Topic, "v2.crm.callcenters."); ok {
			r.mu.Lock()
			delete(r.conns, id)
			r.mu.Unlock()
		}
	})
}

// start runs the screen-pop workers, the activity log's durable intake
// and its writer.
func (r *crmRuntime) start(ctx context.Context) error {
	a := r.a
	for i := 0; i < screenPopWorkers; i++ {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-r.work:
					r.pop(ctx, ev)
				}
			}
		}()
	}
	if _, err := a.CRM.ConsumeConversations(ctx, a.Bus); err != nil {
		return fmt.Errorf("crm activity log intake: %w", err)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.CRM.RunActivityLog(ctx, r.connectorFor)
	}()
	return nil
}

// CallCenter is the call center calls use: the first by name. (Users are
// not assigned to call centers yet; one call center per installation.)
func (r *crmRuntime) CallCenter(ctx context.Context) (crm.CallCenter, error) {
	ccs, _, err := r.a.CRM.ListCallCenters(ctx, crm.Page{Limit: 1})
	if err != nil {
		return crm.CallCenter{}, err
	}
	if len(ccs) == 0 {
		return crm.CallCenter{}, errors.New("crm: no call center is configured")
	}
	return ccs[0], nil
}

// Connector returns the call center in use and its connector.
func (r *crmRuntime) Connector(ctx context.Context) (crm.CallCenter, crm.Connector, error) {
	cc, err := r.CallCenter(ctx)
	if err != nil {
		return cc, nil, err
	}
	conn, err := r.connectorFor(cc.ID)
	return cc, conn, err
}

// connectorFor builds (once) the connector of a call center.
func (r *crmRuntime) connectorFor(id string) (crm.Connector, error) {
	r.mu.Lock()
	if c, ok := r.conns[id]; ok {
		r.mu.Unlock()
		return c, nil
	}
	r.mu.Unlock()
	ctx := context.Background()
	cc, err := r.a.CRM.GetCallCenter(ctx, id)
	if err != nil {
		return nil, err
	}
	secrets := map[string]string{}
	for _, name := range cc.SecretsSet {
		v, err := r.a.CRM.Secret(ctx, id, name)
		if err != nil {
			return nil, err
		}
		secrets[name] = v
	}
	var conn crm.Connector
	switch cc.Connector {
	case "builtin", "":
		conn = builtin.New(r.a.DB, r.a.Contacts, builtin.FromSettings(cc.Settings))
	case "salesforce":
		s := cc.Settings
		sfc := salesforce.New(salesforce.Config{LoginURL: s["loginUrl"], InstanceURL: s["instanceUrl"], APIVersion: s["apiVersion"], Flow: s["flow"],
			ClientID: s["clientId"], ClientSecret: secrets["clientSecret"], Username: s["username"], Password: secrets["password"],
			SecurityToken: secrets["securityToken"], PrivateKeyPEM: secrets["privateKey"], Audience: s["audience"],
			TaskCallIDField: s["taskCallIdField"], ExternalIDField: s["syncField"], PhoneSearch: s["phoneSearch"]},
			&http.Client{Timeout: 20 * time.Second})
		r.sf.set(sfc)
		conn = sfc
	case "dynamics":
		cfg, err := dynamics.FromSettings(cc.Settings, secrets)
		if err != nil {
			return nil, err
		}
		if conn, err = dynamics.New(cfg); err != nil {
			return nil, err
		}
	case "zendesk":
		cfg, err := zendesk.FromSettings(cc.Settings, secrets)
		if err != nil {
			return nil, err
		}
		if conn, err = zendesk.New(cfg); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("crm: unknown connector %q", cc.Connector)
	}
	r.mu.Lock()
	r.conns[id] = conn
	r.mu.Unlock()
	return conn, nil
}

// pop runs the screen pop of a call that connected to an agent and sends
// it to the agent's softphone (v2.users.{id}.crm.screenpop).
func (r *crmRuntime) pop(ctx context.Context, ev conversation.AgentConnected) {
	a := r.a
	cc, conn, err := r.Connector(ctx)
	if err != nil {
		a.Log.Debug("crm: no screen pop", "conversation", ev.ConversationID, "err", err)
		return
	}
	cd := crm.CallData{"direction": ev.Direction}
	for k, v := range ev.CallData {
		cd[k] = v
	}
	if cd["SearchBy"] == "" && ev.Phone != "" {
		// A call without contact data (plain inbound): look the caller up.
		cd["SearchBy"], cd["SearchData"], cd["phoneNumber"] = "phoneNumber", ev.Phone, ev.Phone
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p := crm.ScreenPop(cctx, conn, cc, ev.ConversationID, cd)
	// The record found joins the call data (the activity log links to it);
	// a pop that found none changes nothing on the call.
	if p.Record != nil {
		attrs := map[string]string{"crmRecordType": p.Record.Type, "crmRecordId": p.Record.ID}
		if err := a.Conversations.SetCallData(ctx, ev.ConversationID, attrs); err != nil {
			a.Log.Warn("crm: recording the popped record failed", "conversation", ev.ConversationID, "err", err)
		}
	}
	r.mu.Lock()
	r.pops[ev.ConversationID] = p
	if len(r.pops) > 10000 {
		for k := range r.pops { // forget old pops; the attributes keep the link
			delete(r.pops, k)
			if len(r.pops) <= 5000 {
				break
			}
		}
	}
	r.mu.Unlock()
	err = a.DB.Tx(ctx, func(tx *store.Tx) error {
		return a.Outbox.Add(ctx, tx, "v2.users."+ev.UserID+".crm.screenpop", p)
	})
	if err != nil {
		a.Log.Warn("crm: screen pop event failed", "conversation", ev.ConversationID, "err", err)
	}
}

// ScreenPopOf returns the last screen pop of a conversation.
func (r *crmRuntime) ScreenPopOf(convID string) (crm.Pop, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pops[convID]
	return p, ok
}

// Linked records what a sync or the agent tied to a conversation.
func (r *crmRuntime) Linked(convID string, rec crm.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.pops[convID]; ok {
		p.Record = &rec
		r.pops[convID] = p
	}
}

// salesforceUsage exposes the API usage of the Salesforce connector in use.
type salesforceUsage struct {
	mu   sync.Mutex
	conn *salesforce.Connector
}

func (u *salesforceUsage) set(c *salesforce.Connector) {
	u.mu.Lock()
	u.conn = c
	u.mu.Unlock()
}

var sfUsageDesc = prometheus.NewDesc("centralita_crm_salesforce_api_usage", "Salesforce API calls used and the org's daily limit, from Sforce-Limit-Info.", []string{"kind"}, nil)

func (u *salesforceUsage) Describe(ch chan<- *prometheus.Desc) { ch <- sfUsageDesc }

func (u *salesforceUsage) Collect(ch chan<- prometheus.Metric) {
	u.mu.Lock()
	c := u.conn
	u.mu.Unlock()
	if c == nil {
		return
	}
	used, limit := c.APIUsage()
	if used < 0 {
		return
	}
	ch <- prometheus.MustNewConstMetric(sfUsageDesc, prometheus.GaugeValue, float64(used), "used")
	ch <- prometheus.MustNewConstMetric(sfUsageDesc, prometheus.GaugeValue, float64(limit), "limit")
}
