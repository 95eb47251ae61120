package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestSealOpen(t *testing.T) {
	box, _ := New(key(1))
	s1, err := box.Seal("device")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := box.Seal("device")
	if s1 == s2 {
		t.Fatal("two seals of one value must differ (random nonce)")
	}
	if strings.Contains(s1, "device") {
		t.Fatal("sealed value contains the plaintext")
	}
	if got, err := box.Open(s1); err != nil || got != "device" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if e, _ := box.Seal(""); e != "" {
		t.Fatal("empty stays empty")
	}
}

func TestWrongKeyAndTampering(t *testing.T) {
	a, _ := New(key(1))
	b, _ := New(key(2))
	sealed, _ := a.Seal("secret")
	if _, err := b.Open(sealed); err == nil {
		t.Fatal("another key must not open it")
	}
	raw := []byte(sealed)
	raw[len(raw)-2] ^= 1
	if _, err := a.Open(string(raw)); err == nil {
		t.Fatal("a tampered value must not open")
	}
	for _, bad := range []string{"plain", "v1:!!!", "v1:AAAA"} {
		if _, err := a.Open(bad); err == nil {
			t.Errorf("Open(%q) should fail", bad)
		}
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte key must be refused")
	}
}

func TestKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "master.key")
	k1, err := LoadOrCreateKeyFile(p)
	if err != nil || len(k1) != 32 {
		t.Fatalf("create: %v", err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, _ := LoadOrCreateKeyFile(p)
	if !bytes.Equal(k1, k2) {
		t.Fatal("second load must return the same key")
	}
	os.WriteFile(p, []byte("short"), 0o600)
	if _, err := LoadOrCreateKeyFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("a corrupt key file must be an error naming it, got %v", err)
	}
}
