// Package demo seeds the demo data set: people, devices, an integration
// client, skills, queues, disposition codes and break states. Seeding is
// idempotent: what exists is left as it is, so restarts keep any changes
// made through the UI.
package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Credentials printed when the demo starts.
const (
	ClientID     = "demo-client"
	ClientSecret = "demo-secret"
)

// StationPassword is the password of the demo stations 1001..1005 (SIP)
// and 1101..1105 (browser phones).
const StationPassword = "device"

// Login is one demo login.
type Login struct{ Role, Username, Password string }

// Logins lists the people of the demo.
var Logins = []Login{
	{"admin", "admin", "admin"},
	{"supervisor", "supervisor", "supervisor"},
	{"agent", "agent1", "agent"}, {"agent", "agent2", "agent"}, {"agent", "agent3", "agent"},
	{"agent", "agent4", "agent"}, {"agent", "agent5", "agent"},
}

var names = map[string]string{
	"admin": "Ana Administradora", "supervisor": "Sergio Supervisor",
	"agent1": "Lucía Martín", "agent2": "Carlos Gómez", "agent3": "María López", "agent4": "Javier Ruiz", "agent5": "Elena Torres",
}

// WrapupCodes is the demo disposition tree: category → subcategories.
var WrapupCodes = []struct{ Category, Subcategory string }{
	{"Venta", "Cerrada"}, {"Venta", "Interesado"},
	{"No venta", "Precio"}, {"No venta", "No interesado"},
	{"Contacto", "Volver a llamar"}, {"Contacto", "Número equivocado"}, {"Contacto", "Buzón de voz"},
	{"Soporte", "Resuelto"}, {"Soporte", "Escalado"},
}

// Breaks are the custom break states.
var Breaks = []directory.BreakInput{
	{Number: 1, Label: "Descanso", LabelEN: "Break"},
	{Number: 2, Label: "Almuerzo", LabelEN: "Lunch"},
	{Number: 3, Label: "Capacitación", LabelEN: "Training"},
}

const seededKey = "demo.seeded"

// Seed creates the demo data set once. Each item is created only if missing,
// so a seed cut short completes on the next start; once it has completed, a
// marker keeps later starts from re-creating what an admin renamed or deleted.
func Seed(ctx context.Context, db *store.DB, dir *directory.Service, au *auth.Service) error {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, seededKey).Scan(&v)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err := seed(ctx, dir, au); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO settings (key, value, modified_at) VALUES ($1, '1', $2) ON CONFLICT (key) DO NOTHING`,
		seededKey, store.Millis(time.Now()))
	return err
}

func seed(ctx context.Context, dir *directory.Service, au *auth.Service) error {
	users := map[string]string{}
	for _, l := range Logins {
		u, err := dir.GetUserByUsername(ctx, l.Username)
		if err != nil {
			u, err = dir.CreateUser(ctx, directory.UserInput{Username: l.Username, Name: names[l.Username],
				Email: l.Username + "@demo.centralita.local", Roles: []string{l.Role}, Password: l.Password})
			if err != nil {
				return fmt.Errorf("demo user %s: %w", l.Username, err)
			}
		}
		users[l.Username] = u.ID
	}
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("100%d", i)
		if _, err := dir.GetStationByName(ctx, name); err == nil {
			continue
		}
		if _, err := dir.CreateStation(ctx, directory.StationInput{Name: name, Type: directory.StationSIP, Password: StationPassword}); err != nil {
			return fmt.Errorf("demo station %s: %w", name, err)
		}
	}
	// Browser phones 1101..1105: with the SIP switch the softphone page
	// itself carries the call audio (WebRTC); on the simulated switch they
	// behave like any other station.
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("110%d", i)
		if _, err := dir.GetStationByName(ctx, name); err == nil {
			continue
		}
		if _, err := dir.CreateStation(ctx, directory.StationInput{Name: name, Type: directory.StationWebRTC, Password: StationPassword}); err != nil {
			return fmt.Errorf("demo station %s: %w", name, err)
		}
	}
	if _, err := au.GetClient(ctx, ClientID); err != nil {
		if _, _, err := au.CreateClient(ctx, auth.ClientInput{ID: ClientID, Name: "Demo integration", Description: "Client-credentials client of the demo (admin role).",
			GrantType: auth.GrantClientCredentials, Roles: []string{"admin"}, Secret: ClientSecret}); err != nil {
			return fmt.Errorf("demo client: %w", err)
		}
	}
	skills := map[string]string{}
	for _, name := range []string{"Ventas", "Soporte técnico", "Facturación", "Inglés"} {
		sk, err := dir.CreateSkill(ctx, name)
		if isDuplicate(err) {
			list, _, lerr := dir.ListSkills(ctx, name, nil, directory.Page{Limit: 1})
			if lerr != nil || len(list) == 0 {
				return fmt.Errorf("demo skill %s: %w", name, err)
			}
			sk, err = list[0], nil
		} else if err == nil {
			// New skill: hand it to the agents who work that line.
			for _, u := range skillHolders[name] {
				if _, err := dir.SetUserSkill(ctx, users[u], sk.ID, 4); err != nil {
					return err
				}
			}
		}
		if err != nil {
			return fmt.Errorf("demo skill %s: %w", name, err)
		}
		skills[name] = sk.ID
	}
	var codeIDs []string
	for _, w := range WrapupCodes {
		c, err := dir.CreateWrapupCode(ctx, directory.WrapupCode{Category: w.Category, Subcategory: w.Subcategory})
		if isDuplicate(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("demo wrap-up code %s/%s: %w", w.Category, w.Subcategory, err)
		}
		codeIDs = append(codeIDs, c.ID)
	}
	for _, q := range []struct {
		name, desc string
		members    []string
		strategy   string
	}{
		{"Ventas", "Ventas y altas nuevas", []string{"agent1", "agent2", "agent3"}, "longest_idle"},
		{"Soporte", "Soporte técnico y facturación", []string{"agent3", "agent4", "agent5"}, "skills_best_match"},
	} {
		d := directory.QueueDefaults()
		d.Name, d.Description, d.RoutingStrategy = q.name, q.desc, q.strategy
		created, err := dir.CreateQueue(ctx, d)
		if isDuplicate(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("demo queue %s: %w", q.name, err)
		}
		var ids []string
		for _, m := range q.members {
			ids = append(ids, users[m])
		}
		if err := dir.AddMembers(ctx, created.ID, ids); err != nil {
			return err
		}
		if len(codeIDs) > 0 {
			if err := dir.AssignWrapupCodes(ctx, created.ID, codeIDs); err != nil {
				return err
			}
		}
	}
	for _, b := range Breaks {
		if _, err := dir.CreateBreak(ctx, b); err != nil && !isDuplicate(err) {
			return fmt.Errorf("demo break %d: %w", b.Number, err)
		}
	}
	return nil
}

var skillHolders = map[string][]string{
	"Ventas":          {"agent1", "agent2", "agent3"},
	"Soporte técnico": {"agent3", "agent4", "agent5"},
	"Facturación":     {"agent4"},
	"Inglés":          {"agent2", "agent5"},
}

func isDuplicate(err error) bool {
	var p *problem.Problem
	return errors.As(err, &p) && p.Kind == problem.Duplicate
}
