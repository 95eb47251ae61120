// Package password hashes people's passwords and low-entropy client secrets
// with argon2id (OWASP parameters: t=2, m=19 MiB, p=1) in the PHC string form.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	timeCost = 2
	memoryKB = 19 * 1024
	threads  = 1
	keyLen   = 32
)

// MaxLen bounds what we hash: argon2 cost does not depend on length, but a
// megabyte "password" is an attack, not a password.
const MaxLen = 256

// Hash returns the PHC-encoded argon2id hash of pw.
func Hash(pw string) (string, error) {
	if len(pw) > MaxLen {
		return "", fmt.Errorf("password longer than %d bytes", MaxLen)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, timeCost, memoryKB, threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKB, timeCost, threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Check reports whether pw matches the encoded hash.
func Check(encoded, pw string) (bool, error) {
	if len(pw) > MaxLen {
		return false, nil
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("password: unknown hash format")
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, fmt.Errorf("password: bad parameters: %w", err)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, err
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
