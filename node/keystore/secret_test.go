package keystore_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/citychain/citychain/node/keystore"
)

// leaks reports whether msg holds secret or any 12 characters of it in a
// row, in any case: enough to narrow a search, too few to match by
// chance in a message.
func leaks(msg, secret string) bool {
	msg, secret = strings.ToLower(msg), strings.ToLower(secret)
	if len(secret) < 12 {
		return strings.Contains(msg, secret)
	}
	for i := 0; i+12 <= len(secret); i++ {
		if strings.Contains(msg, secret[i:i+12]) {
			return true
		}
	}
	return false
}

// No error of the keystore holds the passphrase or the private key:
// wrong passphrases (some close to the right one), and key files damaged
// in ways a person makes, such as the private key pasted where the
// ciphertext belongs.
func TestErrorsNeverHoldTheSecret(t *testing.T) {
	const pass = "correct horse battery staple"
	ks := openLight(t)
	priv := fixedKey(t, "secret-holder")
	secret := hex.EncodeToString(priv.Bytes())
	if err := ks.Import("dana", priv, pass); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		if leaks(err.Error(), pass) || leaks(err.Error(), secret) {
			t.Errorf("%s: the error holds the secret: %v", what, err)
		}
	}
	for _, wrong := range []string{pass + " ", strings.ToUpper(pass), pass[:20], "x" + pass} {
		_, err := ks.Load("dana", wrong)
		if !errors.Is(err, keystore.ErrWrongPassphrase) {
			t.Errorf("Load with a wrong passphrase: %v, want ErrWrongPassphrase", err)
		}
		check("Load with a wrong passphrase", err)
		_, err = ks.Export("dana", wrong)
		check("Export with a wrong passphrase", err)
	}

	m := readFile(t, ks, "dana")
	c := m["crypto"].(map[string]any)
	for _, dmg := range []struct {
		what string
		edit func()
	}{
		{"the private key in place of the ciphertext", func() { c["ciphertext"] = secret }},
		{"the private key with a stray character in place of the ciphertext", func() { c["ciphertext"] = secret + "z" }},
		{"the passphrase in place of the salt", func() { c["salt"] = pass }},
		{"the private key in place of the public key", func() { m["pubkey"] = secret }},
	} {
		orig := map[string]any{}
		for k, v := range c {
			orig[k] = v
		}
		pub := m["pubkey"]
		dmg.edit()
		writeFile(t, ks, "dana", m)
		_, err := ks.Load("dana", pass)
		check(dmg.what, err)
		for k, v := range orig {
			c[k] = v
		}
		m["pubkey"] = pub
	}
	writeFile(t, ks, "dana", m)
	if _, err := ks.Load("dana", pass); err != nil {
		t.Fatalf("the restored file does not load: %v", err)
	}
}
