// Package siptest drives real SIP peers for tests and for `centralita
// bench sip`: baresip as a scriptable phone (Phone, controlled over its
// ctrl_tcp socket), SIPp as a scripted user agent (SIPp, Run), and tone
// analysis of what a phone recorded (Tones).
//
// Everything runs on 127.0.0.1 with bounded timeouts and is torn down when
// the test ends. The peers are Debian packages (baresip-core, sip-tester)
// that scripts/test installs; RequireBaresip and RequireSIPp skip a test
// without them unless CENTRALITA_REQUIRE_PEERS=1, which turns the skip into
// a failure (CI sets it).
//
// It is test support: imported only by tests and the SIP bench, never by
// the product. It does not import package sip, so package sip's own tests
// can use it.
package siptest
