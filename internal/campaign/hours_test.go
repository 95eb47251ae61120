package campaign_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/campaign"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

// hoursCampaign calls Monday to Friday 09:00–21:00, Saturday 10:00–14:00 and
// Sunday 02:30–03:30 (inside the DST changes of both zones).
func hoursCampaign(zone string) campaign.Campaign {
	c := campaign.Defaults()
	c.CallingHours = campaign.CallingHours{TimeZone: zone, Windows: []campaign.Window{
		{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "21:00"},
		{Days: []string{"sat"}, Start: "10:00", End: "14:00"},
		{Days: []string{"sun"}, Start: "02:30", End: "03:30"},
	}}
	return c
}

func TestCallingHours(t *testing.T) {
	t.Parallel()
	madrid := hoursCampaign("Europe/Madrid")
	cases := []struct {
		name    string
		c       campaign.Campaign
		zone    string // the contact's
		at      string // UTC
		allowed bool
		next    string // UTC; "" = at itself when allowed, "never" = zero
	}{
		// Winter in Madrid (CET, UTC+1).
		{"friday morning", madrid, "", "2026-11-20 08:30:00", true, ""},
		{"friday at start", madrid, "", "2026-11-20 08:00:00", true, ""},
		{"friday just before start", madrid, "", "2026-11-20 07:59:59", false, "2026-11-20 08:00:00"},
		{"friday at end (exclusive)", madrid, "", "2026-11-20 20:00:00", false, "2026-11-21 09:00:00"},
		{"friday last second", madrid, "", "2026-11-20 19:59:59", true, ""},
		{"friday night → saturday 10:00", madrid, "", "2026-11-20 21:30:00", false, "2026-11-21 09:00:00"},
		{"saturday afternoon → sunday 02:30", madrid, "", "2026-11-21 13:00:00", false, "2026-11-22 01:30:00"},
		{"sunday after the window → monday", madrid, "", "2026-11-22 02:30:00", false, "2026-11-23 08:00:00"},
		{"contact zone unknown: campaign's", madrid, "Mars/Olympus", "2026-11-20 08:30:00", true, ""},
		// Summer in Madrid (CEST, UTC+2).
		{"july morning", madrid, "", "2026-07-15 07:00:00", true, ""},
		{"july before start", madrid, "", "2026-07-15 06:59:00", false, "2026-07-15 07:00:00"},
		// Madrid springs forward on Sunday 29 March 2026, 02:00 CET → 03:00 CEST:
		// the Sunday window 02:30–03:30 is 03:00–03:30 CEST (01:00–01:30 UTC).
		{"before spring forward → saturday", madrid, "", "2026-03-27 20:30:00", false, "2026-03-28 09:00:00"},
		{"saturday → the half window after the gap", madrid, "", "2026-03-28 13:00:00", false, "2026-03-29 01:00:00"},
		{"in the half window", madrid, "", "2026-03-29 01:15:00", true, ""},
		{"after it → monday 09:00 CEST", madrid, "", "2026-03-29 01:30:00", false, "2026-03-30 07:00:00"},
		// Madrid falls back on Sunday 25 October 2026, 03:00 CEST → 02:00 CET:
		// 02:30–03:00 CEST (00:30–01:00 UTC) is in, then the clock shows 02:00
		// again: out until 02:30 CET (01:30 UTC), in until 03:30 CET (02:30 UTC).
		{"fall back: first pass in", madrid, "", "2026-10-25 00:45:00", true, ""},
		{"fall back: repeated hour before 02:30", madrid, "", "2026-10-25 01:10:00", false, "2026-10-25 01:30:00"},
		{"fall back: second pass in", madrid, "", "2026-10-25 02:00:00", true, ""},
		{"fall back: after → monday 09:00 CET", madrid, "", "2026-10-25 02:30:00", false, "2026-10-26 08:00:00"},
		{"saturday before fall back → first pass", madrid, "", "2026-10-24 12:00:00", false, "2026-10-25 00:30:00"},
		// A contact in New York, campaign in Madrid: the contact's clock rules.
		{"new york 09:00 EST", madrid, "America/New_York", "2026-11-20 14:00:00", true, ""},
		{"new york 08:59 EST (14:59 in Madrid)", madrid, "America/New_York", "2026-11-20 13:59:00", false, "2026-11-20 14:00:00"},
		{"madrid contact at that instant", madrid, "Europe/Madrid", "2026-11-20 13:59:00", true, ""},
		{"new york 21:30 EST → saturday 10:00 EST", madrid, "America/New_York", "2026-11-21 02:30:00", false, "2026-11-21 15:00:00"},
		// New York springs forward on Sunday 8 March 2026, 02:00 EST → 03:00 EDT (07:00 UTC).
		{"new york saturday → after the gap", madrid, "America/New_York", "2026-03-07 19:00:00", false, "2026-03-08 07:00:00"},
		{"new york 03:29 EDT", madrid, "America/New_York", "2026-03-08 07:29:00", true, ""},
		{"new york 03:30 EDT → monday 09:00 EDT", madrid, "America/New_York", "2026-03-08 07:30:00", false, "2026-03-09 13:00:00"},
		// New York falls back on Sunday 1 November 2026, 02:00 EDT → 01:00 EST
		// (06:00 UTC): 02:30 happens once, in EST (07:30 UTC).
		{"new york before fall back", madrid, "America/New_York", "2026-10-31 19:00:00", false, "2026-11-01 07:30:00"},
		{"new york 02:45 EST", madrid, "America/New_York", "2026-11-01 07:45:00", true, ""},
		{"new york repeated 01:30", madrid, "America/New_York", "2026-11-01 06:30:00", false, "2026-11-01 07:30:00"},
		// No zone anywhere: UTC.
		{"utc", hoursCampaign(""), "", "2026-11-20 09:00:00", true, ""},
		{"utc before", hoursCampaign(""), "", "2026-11-20 08:59:00", false, "2026-11-20 09:00:00"},
		// No windows: any time. Windows that allow nothing: never.
		{"no windows", campaign.Defaults(), "Europe/Madrid", "2026-11-22 03:00:00", true, ""},
		{"no days", func() campaign.Campaign {
			c := campaign.Defaults()
			c.CallingHours.Windows = []campaign.Window{{Start: "09:00", End: "10:00"}}
			return c
		}(), "", "2026-11-22 03:00:00", false, "never"},
		{"crossing midnight (invalid, never allows)", func() campaign.Campaign {
			c := campaign.Defaults()
			c.CallingHours.Windows = []campaign.Window{{Days: campaign.Days, Start: "22:00", End: "02:00"}}
			return c
		}(), "", "2026-11-22 23:00:00", false, "never"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at := utc(tc.at)
			if got := tc.c.Allows(at, tc.zone); got != tc.allowed {
				t.Errorf("Allows(%s) = %v, want %v", tc.at, got, tc.allowed)
			}
			want := at
			switch tc.next {
			case "":
			case "never":
				want = time.Time{}
			default:
				want = utc(tc.next)
			}
			if got := tc.c.NextAllowed(at, tc.zone); !got.Equal(want) {
				t.Errorf("NextAllowed(%s) = %v, want %v", tc.at, got.UTC(), want)
			}
		})
	}
}

// NextAllowed agrees with Allows minute by minute around the year, in both
// zones: the instant it returns is allowed, none before it is.
func TestNextAllowedAgreesWithAllows(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 2))
	start := utc("2026-01-01 00:00:00")
	for _, zone := range []string{"Europe/Madrid", "America/New_York", "Australia/Lord_Howe", ""} {
		c := hoursCampaign("Europe/Madrid")
		for range 150 {
			at := start.Add(time.Duration(rnd.IntN(365*24*60)) * time.Minute)
			if rnd.IntN(2) == 0 {
				at = at.Add(time.Duration(rnd.IntN(60)) * time.Second)
			}
			next := c.NextAllowed(at, zone)
			if next.IsZero() || next.Before(at) || next.Sub(at) > 7*24*time.Hour {
				t.Fatalf("%s %v: next %v", zone, at, next)
			}
			if !c.Allows(next, zone) {
				t.Fatalf("%s %v: next %v is not allowed", zone, at, next)
			}
			if next.Equal(at) {
				continue
			}
			if next.Second() != 0 || next.Nanosecond() != 0 {
				t.Fatalf("%s %v: next %v is not on a minute", zone, at, next)
			}
			if c.Allows(next.Add(-time.Second), zone) {
				t.Fatalf("%s %v: a second before next %v is allowed", zone, at, next)
			}
			for m := at.Truncate(time.Minute).Add(time.Minute); m.Before(next); m = m.Add(time.Minute) {
				if c.Allows(m, zone) {
					t.Fatalf("%s %v: %v is allowed, before next %v", zone, at, m, next)
				}
			}
		}
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	c := campaign.Defaults()
	c.RetryRules = []campaign.RetryRule{{Outcome: "busy", Retry: true, DelaySeconds: 900}, {Outcome: "machine", Retry: false, DelaySeconds: 60},
		{Outcome: "failed", Retry: true}}
	for _, tc := range []struct {
		outcome string
		retry   bool
		after   time.Duration
	}{
		{"busy", true, 15 * time.Minute},
		{"machine", false, 0},
		{"failed", true, 0},
		{"no-answer", false, 0}, // no rule: not retried
		{"connected", false, 0},
	} {
		if r, d := c.Retry(tc.outcome); r != tc.retry || d != tc.after {
			t.Errorf("Retry(%s) = %v %v, want %v %v", tc.outcome, r, d, tc.retry, tc.after)
		}
	}
}
