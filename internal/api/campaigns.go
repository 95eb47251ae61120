package api

import "github.com/danielgtaylor/huma/v2"

// registerCampaigns registers campaigns, campaign agent logins and callbacks
// under /api/v2/outbound.
func (s *Server) registerCampaigns(api huma.API) {}
