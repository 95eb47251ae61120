package dialer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/centralita/centralita/internal/dialer/pacing"
	"github.com/centralita/centralita/internal/store"
)

// The pacer's estimates (hit rate, answer delays, handle time) are kept
// per campaign: a restart or the next shift starts from what the campaign
// learnt instead of a cold start, as the simulation's warm runs assume.

// ModelSaveEvery is how often a running campaign's estimates are saved.
const ModelSaveEvery = 5 * time.Minute

func (e *Engine) loadModel(id string, p *pacing.Pacer) {
	if e.o.DB == nil {
		return
	}
	var raw string
	err := e.o.DB.QueryRowContext(e.ctx, `SELECT model FROM dialer_models WHERE campaign_id = $1`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return
	}
	var m pacing.Model
	if err == nil {
		err = json.Unmarshal([]byte(raw), &m)
	}
	if err != nil {
		e.log.Warn("dialer: the campaign's saved estimates are unreadable; starting afresh", "campaign", id, "err", err)
		return
	}
	p.SetModel(m)
}

func (e *Engine) saveModel(ctx context.Context, id string, p *pacing.Pacer) {
	if e.o.DB == nil {
		return
	}
	b, err := json.Marshal(p.Model())
	if err == nil {
		_, err = e.o.DB.ExecContext(ctx, `INSERT INTO dialer_models (campaign_id, model, modified_at) VALUES ($1, $2, $3)
			ON CONFLICT (campaign_id) DO UPDATE SET model = $2, modified_at = $3`, id, string(b), store.Millis(e.now()))
	}
	if err != nil {
		e.log.Warn("dialer: saving the campaign's estimates failed", "campaign", id, "err", err)
	}
}

// armModelSave saves a running campaign's estimates every ModelSaveEvery.
func (e *Engine) armModelSave(id string) {
	e.after("model:"+id, ModelSaveEvery, func() {
		if r := e.runs[id]; r != nil {
			e.saveModel(e.ctx, id, r.pacer)
			e.armModelSave(id)
		}
	})
}

// SaveModels saves every running campaign's estimates (on shutdown).
func (e *Engine) SaveModels(ctx context.Context) error {
	return e.do(ctx, func() error {
		for id, r := range e.runs {
			e.saveModel(ctx, id, r.pacer)
		}
		return nil
	})
}
