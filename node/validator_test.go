package node

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citychain/citychain/chain/crypto"
)

// holdsSecret reports whether msg holds 12 characters in a row of the
// hex secret, in any case.
func holdsSecret(msg, secret string) bool {
	msg, secret = strings.ToLower(msg), strings.ToLower(secret)
	for i := 0; i+12 <= len(secret); i++ {
		if strings.Contains(msg, secret[i:i+12]) {
			return true
		}
	}
	return false
}

// A damaged validator key file, or a private key in hex that does not
// parse, is refused with an error that says what is wrong without
// repeating the key.
func TestValidatorKeyErrorsNeverHoldTheSecret(t *testing.T) {
	key := DevKey(4)
	secret := hex.EncodeToString(key.Bytes())
	path := filepath.Join(t.TempDir(), ValidatorKeyFile)
	if err := SaveValidatorKey(path, key); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		priv string
		want string
	}{
		{"odd length", secret[:63], "odd length"},
		{"a stray character", secret[:63] + "g", "invalid byte"},
		{"too long", secret + "00", "want 32 bytes"},
		{"another key", hex.EncodeToString(DevKey(5).Bytes()), "does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := strings.Replace(string(good), secret, c.priv, 1)
			if err := os.WriteFile(path, []byte(b), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadValidatorKey(path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if holdsSecret(err.Error(), secret) || holdsSecret(err.Error(), c.priv) {
				t.Errorf("the error holds the key: %v", err)
			}
			if _, err := crypto.PrivateKeyFromHex(c.priv); err != nil && holdsSecret(err.Error(), c.priv) {
				t.Errorf("PrivateKeyFromHex: the error holds the key: %v", err)
			}
		})
	}
	if err := os.WriteFile(path, []byte(`{"priv_key": `+secret+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadValidatorKey(path); err == nil || holdsSecret(err.Error(), secret) {
		t.Errorf("a file that is not JSON: %v", err)
	}
}
