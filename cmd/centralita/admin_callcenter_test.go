package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/crm"
)

func TestAdminCallcenterXML(t *testing.T) {
	t.Setenv("CENTRALITA_MASTER_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	data := t.TempDir()
	ctx := context.Background()
	cfg := config.Default(config.ModeAdmin)
	cfg.Data = data
	cfg.MasterKey = os.Getenv("CENTRALITA_MASTER_KEY")
	core, err := app.OpenCore(ctx, cfg, clock.Real{}, app.NewLogger(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile("../../internal/crm/testdata/seed002.xml")
	if err != nil {
		t.Fatal(err)
	}
	svc := crm.New(core.DB, core.Outbox, core.Box, clock.Real{})
	cc, err := svc.CreateFromXML(ctx, seed)
	if err != nil {
		t.Fatal(err)
	}
	core.DB.Close()

	run := func(args ...string) (string, error) {
		c := adminCmd()
		var out bytes.Buffer
		c.SetOut(&out)
		c.SetErr(&out)
		c.SetArgs(append([]string{"callcenter-xml", "--data", data}, args...))
		err := c.ExecuteContext(ctx)
		return out.String(), err
	}
	for _, args := range [][]string{{"--name", "neotel cti", "--base-url", "https://cc.example.com"}, {"--id", cc.ID, "--base-url", "https://cc.example.com/"}} {
		out, err := run(args...)
		if err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
		for _, w := range []string{`<callCenter>`, `name="reqInternalName" label="InternalName">NeotelCTI</item>`,
			`>https://cc.example.com/softphone/</item>`, `name="automaticContactRelease"`} {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %s:\n%s", args, w, out)
			}
		}
		if _, err := crm.ParseXML([]byte(out)); err != nil {
			t.Errorf("output does not parse: %v", err)
		}
	}
	if out, err := run(); err == nil || !strings.Contains(err.Error(), "--name or --id") {
		t.Errorf("no flags: %v %s", err, out)
	}
	if out, err := run("--name", "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown name: %v %s", err, out)
	}
}
