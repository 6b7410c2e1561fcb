package keystore_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/citychain/citychain/node/keystore"
)

// CopyTo moves a sealed key file as it is: the copy opens with the same
// passphrase, and a name that is taken, missing or damaged is refused.
func TestCopyTo(t *testing.T) {
	src, dst := openLight(t), openLight(t)
	key := fixedKey(t, "alice")
	if err := src.Import("alice", key, "secret"); err != nil {
		t.Fatal(err)
	}
	if err := src.CopyTo(dst, "alice"); err != nil {
		t.Fatal(err)
	}
	got, err := dst.Load("alice", "secret")
	if err != nil || !bytes.Equal(got.Bytes(), key.Bytes()) {
		t.Fatalf("copy does not open: %v", err)
	}
	if err := src.CopyTo(dst, "alice"); !errors.Is(err, keystore.ErrExists) {
		t.Fatalf("copy over a taken name = %v, want ErrExists", err)
	}
	if err := src.CopyTo(dst, "bob"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("copy of a missing key = %v, want ErrNotFound", err)
	}
	if err := os.WriteFile(filepath.Join(src.Dir(), "carol.json"), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := src.CopyTo(dst, "carol"); !errors.Is(err, keystore.ErrCorrupt) {
		t.Fatalf("copy of a damaged file = %v, want ErrCorrupt", err)
	}
	if _, err := dst.Show("carol"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("damaged file was copied: %v", err)
	}
}
