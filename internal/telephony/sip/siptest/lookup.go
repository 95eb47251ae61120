package siptest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
)

// EnvRequirePeers set to "1" makes a missing peer a test failure instead
// of a skip (CI sets it through scripts/test).
const EnvRequirePeers = "CENTRALITA_REQUIRE_PEERS"

// RequireSIPp skips t when the sipp binary (Debian package sip-tester) is
// missing, or fails it under CENTRALITA_REQUIRE_PEERS=1.
func RequireSIPp(t testing.TB) {
	t.Helper()
	require(t, "sipp", "sip-tester")
}

// RequireBaresip skips t when the baresip binary (Debian package
// baresip-core) is missing, or fails it under CENTRALITA_REQUIRE_PEERS=1.
func RequireBaresip(t testing.TB) {
	t.Helper()
	require(t, "baresip", "baresip-core")
}

func require(t testing.TB, bin, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(bin); err != nil {
		if os.Getenv(EnvRequirePeers) == "1" {
			t.Fatalf("%s not installed (Debian package %s) and %s=1", bin, pkg, EnvRequirePeers)
		}
		t.Skipf("%s not installed (Debian package %s)", bin, pkg)
	}
}

// FreePort returns a port of 127.0.0.1 that is free for both UDP and TCP
// at the time of the call (baresip binds its SIP port on both). Another
// process may take it before it is used; callers keep the window short.
func FreePort() (int, error) {
	for range 20 {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err != nil {
			continue // taken for TCP: try another
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("siptest: no port free for both UDP and TCP on 127.0.0.1")
}
