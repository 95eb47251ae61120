package password

import (
	"strings"
	"testing"
)

func TestHashCheck(t *testing.T) {
	h, err := Hash("agent")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "agent") {
		t.Fatalf("unexpected encoding %q", h)
	}
	h2, _ := Hash("agent")
	if h == h2 {
		t.Fatal("salts must differ")
	}
	if ok, err := Check(h, "agent"); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := Check(h, "Agent"); ok {
		t.Fatal("wrong password accepted")
	}
	if ok, _ := Check(h, strings.Repeat("x", MaxLen+1)); ok {
		t.Fatal("overlong password accepted")
	}
	if _, err := Hash(strings.Repeat("x", MaxLen+1)); err == nil {
		t.Fatal("overlong password hashed")
	}
	if _, err := Check("$2a$10$bcrypt", "x"); err == nil {
		t.Fatal("foreign hash format must be an error")
	}
}
