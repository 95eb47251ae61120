package app

import (
	"context"

	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/directory"
)

// The outbound pieces (contacts, campaigns, the dialer) meet here: the
// facts each needs of the others, and the inbound contact matching.

type campaignQueues struct{ dir *directory.Service }

func (q campaignQueues) QueueExists(ctx context.Context, id string) error {
	_, err := q.dir.GetQueue(ctx, id)
	return err
}

type campaignUsers struct{ dir *directory.Service }

func (u campaignUsers) UserExists(ctx context.Context, id string) error {
	_, err := u.dir.GetUser(ctx, id)
	return err
}

// wireOutbound connects contacts and campaigns (validation in both
// directions) and puts back contacts a stopped dialer left claimed.
func (a *App) wireOutbound(ctx context.Context) error {
	a.Campaigns.SetDeps(a.Contacts, campaignQueues{a.Directory}, campaignUsers{a.Directory})
	a.Contacts.SetListGuard(a.Campaigns.ListInUse)
	n, err := a.Contacts.ReleaseClaims(ctx, a.Clock.Now())
	if err != nil {
		return err
	}
	if n > 0 {
		a.Log.Info("dialer: contacts of calls cut by the restart are due again", "contacts", n)
	}
	return nil
}

// matchInbound is the inbound campaigns' contact matching (SPEC 2.6): a
// call to a queue an inbound campaign serves finds its contact by the
// caller's number (or inserts one into the campaign's list) and carries
// the call data, CLAVESF included, to the agent.
func (a *App) matchInbound(ctx context.Context, queueID, ani string) (string, map[string]string, bool) {
	cs, _, err := a.Campaigns.List(ctx, campaign.Filter{Direction: campaign.Inbound}, campaign.Page{Limit: 1000})
	if err != nil {
		a.Log.Warn("inbound matching: campaigns unreadable", "err", err)
		return "", nil, false
	}
	for _, c := range cs {
		if c.QueueID != queueID || c.InboundListID == "" {
			continue
		}
		sc, err := a.Contacts.ListSchema(ctx, c.InboundListID)
		if err != nil {
			return "", nil, false
		}
		schema, err := a.Contacts.GetSchema(ctx, sc)
		if err != nil {
			return "", nil, false
		}
		data := ""
		if schema.MatchBy == "phone" {
			data = ani
		}
		ct, _, clavesf, err := a.Contacts.FindOrCreate(ctx, c.InboundListID, data, ani)
		if err != nil {
			a.Log.Warn("inbound matching failed", "campaign", c.Name, "err", err)
			return "", nil, false
		}
		searchBy, searchData := schema.KeyField().Name, ct.Key
		if schema.MatchBy == "phone" {
			if pf := schema.PhoneFields(); len(pf) > 0 {
				searchBy = pf[0].Name
			}
			searchData = ani
		}
		return c.ID, map[string]string{
			"callCampaing": c.ID, "callDialer": "inbound", "callId": "", "callQueue": queueID, "callReason": "Entrante",
			"phoneNumber": ani, "contactBaseId": ct.ListID, "campaignCrmId": sc, "campaignBaseId": c.InboundListID,
			"userOutCampaign": "", "crmId": sc, "contactId": ct.ID, "crmKey": ct.Key,
			"SearchBy": searchBy, "SearchData": searchData, "CLAVESF": clavesf,
		}, true
	}
	return "", nil, false
}
