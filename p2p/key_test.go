package p2p

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
)

func TestNodeKeySaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node_key")
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveKey(path, key); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	loaded, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Equals(key) {
		t.Fatal("loaded key differs from saved key")
	}
	id1, _ := PeerID(key)
	id2, _ := PeerID(loaded)
	if id1 != id2 || !strings.HasPrefix(id1.String(), "12D3KooW") {
		t.Errorf("peer IDs %s and %s", id1, id2)
	}

	// Saving over an existing key is refused.
	other, _ := GenerateKey()
	if err := SaveKey(path, other); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrite: got %v, want fs.ErrExist", err)
	}
	// LoadOrCreateKey loads what is there, or makes a new key once.
	got, created, err := LoadOrCreateKey(path)
	if err != nil || created || !got.Equals(key) {
		t.Errorf("LoadOrCreateKey(existing) = created %v, err %v", created, err)
	}
	fresh := filepath.Join(dir, "fresh_key")
	k1, created, err := LoadOrCreateKey(fresh)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey(new) = created %v, err %v", created, err)
	}
	k2, created, err := LoadOrCreateKey(fresh)
	if err != nil || created || !k1.Equals(k2) {
		t.Errorf("second LoadOrCreateKey = created %v, err %v", created, err)
	}
}

func TestLoadKeyRejectsBadFiles(t *testing.T) {
	secp, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secpRaw, err := crypto.MarshalPrivateKey(secp)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"not base64", "this is not a key\n"},
		{"base64 of junk", base64.StdEncoding.EncodeToString([]byte("junk"))},
		{"secp256k1 key", base64.StdEncoding.EncodeToString(secpRaw)},
		{"too large", strings.Repeat("A", maxKeyFile+1)},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprint(i))
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadKey(path); !errors.Is(err, ErrBadKey) {
				t.Errorf("got %v, want ErrBadKey", err)
			}
		})
	}
	if _, err := LoadKey(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
}
