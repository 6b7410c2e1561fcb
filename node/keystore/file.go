package keystore

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// Format constants of a key file.
const (
	// Version is the format version this package writes and reads.
	Version = 1

	cipherName = "xchacha20-poly1305"
	kdfName    = "scrypt"
	saltSize   = 32
	// aadPrefix starts the associated data, so a ciphertext made for some
	// other purpose under the same passphrase can never pass as a key.
	aadPrefix = "citychain-keystore-v1:"
)

// KDFParams are the scrypt cost parameters. Memory use is 128*N*R bytes.
type KDFParams struct {
	N int `json:"n"`
	R int `json:"r"`
	P int `json:"p"`
}

var (
	// StandardKDF protects keys that have a real passphrase.
	StandardKDF = KDFParams{N: 1 << 15, R: 8, P: 1}
	// LightKDF is for development keys and tests: still scrypt, but about
	// eight times cheaper.
	LightKDF = KDFParams{N: 1 << 12, R: 8, P: 1}
)

// Upper bounds on parameters read from a file. A file is input: without
// them a crafted file could make Load allocate gigabytes or spin for hours.
const (
	maxN      = 1 << 20
	maxR      = 32
	maxP      = 16
	maxMemory = 1 << 30
)

func (p KDFParams) check() error {
	if p.N < 2 || p.N > maxN || p.N&(p.N-1) != 0 {
		return fmt.Errorf("scrypt n=%d is not a power of two in [2, %d]", p.N, maxN)
	}
	if p.R < 1 || p.R > maxR || p.P < 1 || p.P > maxP {
		return fmt.Errorf("scrypt r=%d p=%d out of range", p.R, p.P)
	}
	if 128*p.N*p.R > maxMemory {
		return fmt.Errorf("scrypt n=%d r=%d needs more than %d bytes", p.N, p.R, maxMemory)
	}
	return nil
}

// fileJSON is the on-disk form of one key.
type fileJSON struct {
	Version int        `json:"version"`
	Name    string     `json:"name"`
	Address string     `json:"address"`
	PubKey  string     `json:"pubkey"`
	Crypto  cryptoJSON `json:"crypto"`
}

type cryptoJSON struct {
	Cipher     string    `json:"cipher"`
	Ciphertext string    `json:"ciphertext"`
	Nonce      string    `json:"nonce"`
	KDF        string    `json:"kdf"`
	KDFParams  KDFParams `json:"kdfparams"`
	Salt       string    `json:"salt"`
}

// keyFile is a parsed and checked fileJSON.
type keyFile struct {
	info       Info
	pub        *crypto.PublicKey
	params     KDFParams
	salt       []byte
	nonce      []byte
	ciphertext []byte
}

// seal encrypts priv under passphrase and returns the file bytes.
func seal(name string, priv *crypto.PrivateKey, passphrase string, params KDFParams) ([]byte, error) {
	salt := make([]byte, saltSize)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	aead, err := newAEAD(passphrase, salt, params)
	if err != nil {
		return nil, err
	}
	pub := priv.PublicKey().Bytes()
	secret := priv.Bytes()
	ct := aead.Seal(nil, nonce, secret, associatedData(pub))
	clear(secret)

	f := fileJSON{
		Version: Version,
		Name:    name,
		Address: chain.AddressFromPubKeyBytes(pub).String(),
		PubKey:  hex.EncodeToString(pub),
		Crypto: cryptoJSON{
			Cipher:     cipherName,
			Ciphertext: hex.EncodeToString(ct),
			Nonce:      hex.EncodeToString(nonce),
			KDF:        kdfName,
			KDFParams:  params,
			Salt:       hex.EncodeToString(salt),
		},
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// parseFile reads and checks the file bytes of the key called name. It
// needs no passphrase: everything but the secret is checked here.
func parseFile(name string, data []byte) (*keyFile, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%w: version %d, this program reads %d", ErrUnsupportedVersion, f.Version, Version)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	if f.Name != name {
		return nil, bad("file for %q says its name is %q", name, f.Name)
	}
	if f.Crypto.Cipher != cipherName || f.Crypto.KDF != kdfName {
		return nil, bad("cipher %q with kdf %q, want %q with %q", f.Crypto.Cipher, f.Crypto.KDF, cipherName, kdfName)
	}
	if err := f.Crypto.KDFParams.check(); err != nil {
		return nil, bad("%v", err)
	}
	pub, err := hex.DecodeString(f.PubKey)
	if err != nil {
		return nil, bad("pubkey: %v", err)
	}
	pubKey, err := crypto.ParseCompressedPublicKey(pub)
	if err != nil {
		return nil, bad("pubkey: %v", err)
	}
	addr, err := chain.ParseAddress(f.Address)
	if err != nil {
		return nil, bad("%v", err)
	}
	if addr != chain.AddressFromPubKeyBytes(pub) {
		return nil, bad("address %s does not belong to pubkey %s", f.Address, f.PubKey)
	}
	kf := &keyFile{
		info:   Info{Name: f.Name, Address: addr, PubKey: f.PubKey},
		pub:    pubKey,
		params: f.Crypto.KDFParams,
	}
	fields := []struct {
		name string
		hex  string
		dst  *[]byte
		min  int
		max  int
	}{
		{"salt", f.Crypto.Salt, &kf.salt, 16, 64},
		{"nonce", f.Crypto.Nonce, &kf.nonce, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX},
		{"ciphertext", f.Crypto.Ciphertext, &kf.ciphertext, crypto.PrivateKeySize + chacha20poly1305.Overhead,
			crypto.PrivateKeySize + chacha20poly1305.Overhead},
	}
	for _, fl := range fields {
		b, err := hex.DecodeString(fl.hex)
		if err != nil {
			return nil, bad("%s: %v", fl.name, err)
		}
		if len(b) < fl.min || len(b) > fl.max {
			return nil, bad("%s is %d bytes", fl.name, len(b))
		}
		*fl.dst = b
	}
	return kf, nil
}

// open decrypts the secret and checks that it matches the public key.
func (kf *keyFile) open(passphrase string) (*crypto.PrivateKey, error) {
	aead, err := newAEAD(passphrase, kf.salt, kf.params)
	if err != nil {
		return nil, err
	}
	secret, err := aead.Open(nil, kf.nonce, kf.ciphertext, associatedData(kf.pub.Bytes()))
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	defer clear(secret)
	priv, err := crypto.PrivateKeyFromBytes(secret)
	if err != nil {
		return nil, fmt.Errorf("%w: secret: %v", ErrCorrupt, err)
	}
	if !priv.PublicKey().Equal(kf.pub) {
		return nil, fmt.Errorf("%w: secret does not match the public key", ErrCorrupt)
	}
	return priv, nil
}

// newAEAD derives the file key from the passphrase. The derived key is
// wiped once the cipher holds its own copy.
func newAEAD(passphrase string, salt []byte, p KDFParams) (cipher.AEAD, error) {
	key, err := scrypt.Key([]byte(passphrase), salt, p.N, p.R, p.P, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: scrypt: %v", ErrCorrupt, err)
	}
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("aead: %w", err)
	}
	return aead, nil
}

func associatedData(pub []byte) []byte {
	return append([]byte(aadPrefix), pub...)
}
