package keystore_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node/keystore"
)

// openLight opens a fresh keystore with the cheap KDF, which every test
// but TestStandardKDF uses to stay fast.
func openLight(t *testing.T) *keystore.Keystore {
	t.Helper()
	ks, err := keystore.OpenConfig(keystore.Config{Dir: filepath.Join(t.TempDir(), "keystore"), LightKDF: true})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func fixedKey(t *testing.T, label string) *crypto.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	k, err := crypto.PrivateKeyFromBytes(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// readFile returns a key file as a generic JSON object.
func readFile(t *testing.T, ks *keystore.Keystore, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(ks.Dir(), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeFile(t *testing.T, ks *keystore.Keystore, name string, m map[string]any) {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ks.Dir(), name+".json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestNewLoadRoundTrip(t *testing.T) {
	ks := openLight(t)
	key, err := ks.New("alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	pub := key.PrivateKey.PublicKey()
	if key.Name != "alice" || key.Address != chain.AddressOf(pub) || key.PubKey != hex.EncodeToString(pub.Bytes()) {
		t.Fatalf("New returned inconsistent info %+v", key.Info)
	}
	got, err := ks.Load("alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), key.PrivateKey.Bytes()) {
		t.Fatal("Load returned a different secret")
	}
	info, err := ks.Show("alice")
	if err != nil || info != key.Info {
		t.Fatalf("Show = %+v, %v; want %+v", info, err, key.Info)
	}
}

func TestImportExport(t *testing.T) {
	ks := openLight(t)
	priv := fixedKey(t, "bob")
	if err := ks.Import("bob", priv, "pw"); err != nil {
		t.Fatal(err)
	}
	hexKey, err := ks.Export("bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(priv.Bytes()); hexKey != want {
		t.Fatalf("Export = %s, want %s", hexKey, want)
	}
	back, err := crypto.PrivateKeyFromHex(hexKey)
	if err != nil || !back.PublicKey().Equal(priv.PublicKey()) {
		t.Fatalf("exported key does not parse back: %v", err)
	}
}

func TestWrongPassphrase(t *testing.T) {
	ks := openLight(t)
	if _, err := ks.New("carol", "right"); err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"wrong", "", "Right", "right "} {
		if _, err := ks.Load("carol", pass); !errors.Is(err, keystore.ErrWrongPassphrase) {
			t.Errorf("Load with %q = %v, want ErrWrongPassphrase", pass, err)
		}
		if _, err := ks.Export("carol", pass); !errors.Is(err, keystore.ErrWrongPassphrase) {
			t.Errorf("Export with %q = %v, want ErrWrongPassphrase", pass, err)
		}
	}
}

func TestNotFoundAndExists(t *testing.T) {
	ks := openLight(t)
	if _, err := ks.Load("nobody", "x"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Load = %v, want ErrNotFound", err)
	}
	if _, err := ks.Show("nobody"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Show = %v, want ErrNotFound", err)
	}
	if _, err := ks.Export("nobody", "x"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Export = %v, want ErrNotFound", err)
	}

	first, err := ks.New("dave", "one")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.New("dave", "two"); !errors.Is(err, keystore.ErrExists) {
		t.Errorf("second New = %v, want ErrExists", err)
	}
	if err := ks.Import("dave", fixedKey(t, "other"), "two"); !errors.Is(err, keystore.ErrExists) {
		t.Errorf("Import over existing = %v, want ErrExists", err)
	}
	got, err := ks.Load("dave", "one")
	if err != nil || !bytes.Equal(got.Bytes(), first.PrivateKey.Bytes()) {
		t.Fatalf("the first key was disturbed: %v", err)
	}
}

// TestConcurrentNew has several writers race for one name: exactly one
// may win, and the file must be the winner's.
func TestConcurrentNew(t *testing.T) {
	ks := openLight(t)
	const writers = 8
	var wg sync.WaitGroup
	keys := make([]*keystore.Key, writers)
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() { keys[i], errs[i] = ks.New("race", fmt.Sprint("pw", i)) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both created the key", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, keystore.ErrExists):
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer created the key")
	}
	got, err := ks.Load("race", fmt.Sprint("pw", winner))
	if err != nil || !bytes.Equal(got.Bytes(), keys[winner].PrivateKey.Bytes()) {
		t.Fatalf("stored key is not the winner's: %v", err)
	}
}

func TestListSorted(t *testing.T) {
	ks := openLight(t)
	if infos, err := ks.List(); err != nil || len(infos) != 0 {
		t.Fatalf("List of empty keystore = %v, %v", infos, err)
	}
	// "a-b" sorts before "a" as a file name ("a-b.json" < "a.json") but
	// after it as a key name, so this order tests the sort, not ReadDir.
	names := []string{"zed", "a-b", "a", "dev10", "dev2", "a_b", "0x"}
	for _, n := range names {
		if err := ks.Import(n, fixedKey(t, n), ""); err != nil {
			t.Fatal(err)
		}
	}
	// Files that are not keys are ignored.
	for _, junk := range []string{"README", ".a.json.123.tmp", "Upper.json"} {
		if err := os.WriteFile(filepath.Join(ks.Dir(), junk), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := ks.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range infos {
		got = append(got, in.Name)
		if want := chain.AddressOf(fixedKey(t, in.Name).PublicKey()); in.Address != want {
			t.Errorf("%s: address %s, want %s", in.Name, in.Address, want)
		}
	}
	want := "0x a a-b a_b dev10 dev2 zed"
	if strings.Join(got, " ") != want {
		t.Fatalf("List order = %v, want %s", got, want)
	}
}

func TestBadNames(t *testing.T) {
	ks := openLight(t)
	bad := []string{
		"", "Alice", "a b", "a/b", "../x", "..", ".hidden", "-flag", "_x", "a.json",
		"é", "a\x00b", strings.Repeat("a", keystore.MaxNameLen+1),
	}
	for _, name := range bad {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			if _, err := ks.New(name, ""); !errors.Is(err, keystore.ErrInvalidName) {
				t.Errorf("New = %v, want ErrInvalidName", err)
			}
			if err := ks.Import(name, fixedKey(t, "x"), ""); !errors.Is(err, keystore.ErrInvalidName) {
				t.Errorf("Import = %v, want ErrInvalidName", err)
			}
			if _, err := ks.Load(name, ""); !errors.Is(err, keystore.ErrInvalidName) {
				t.Errorf("Load = %v, want ErrInvalidName", err)
			}
			if _, err := ks.Show(name); !errors.Is(err, keystore.ErrInvalidName) {
				t.Errorf("Show = %v, want ErrInvalidName", err)
			}
		})
	}
	for _, name := range []string{"a", "0", "dev0", "my-key_2", strings.Repeat("z", keystore.MaxNameLen)} {
		if err := keystore.ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q) = %v", name, err)
		}
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home", "keystore")
	ks, err := keystore.OpenConfig(keystore.Config{Dir: dir, LightKDF: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.New("erin", ""); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o700 {
		t.Errorf("folder mode %o, want 700", perm)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "erin.json" {
		t.Fatalf("folder holds %v, want only erin.json (no temporary files)", entries)
	}
	fi, err := entries[0].Info()
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %o, want 600", perm)
	}

	// An existing folder that is open to others is narrowed.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.Open(dir); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("reopened folder mode %o, want 700", st.Mode().Perm())
	}
}

func TestFileFormat(t *testing.T) {
	ks := openLight(t)
	priv := fixedKey(t, "frank")
	if err := ks.Import("frank", priv, "pw"); err != nil {
		t.Fatal(err)
	}
	m := readFile(t, ks, "frank")
	if m["version"] != float64(keystore.Version) || m["name"] != "frank" {
		t.Errorf("version/name = %v/%v", m["version"], m["name"])
	}
	if m["address"] != chain.AddressOf(priv.PublicKey()).String() {
		t.Errorf("address = %v", m["address"])
	}
	if m["pubkey"] != hex.EncodeToString(priv.PublicKey().Bytes()) {
		t.Errorf("pubkey = %v", m["pubkey"])
	}
	raw, _ := os.ReadFile(filepath.Join(ks.Dir(), "frank.json"))
	if bytes.Contains(raw, []byte(hex.EncodeToString(priv.Bytes()))) {
		t.Fatal("the secret is in the file in clear")
	}
	c := m["crypto"].(map[string]any)
	if c["cipher"] != "xchacha20-poly1305" || c["kdf"] != "scrypt" {
		t.Errorf("cipher/kdf = %v/%v", c["cipher"], c["kdf"])
	}
	if n := c["kdfparams"].(map[string]any)["n"]; n != float64(keystore.LightKDF.N) {
		t.Errorf("kdf n = %v, want %d", n, keystore.LightKDF.N)
	}

	// Two files of the same key never share salt, nonce or ciphertext.
	if err := ks.Import("frank2", priv, "pw"); err != nil {
		t.Fatal(err)
	}
	c2 := readFile(t, ks, "frank2")["crypto"].(map[string]any)
	for _, f := range []string{"salt", "nonce", "ciphertext"} {
		if c[f] == c2[f] {
			t.Errorf("%s repeats across files", f)
		}
	}
}

// TestStandardKDF writes one key at full cost, then reads it back through
// a keystore configured for light keys: the parameters travel in the file.
func TestStandardKDF(t *testing.T) {
	dir := t.TempDir()
	strong, err := keystore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	priv := fixedKey(t, "grace")
	if err := strong.Import("grace", priv, "a real passphrase"); err != nil {
		t.Fatal(err)
	}
	// Development keys have no passphrase, so they get the light cost
	// even from a default keystore.
	if err := strong.Import("dev0", fixedKey(t, "dev0"), ""); err != nil {
		t.Fatal(err)
	}
	light, err := keystore.OpenConfig(keystore.Config{Dir: dir, LightKDF: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, wantN := range map[string]int{"grace": keystore.StandardKDF.N, "dev0": keystore.LightKDF.N} {
		n := readFile(t, light, name)["crypto"].(map[string]any)["kdfparams"].(map[string]any)["n"]
		if n != float64(wantN) {
			t.Errorf("%s: kdf n = %v, want %d", name, n, wantN)
		}
	}
	got, err := light.Load("grace", "a real passphrase")
	if err != nil || !bytes.Equal(got.Bytes(), priv.Bytes()) {
		t.Fatalf("Load of a standard-cost key: %v", err)
	}
}

// TestTamper edits one field of a good file at a time.
func TestTamper(t *testing.T) {
	other := fixedKey(t, "mallory").PublicKey()
	tests := []struct {
		name string
		edit func(m, c map[string]any)
		load error // from Load with the right passphrase
		show error // from Show; nil if Show still works
	}{
		{
			name: "ciphertext bit flipped",
			edit: func(m, c map[string]any) { c["ciphertext"] = flipHex(c["ciphertext"].(string)) },
			load: keystore.ErrWrongPassphrase,
		},
		{
			name: "nonce changed",
			edit: func(m, c map[string]any) { c["nonce"] = flipHex(c["nonce"].(string)) },
			load: keystore.ErrWrongPassphrase,
		},
		{
			name: "salt changed",
			edit: func(m, c map[string]any) { c["salt"] = flipHex(c["salt"].(string)) },
			load: keystore.ErrWrongPassphrase,
		},
		{
			// The attacker swaps in another public key and its matching
			// address: the clear part is consistent, but the ciphertext was
			// bound to the original key.
			name: "pubkey and address swapped",
			edit: func(m, c map[string]any) {
				m["pubkey"] = hex.EncodeToString(other.Bytes())
				m["address"] = chain.AddressOf(other).String()
			},
			load: keystore.ErrWrongPassphrase,
		},
		{
			name: "address alone changed",
			edit: func(m, c map[string]any) { m["address"] = chain.AddressOf(other).String() },
			load: keystore.ErrCorrupt, show: keystore.ErrCorrupt,
		},
		{
			name: "name does not match file",
			edit: func(m, c map[string]any) { m["name"] = "someone" },
			load: keystore.ErrCorrupt, show: keystore.ErrCorrupt,
		},
		{
			name: "ciphertext truncated",
			edit: func(m, c map[string]any) { s := c["ciphertext"].(string); c["ciphertext"] = s[:len(s)-2] },
			load: keystore.ErrCorrupt, show: keystore.ErrCorrupt,
		},
		{
			name: "scrypt cost too high",
			edit: func(m, c map[string]any) { c["kdfparams"].(map[string]any)["n"] = 1 << 30 },
			load: keystore.ErrCorrupt, show: keystore.ErrCorrupt,
		},
		{
			name: "scrypt n not a power of two",
			edit: func(m, c map[string]any) { c["kdfparams"].(map[string]any)["n"] = 4097 },
			load: keystore.ErrCorrupt, show: keystore.ErrCorrupt,
		},
		{
			name: "unknown cipher",
			edit: func(m, c map[string]any) { c["cipher"] = "aes-128-ctr" },
			load: keystore.ErrCorrupt, show: keystore.ErrCorrupt,
		},
		{
			name: "future version",
			edit: func(m, c map[string]any) { m["version"] = 2 },
			load: keystore.ErrUnsupportedVersion, show: keystore.ErrUnsupportedVersion,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks := openLight(t)
			if err := ks.Import("key", fixedKey(t, "victim"), "pw"); err != nil {
				t.Fatal(err)
			}
			m := readFile(t, ks, "key")
			tc.edit(m, m["crypto"].(map[string]any))
			writeFile(t, ks, "key", m)
			if _, err := ks.Load("key", "pw"); !errors.Is(err, tc.load) {
				t.Errorf("Load = %v, want %v", err, tc.load)
			}
			_, err := ks.Show("key")
			if tc.show == nil && err != nil {
				t.Errorf("Show = %v, want success", err)
			}
			if tc.show != nil && !errors.Is(err, tc.show) {
				t.Errorf("Show = %v, want %v", err, tc.show)
			}
		})
	}

	t.Run("not JSON", func(t *testing.T) {
		ks := openLight(t)
		if err := os.WriteFile(filepath.Join(ks.Dir(), "junk.json"), []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Load("junk", ""); !errors.Is(err, keystore.ErrCorrupt) {
			t.Errorf("Load = %v, want ErrCorrupt", err)
		}
		if _, err := ks.List(); !errors.Is(err, keystore.ErrCorrupt) {
			t.Errorf("List = %v, want ErrCorrupt", err)
		}
	})
}

// flipHex changes the first hex digit of s.
func flipHex(s string) string {
	b := []byte(s)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

// Example stores a development key and reads it back.
func Example() {
	dir, err := os.MkdirTemp("", "keystore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	ks, err := keystore.OpenConfig(keystore.Config{Dir: dir, LightKDF: true})
	if err != nil {
		panic(err)
	}
	priv, _ := crypto.PrivateKeyFromHex("0000000000000000000000000000000000000000000000000000000000000001")
	if err := ks.Import("dev0", priv, ""); err != nil {
		panic(err)
	}
	infos, _ := ks.List()
	for _, in := range infos {
		fmt.Println(in.Name, in.Address)
	}
	_, err = ks.Load("dev0", "guess")
	fmt.Println(errors.Is(err, keystore.ErrWrongPassphrase))
	// Output:
	// dev0 city1pac4ht6afshdx2tctnhjnetz7u6g3j9z8kzqcv
	// true
}
