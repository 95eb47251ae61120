package api

import "github.com/danielgtaylor/huma/v2"

// registerCRMPreview registers the screen-pop plan preview.
func (s *Server) registerCRMPreview(api huma.API) {}
