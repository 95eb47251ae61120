package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// The demo's outbound side: a schema ("CRM") with a Clave_1 key and a
// disposition tree, a list of a few hundred contacts, a do-not-call list,
// a predictive and a preview campaign demo agents can log into, and
// simulated customers who answer the dialer's calls.

// DemoContacts is how many contacts the demo list holds.
const DemoContacts = 300

const outboundSeededKey = "demo.outbound.seeded"

// The demo list's numbers: landlines +34919000NNN and mobiles +34699000NNN.
const (
	demoPhonePrefix  = "+34919000"
	demoMobilePrefix = "+34699000"
)

// Customers is how the demo's simulated customers behave when a campaign
// calls them, decided by the number: about a third answer in person after
// 5–20 s and talk for 1–3 minutes; the others are busy, do not answer or
// reject the call. Numbers outside the demo list (a transfer to a number
// someone types) answer like sim.DefaultParty.
func Customers(number string) sim.Party {
	if !strings.HasPrefix(number, demoPhonePrefix) && !strings.HasPrefix(number, demoMobilePrefix) {
		return sim.DefaultParty
	}
	h := fnv.New64a()
	h.Write([]byte(number))
	v := h.Sum64()
	u := float64(v%1000) / 1000
	after := time.Duration(5+(v>>10)%16) * time.Second
	switch {
	case u < 0.35:
		return sim.Party{Outcome: sim.Answer, After: after, TalkTime: time.Duration(60+(v>>20)%121) * time.Second}
	case u < 0.55:
		return sim.Party{Outcome: sim.NoAnswer}
	case u < 0.85:
		return sim.Party{Outcome: sim.Busy, After: time.Duration(3+(v>>10)%6) * time.Second}
	default:
		return sim.Party{Outcome: sim.Reject, After: after}
	}
}

// SeedOutbound creates the demo's outbound data once (see Seed).
func SeedOutbound(ctx context.Context, db *store.DB, dir *directory.Service, contacts *contact.Service, campaigns *campaign.Service) error {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, outboundSeededKey).Scan(&v)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err := seedOutbound(ctx, dir, contacts, campaigns); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO settings (key, value, modified_at) VALUES ($1, '1', $2) ON CONFLICT (key) DO NOTHING`,
		outboundSeededKey, store.Millis(time.Now()))
	return err
}

var firstNames = []string{"Ana", "Luis", "Marta", "Jorge", "Lucía", "Pablo", "Elena", "Diego", "Sofía", "Javier", "Carmen", "Raúl"}
var lastNames = []string{"García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz", "Moreno"}

func seedOutbound(ctx context.Context, dir *directory.Service, contacts *contact.Service, campaigns *campaign.Service) error {
	sc, err := contacts.CreateSchema(ctx, contact.SchemaInput{
		Name: "Clientes Salesforce",
		Fields: []contact.Field{
			{Name: "sfId", Label: "Id Salesforce", Type: contact.TypeKey},
			{Name: "firstName", Label: "Nombre", Type: contact.TypeText},
			{Name: "lastName", Label: "Apellido", Type: contact.TypeText},
			{Name: "phone", Label: "Teléfono", Type: contact.TypePhone},
			{Name: "mobile", Label: "Móvil", Type: contact.TypePhone},
			{Name: "balance", Label: "Saldo", Type: contact.TypeNumber},
		},
		MatchBy: contact.MatchByKey,
		Dispositions: []contact.Disposition{
			{Name: "Venta", Subcategories: []contact.Subcategory{{Name: "Cerrada", Outcome: contact.OutcomeFinal}, {Name: "Volver a llamar", Outcome: contact.OutcomeCallback}}},
			{Name: "No interesado", Subcategories: []contact.Subcategory{{Name: "Precio", Outcome: contact.OutcomeFinal}, {Name: "No llamar más", Outcome: contact.OutcomeDNC}}},
			{Name: "No contactado", Subcategories: []contact.Subcategory{{Name: "Contestador", Outcome: contact.OutcomeRetry}, {Name: "Número equivocado", Outcome: contact.OutcomeFinal}}},
		},
	})
	if err != nil {
		return fmt.Errorf("demo schema: %w", err)
	}
	list, err := contacts.CreateList(ctx, contact.ListInput{Name: "Base Demo", SchemaID: sc.ID, DefaultCountry: "ES"})
	if err != nil {
		return fmt.Errorf("demo list: %w", err)
	}
	var b strings.Builder
	b.WriteString("sfId,firstName,lastName,phone,mobile,balance\n")
	for i := 0; i < DemoContacts; i++ {
		fmt.Fprintf(&b, "003DEMO%08d,%s,%s,%s%03d,%s%03d,%d.%02d\n", i+1, firstNames[i%len(firstNames)], lastNames[(i/3)%len(lastNames)],
			demoPhonePrefix, i, demoMobilePrefix, i, (i*37)%900, i%100)
	}
	if _, err := contacts.Import(ctx, list.ID, strings.NewReader(b.String()), false); err != nil {
		return fmt.Errorf("demo contacts: %w", err)
	}
	dnc, err := contacts.CreateDNCList(ctx, "No llamar (demo)")
	if err != nil {
		return fmt.Errorf("demo do-not-call list: %w", err)
	}
	if _, err := contacts.AddDNCNumbers(ctx, dnc.ID, []string{demoPhonePrefix + "007", demoPhonePrefix + "014"}, "ES"); err != nil {
		return fmt.Errorf("demo do-not-call numbers: %w", err)
	}
	qs, _, err := dir.ListQueues(ctx, directory.QueueFilter{}, directory.Page{Limit: 100})
	if err != nil {
		return err
	}
	queue := ""
	for _, q := range qs {
		if q.Name == "Ventas" {
			queue = q.ID
		}
	}
	hours := campaign.CallingHours{TimeZone: "Europe/Madrid"}
	retry := []campaign.RetryRule{
		{Outcome: "busy", Retry: true, DelaySeconds: 600},
		{Outcome: "no-answer", Retry: true, DelaySeconds: 1800},
		{Outcome: "abandoned", Retry: true, DelaySeconds: 4 * 3600},
		{Outcome: "agent-disconnected", Retry: true, DelaySeconds: 3600},
	}
	for _, c := range []campaign.Campaign{
		{Name: "SALESFORCE", Number: 97, DialingMode: "predictive"},
		{Name: "Preview Cobranzas", Number: 98, DialingMode: "preview"},
	} {
		d := campaign.Defaults()
		d.Name, d.Number, d.DialingMode = c.Name, c.Number, c.DialingMode
		d.ContactListIDs, d.QueueID, d.DNCListIDs = []string{list.ID}, queue, []string{dnc.ID}
		d.CallingHours, d.RetryRules, d.CallerID, d.State = hours, retry, "+34910000000", campaign.On
		d.TransferNumbers = []campaign.TransferNumber{{Name: "Supervisión", Number: "+34911999999"}}
		if _, err := campaigns.Create(ctx, d); err != nil {
			return fmt.Errorf("demo campaign %s: %w", c.Name, err)
		}
	}
	return nil
}
