package sip

// SIP over TLS (RFC 3261 section 26): with Options.TLSListen the switch
// also accepts TLS connections, on the same sipgo server as UDP (one
// transaction layer, the same handlers). A dialog keeps the transport it
// was set up on: sipgo copies the INVITE's transport to every request of
// the dialog, and the dialog's UA (tlsSide.dua) gives our Contact at the
// TLS address with ;transport=tls.
//
// Requests of a TLS dialog go back on the connection it was set up on (the
// DialogUA's RewriteContact: to the source of the INVITE or of its
// response; sipgo's TLS transport finds the open connection by that
// address): a phone's Contact is seldom reachable (behind NAT, or a port
// nobody listens on), and it is the connection it registered on that we
// call it through. If that connection is gone, sipgo dials the address
// again: a carrier's port takes it, a phone's ephemeral one does not, and
// the request fails. The media is encrypted only with SRTP (srtp.go),
// whose keys this protects.

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

// DefaultTLSPort is where a TLS trunk's Address without a port is reached.
const DefaultTLSPort = 5061

// Transports of a trunk (Trunk.Transport).
const (
	TransportUDP = "udp"
	TransportTLS = "tls"
)

// tlsSide is the switch's SIP over TLS: its listener and what sends over
// it. Set once by NewSwitch; nil when TLS is off.
type tlsSide struct {
	ln     net.Listener
	port   int
	client *sipgo.Client   // Via: SIP/2.0/TLS ip:port; no fixed local address (connections are per peer)
	dua    *sipgo.DialogUA // dialogs over TLS: our TLS Contact, requests on the dialog's connection
	served chan struct{}   // closed when sipgo stops serving ln
}

// errNoTLS is why a TLS trunk, or a sip: URI with transport=tls, cannot be
// reached by a switch without TLS.
var errNoTLS = fmt.Errorf("%w: SIP over TLS is off (set sip_tls_listen)", telephony.ErrNotSupported)

// listenTLS opens the TLS listener (served by NewSwitch) and the client
// and dialog UA that send over TLS.
func (s *Switch) listenTLS(addr string, conf *tls.Config) (*tlsSide, error) {
	if conf == nil || (len(conf.Certificates) == 0 && conf.GetCertificate == nil) {
		return nil, errors.New("sip: TLSListen needs TLS with a certificate")
	}
	ln, err := tls.Listen("tcp", addr, conf)
	if err != nil {
		return nil, fmt.Errorf("sip: listen TLS %s: %w", addr, err)
	}
	la := ln.Addr().(*net.TCPAddr)
	if la.IP.IsUnspecified() {
		ln.Close()
		return nil, errors.New("sip: TLSListen needs a concrete IP (it is advertised in Contact)")
	}
	// Not WithClientConnectionAddr: each TLS peer has its own connection
	// (sipgo keys accepted connections by the listener's address too, so a
	// fixed local address would pick whichever connected last).
	client, err := sipgo.NewClient(s.ua, sipgo.WithClientHostname(s.ip), sipgo.WithClientPort(la.Port))
	if err != nil {
		ln.Close()
		return nil, err
	}
	t := &tlsSide{ln: ln, port: la.Port, client: client, served: make(chan struct{})}
	t.dua = &sipgo.DialogUA{Client: client, RewriteContact: true, ContactHDR: sip.ContactHeader{
		Address: s.contactURI("centralita", TransportTLS, t.port),
	}}
	return t, nil
}

// closeTLS stops accepting TLS connections; the open ones are closed with
// the user agent.
func (s *Switch) closeTLS() {
	if s.tls == nil {
		return
	}
	s.tls.ln.Close()
	<-s.tls.served
}

// TLSAddr is the address SIP over TLS listens on, nil when TLS is off.
func (s *Switch) TLSAddr() *net.TCPAddr {
	if s.tls == nil {
		return nil
	}
	return s.tls.ln.Addr().(*net.TCPAddr)
}

// isTLS reports whether a transport name (sipgo's "TLS", a URI's "tls")
// is TLS.
func isTLS(transport string) bool { return strings.EqualFold(transport, TransportTLS) }

// duaFor is the dialog UA for a dialog over transport: a request that came
// over TLS is answered with our TLS Contact, and the dialog's requests go
// over TLS.
func (s *Switch) duaFor(transport string) *sipgo.DialogUA {
	if s.tls != nil && isTLS(transport) {
		return s.tls.dua
	}
	return s.dua
}

// contactFor is our Contact for responses to req (re-INVITEs).
func (s *Switch) contactFor(req *sip.Request) sip.Header {
	return sip.HeaderClone(&s.duaFor(req.Transport()).ContactHDR)
}

// contactURI is sip:USER@ our address for transport: the UDP one, or the
// TLS one (port) with ;transport=tls.
func (s *Switch) contactURI(user, transport string, tlsPort int) sip.Uri {
	if !isTLS(transport) {
		return sip.Uri{Scheme: "sip", User: user, Host: s.ip, Port: s.port}
	}
	params := sip.NewParams()
	params.Add("transport", TransportTLS)
	return sip.Uri{Scheme: "sip", User: user, Host: s.ip, Port: tlsPort, UriParams: params}
}

// tlsHint says in words what a failed TLS handshake means for the
// administrator reading the error (a registration's state, a failed
// call); other errors are returned as they are.
func tlsHint(err error) error {
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return fmt.Errorf("the peer's TLS certificate does not verify (check the trunk's address: the certificate must name that host and chain to a trusted root): %w", err)
	}
	return err
}
