package api

import "github.com/danielgtaylor/huma/v2"

// registerCRM registers call centers (options, credentials) and their Salesforce XML.
func (s *Server) registerCRM(api huma.API) {}
