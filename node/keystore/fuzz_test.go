package keystore

// FuzzParseFile feeds key files to the keystore's reader: a file is
// input, and whatever it holds, reading it returns a key or an error and
// never panics. The secret is opened too when the file's scrypt cost is
// at most LightKDF's, so that each run stays fast.
//
//	go test ./node/keystore/ -run '^$' -fuzz FuzzParseFile -fuzztime 30s

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/citychain/citychain/chain/crypto"
)

func FuzzParseFile(f *testing.F) {
	seed := sha256.Sum256([]byte("fuzz"))
	priv, err := crypto.PrivateKeyFromBytes(seed[:])
	if err != nil {
		f.Fatal(err)
	}
	light, err := seal("fuzz", priv, "", KDFParams{N: 16, R: 1, P: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(light)
	f.Add(bytes.Replace(light, []byte(`"n": 16`), []byte(`"n": 1048576`), 1))
	f.Add(bytes.Replace(light, []byte(`"version": 1`), []byte(`"version": 9`), 1))
	f.Add([]byte(`{"version": 1, "name": "fuzz"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := parseFile("fuzz", data)
		if err != nil {
			return
		}
		if kf.pub == nil {
			t.Fatal("parsed without a public key")
		}
		if kf.params.N*kf.params.R*kf.params.P <= LightKDF.N*LightKDF.R*LightKDF.P {
			if k, err := kf.open(""); err == nil && !k.PublicKey().Equal(kf.pub) {
				t.Fatal("opened a secret that does not match the public key")
			}
		}
	})
}
