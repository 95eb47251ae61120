package api

import "github.com/danielgtaylor/huma/v2"

// registerContacts registers schemas, contact lists, contacts, imports,
// exports, find-or-create and do-not-call lists under /api/v2/outbound.
func (s *Server) registerContacts(api huma.API) {}
