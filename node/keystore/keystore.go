package keystore

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// MaxNameLen bounds the length of a key name.
const MaxNameLen = 64

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// maxFileSize bounds what Load reads; a real key file is under 1 KiB.
const maxFileSize = 64 << 10

// fileExt is the extension of every key file.
const fileExt = ".json"

// Config says where a keystore lives and how it protects new keys.
type Config struct {
	// Dir is the keystore folder. Open creates it with mode 0700.
	Dir string
	// LightKDF makes every key this Keystore writes use LightKDF instead
	// of StandardKDF. It is meant for tests and development homes. Keys
	// with an empty passphrase use LightKDF whatever this says.
	LightKDF bool
}

// Keystore is a folder of encrypted key files. Its methods are safe for
// concurrent use, including by several processes: each write creates a
// new file and never changes an existing one.
type Keystore struct {
	dir   string
	light bool
}

// Info is what anyone can read about a stored key without its passphrase.
type Info struct {
	Name    string        `json:"name"`
	Address chain.Address `json:"address"`
	PubKey  string        `json:"pubkey"` // hex, 33-byte compressed
}

// Key is a stored key together with its decrypted secret.
type Key struct {
	Info
	PrivateKey *crypto.PrivateKey
}

// Open opens the keystore in dir with the default settings, creating the
// folder if needed.
func Open(dir string) (*Keystore, error) { return OpenConfig(Config{Dir: dir}) }

// OpenConfig opens the keystore cfg describes, creating its folder with
// mode 0700 if needed and narrowing an existing folder to 0700.
func OpenConfig(cfg Config) (*Keystore, error) {
	if cfg.Dir == "" {
		return nil, errors.New("keystore: no folder given")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	st, err := os.Stat(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("keystore: %s is not a folder", cfg.Dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("keystore: %w", err)
		}
	}
	return &Keystore{dir: cfg.Dir, light: cfg.LightKDF}, nil
}

// Dir returns the keystore folder.
func (ks *Keystore) Dir() string { return ks.dir }

// ValidateName returns ErrInvalidName unless name follows the naming rule:
// 1 to 64 characters from a-z, 0-9, '-' and '_', not starting with '-'
// or '_'.
func ValidateName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLen || !namePattern.MatchString(name) {
		return fmt.Errorf("%w: %q (use 1 to %d of a-z, 0-9, '-' and '_', starting with a letter or digit)",
			ErrInvalidName, name, MaxNameLen)
	}
	return nil
}

// New generates a key, stores it under name encrypted with passphrase and
// returns it. It fails with ErrInvalidName or ErrExists.
func (ks *Keystore) New(name, passphrase string) (*Key, error) {
	if err := ks.checkFree(name); err != nil {
		return nil, err
	}
	priv, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	info, err := ks.store(name, priv, passphrase)
	if err != nil {
		return nil, err
	}
	return &Key{Info: info, PrivateKey: priv}, nil
}

// Import stores priv under name encrypted with passphrase. It fails with
// ErrInvalidName or ErrExists.
func (ks *Keystore) Import(name string, priv *crypto.PrivateKey, passphrase string) error {
	if priv == nil {
		return errors.New("keystore: import of a nil key")
	}
	if err := ks.checkFree(name); err != nil {
		return err
	}
	_, err := ks.store(name, priv, passphrase)
	return err
}

// Load decrypts and returns the key stored under name. It fails with
// ErrNotFound, ErrWrongPassphrase, ErrCorrupt or ErrUnsupportedVersion.
func (ks *Keystore) Load(name, passphrase string) (*crypto.PrivateKey, error) {
	kf, err := ks.read(name)
	if err != nil {
		return nil, err
	}
	priv, err := kf.open(passphrase)
	if err != nil {
		return nil, fmt.Errorf("load key %q: %w", name, err)
	}
	return priv, nil
}

// Export returns the secret of the key stored under name as 64 hex
// characters, the form PrivateKeyFromHex and `keys import` read. It fails
// like Load.
func (ks *Keystore) Export(name, passphrase string) (string, error) {
	priv, err := ks.Load(name, passphrase)
	if err != nil {
		return "", err
	}
	secret := priv.Bytes()
	defer clear(secret)
	return hex.EncodeToString(secret), nil
}

// Show returns the public facts about the key stored under name. It needs
// no passphrase and fails with ErrNotFound, ErrInvalidName or ErrCorrupt.
func (ks *Keystore) Show(name string) (Info, error) {
	kf, err := ks.read(name)
	if err != nil {
		return Info{}, err
	}
	return kf.info, nil
}

// List returns every stored key sorted by name. Files whose names are not
// key names, such as temporary files, are skipped; a key file that does
// not read is an error, so damage is never hidden.
func (ks *Keystore) List() ([]Info, error) {
	entries, err := os.ReadDir(ks.dir)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	var out []Info
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), fileExt)
		if !ok || !e.Type().IsRegular() || ValidateName(name) != nil {
			continue
		}
		info, err := ks.Show(name)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (ks *Keystore) path(name string) string { return filepath.Join(ks.dir, name+fileExt) }

// checkFree fails early, before the costly key derivation, when name is
// invalid or taken. store checks again when it links the file.
func (ks *Keystore) checkFree(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if _, err := os.Lstat(ks.path(name)); err == nil {
		return fmt.Errorf("%w: %q", ErrExists, name)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keystore: %w", err)
	}
	return nil
}

func (ks *Keystore) store(name string, priv *crypto.PrivateKey, passphrase string) (Info, error) {
	params := StandardKDF
	if ks.light || passphrase == "" {
		params = LightKDF
	}
	data, err := seal(name, priv, passphrase, params)
	if err != nil {
		return Info{}, fmt.Errorf("seal key %q: %w", name, err)
	}
	if err := writeNew(ks.dir, name+fileExt, data); err != nil {
		if errors.Is(err, ErrExists) {
			return Info{}, fmt.Errorf("%w: %q", ErrExists, name)
		}
		return Info{}, fmt.Errorf("write key %q: %w", name, err)
	}
	pub := priv.PublicKey()
	return Info{Name: name, Address: chain.AddressOf(pub), PubKey: hex.EncodeToString(pub.Bytes())}, nil
}

// CopyTo stores the key called name in dst exactly as ks holds it,
// sealed under the same passphrase, so that no key is derived again: what
// makes several development homes cheap. It fails with ErrNotFound,
// ErrCorrupt, ErrInvalidName or ErrExists.
func (ks *Keystore) CopyTo(dst *Keystore, name string) error {
	data, err := ks.readBytes(name)
	if err != nil {
		return err
	}
	if _, err := parseFile(name, data); err != nil {
		return fmt.Errorf("key %q: %w", name, err)
	}
	if err := dst.checkFree(name); err != nil {
		return err
	}
	if err := writeNew(dst.dir, name+fileExt, data); err != nil {
		if errors.Is(err, ErrExists) {
			return fmt.Errorf("%w: %q", ErrExists, name)
		}
		return fmt.Errorf("write key %q: %w", name, err)
	}
	return nil
}

func (ks *Keystore) read(name string) (*keyFile, error) {
	data, err := ks.readBytes(name)
	if err != nil {
		return nil, err
	}
	kf, err := parseFile(name, data)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	return kf, nil
}

// readBytes returns the file of the key called name, unparsed.
func (ks *Keystore) readBytes(name string) ([]byte, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	f, err := os.Open(ks.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keystore: read %q: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: %q is larger than %d bytes", ErrCorrupt, name, maxFileSize)
	}
	return data, nil
}

// writeNew creates dir/file holding data, mode 0600, or fails with
// ErrExists. The bytes go to a temporary file first, are synced, and the
// file is then hard-linked to its final name. A link, unlike a rename,
// refuses to replace an existing file, so the check for a free name and
// the creation are one atomic step. File systems without hard links fall
// back to a check followed by a rename.
func writeNew(dir, file string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+file+".*.tmp") // CreateTemp uses mode 0600
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link this drops only the temporary name

	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}

	final := filepath.Join(dir, file)
	if err := os.Link(tmpName, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		if _, serr := os.Lstat(final); serr == nil {
			return ErrExists
		}
		if err := os.Rename(tmpName, final); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// syncDir makes a new directory entry durable. Some systems cannot sync a
// directory; that is not worth failing a key write for.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
