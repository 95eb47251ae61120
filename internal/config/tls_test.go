package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files in dir.
func writePair(t *testing.T, dir, name string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cert, "CERTIFICATE", der)
	write(key, "PRIVATE KEY", kder)
	return cert, key
}

func TestSIPTLSSettings(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePair(t, dir, "sip")
	_, otherKey := writePair(t, dir, "other")

	c, err := Load(ModeDemo, flags(t, ModeDemo, "--telephony", "sip"), environ())
	if err != nil || c.SIPTLSListen != "" {
		t.Fatalf("TLS is off by default: %+v %v", c, err)
	}
	c, err = Load(ModeDemo, flags(t, ModeDemo, "--telephony", "sip", "--sip-tls-listen", "127.0.0.1:5061",
		"--sip-tls-cert", cert, "--sip-tls-key", key), environ())
	if err != nil || c.SIPTLSListen != "127.0.0.1:5061" {
		t.Fatalf("flags: %+v %v", c, err)
	}
	if tc, err := c.SIPTLSCertificate(); err != nil || len(tc.Certificate) != 1 {
		t.Fatalf("SIPTLSCertificate: %v", err)
	}
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("telephony: sip\nsip_tls_cert: "+cert+"\nsip_tls_key: "+key+"\n"), 0o600)
	c, err = Load(ModeDemo, flags(t, ModeDemo, "--config", file), environ("CENTRALITA_SIP_TLS_LISTEN=127.0.0.1:5071"))
	if err != nil || c.SIPTLSListen != "127.0.0.1:5071" || c.SIPTLSCert != cert {
		t.Fatalf("file + env: %+v %v", c, err)
	}

	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate"), 0o600)
	missing := filepath.Join(dir, "missing.pem")
	sip := []string{"--telephony", "sip", "--sip-tls-listen", "127.0.0.1:5061"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{sip, `setting sip_tls_cert = "" is invalid: is required with sip_tls_listen`},
		{sip, `setting sip_tls_key = "" is invalid: is required with sip_tls_listen`},
		{append(sip, "--sip-tls-cert", missing, "--sip-tls-key", key), `setting sip_tls_cert = "` + missing + `" is invalid: cannot read the file`},
		{append(sip, "--sip-tls-cert", cert, "--sip-tls-key", missing), `setting sip_tls_key = "` + missing + `" is invalid: cannot read the file`},
		{append(sip, "--sip-tls-cert", garbage, "--sip-tls-key", key), `setting sip_tls_cert = "` + garbage + `" is invalid: must be a PEM file starting with a CERTIFICATE block`},
		{append(sip, "--sip-tls-cert", key, "--sip-tls-key", key), `setting sip_tls_cert = "` + key + `" is invalid: must be a PEM file starting with a CERTIFICATE block`},
		{append(sip, "--sip-tls-cert", cert, "--sip-tls-key", otherKey), `setting sip_tls_key = "` + otherKey + `" is invalid: must be the PEM private key of sip_tls_cert's certificate`},
		{append(sip, "--sip-tls-cert", cert, "--sip-tls-key", garbage), `setting sip_tls_key = "` + garbage + `" is invalid`},
		{[]string{"--telephony", "sip", "--sip-tls-listen", "0.0.0.0:5061", "--sip-tls-cert", cert, "--sip-tls-key", key}, `setting sip_tls_listen = "0.0.0.0:5061" is invalid: must be IP:port with a concrete IP`},
		{[]string{"--telephony", "sip", "--sip-tls-listen", "sip.example.com:5061", "--sip-tls-cert", cert, "--sip-tls-key", key}, `setting sip_tls_listen = "sip.example.com:5061" is invalid`},
		{[]string{"--sip-tls-listen", "127.0.0.1:5061", "--sip-tls-cert", cert, "--sip-tls-key", key}, `setting sip_tls_listen = "127.0.0.1:5061" is invalid: only the SIP switch speaks TLS`},
		{[]string{"--telephony", "sip", "--sip-tls-cert", cert, "--sip-tls-key", key}, `setting sip_tls_listen = "" is invalid: is needed for sip_tls_cert and sip_tls_key`},
	} {
		_, err := Load(ModeDemo, flags(t, ModeDemo, tc.args...), environ())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}
