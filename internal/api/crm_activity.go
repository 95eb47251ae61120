package api

import "github.com/danielgtaylor/huma/v2"

// registerCRMActivity registers the activity log's status per conversation.
func (s *Server) registerCRMActivity(api huma.API) {}
