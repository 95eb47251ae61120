package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/centralita/centralita/internal/app"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/crm"
)

// callcenterXMLCmd prints a call center's Salesforce call-center definition
// (the XML an administrator imports in Salesforce Setup → Call Centers).
func callcenterXMLCmd() *cobra.Command {
	c := &cobra.Command{Use: "callcenter-xml", Short: "Print a call center's Salesforce call-center definition (XML)", Args: cobra.NoArgs}
	config.AddFlags(c.Flags(), config.Default(config.ModeAdmin))
	name := c.Flags().String("name", "", "the call center's name")
	id := c.Flags().String("id", "", "the call center's id")
	// --base-url (the base_url setting, from config.AddFlags) gives reqAdapterUrl = <base-url>/softphone/.
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		if (*name == "") == (*id == "") {
			return errors.New("give --name or --id (one of them)")
		}
		cfg, err := load(cmd, config.ModeAdmin)
		if err != nil {
			return err
		}
		core, err := app.OpenCore(cmd.Context(), cfg, clock.Real{}, app.NewLogger(cfg), nil)
		if err != nil {
			return err
		}
		defer core.DB.Close()
		svc := crm.New(core.DB, core.Outbox, core.Box, clock.Real{})
		var cc crm.CallCenter
		if *id != "" {
			cc, err = svc.GetCallCenter(cmd.Context(), *id)
		} else {
			cc, err = svc.CallCenterByName(cmd.Context(), *name)
		}
		if err != nil {
			return err
		}
		out, err := svc.ExportXML(cc, cfg.PublicURL())
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(out)
		return err
	}
	return c
}
