package dialer

import (
	"context"
	"time"

	"github.com/centralita/centralita/internal/dialer/pacing"
)

// AbandonDay is one day of a campaign's abandonment record.
type AbandonDay struct {
	Date           string  `json:"date" doc:"YYYY-MM-DD in the campaign's calling-hours time zone"`
	LiveAnswers    int     `json:"liveAnswers"`
	Abandoned      int     `json:"abandoned" doc:"Live answers that got no agent within 2 s"`
	AbandonPercent float64 `json:"abandonPercent"`
	OverCap        bool    `json:"overCap"`
}

// AbandonRecord is a campaign's abandonment over the rolling 30 days
// ending today, per day and in all: what the FTC (30 days) and Ofcom (per
// day) measure, and what predictive pacing keeps under the cap.
type AbandonRecord struct {
	CampaignID     string       `json:"campaignId"`
	TimeZone       string       `json:"timeZone" doc:"Where a day starts and ends"`
	CapPercent     float64      `json:"capPercent"`
	Days           []AbandonDay `json:"days" doc:"Days with live answers, oldest first"`
	LiveAnswers    int          `json:"liveAnswers" doc:"The 30 days"`
	Abandoned      int          `json:"abandoned"`
	AbandonPercent float64      `json:"abandonPercent"`
	OverCap        bool         `json:"overCap"`
	Live           bool         `json:"live" doc:"True: the running dialer's own count, which includes calls not yet released; false: the attempt history"`
}

// AbandonRecord reads a campaign's abandonment record. While the campaign
// dials, it is the pacer's own count (the one it holds under the cap);
// otherwise it is read from the attempt history, which has each call once
// its contact is released.
func (e *Engine) AbandonRecord(ctx context.Context, campaignID string) (AbandonRecord, error) {
	c, err := e.o.Campaigns.Get(ctx, campaignID)
	if err != nil {
		return AbandonRecord{}, err
	}
	loc, err := time.LoadLocation(c.CallingHours.TimeZone) // "" is UTC
	if err != nil {
		loc = time.UTC
	}
	capPct := c.AbandonCapPercent
	if capPct <= 0 {
		capPct = 100 * pacing.DefaultAbandonCap
	}
	out := AbandonRecord{CampaignID: campaignID, TimeZone: loc.String(), CapPercent: capPct, Days: []AbandonDay{}}
	var days []pacing.Day
	err = e.do(ctx, func() error {
		if r := e.runs[campaignID]; r != nil {
			days, out.Live = r.pacer.Days(), true
		}
		return nil
	})
	if err != nil {
		return AbandonRecord{}, err
	}
	now := e.now()
	if !out.Live {
		as, err := e.o.Contacts.AnsweredSince(ctx, campaignID, now.AddDate(0, 0, -31))
		if err != nil {
			return AbandonRecord{}, err
		}
		days = byDay(as, loc)
	}
	today := now.In(loc)
	first := time.Date(today.Year(), today.Month(), today.Day()-29, 0, 0, 0, 0, loc).Format("2006-01-02")
	last := today.Format("2006-01-02")
	over := func(live, abandoned int) bool { return float64(abandoned) > capPct/100*float64(live) }
	pct := func(live, abandoned int) float64 {
		if live == 0 {
			return 0
		}
		return 100 * float64(abandoned) / float64(live)
	}
	for _, d := range days {
		if d.Date < first || d.Date > last || d.Live == 0 && d.Abandoned == 0 {
			continue
		}
		out.Days = append(out.Days, AbandonDay{Date: d.Date, LiveAnswers: d.Live, Abandoned: d.Abandoned,
			AbandonPercent: pct(d.Live, d.Abandoned), OverCap: over(d.Live, d.Abandoned)})
		out.LiveAnswers += d.Live
		out.Abandoned += d.Abandoned
	}
	out.AbandonPercent = pct(out.LiveAnswers, out.Abandoned)
	out.OverCap = over(out.LiveAnswers, out.Abandoned)
	return out, nil
}
