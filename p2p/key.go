package p2p

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxKeyFile bounds what LoadKey reads; an Ed25519 key file is ~100 bytes.
const maxKeyFile = 4 << 10

// GenerateKey returns a new random Ed25519 node key.
func GenerateKey() (crypto.PrivKey, error) {
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate node key: %w", err)
	}
	return key, nil
}

// PeerID returns the peer ID that a node key gives its node, as other
// nodes see it ("12D3KooW...").
func PeerID(key crypto.PrivKey) (peer.ID, error) {
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return id, nil
}

// SaveKey writes key to a new file at path, readable by its owner only
// (0600): libp2p's protobuf encoding of the key, in base64, on one line.
// It refuses to overwrite an existing file (the error wraps fs.ErrExist),
// because a replaced node key silently changes the node's peer ID.
func SaveKey(path string, key crypto.PrivKey) error {
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode node key: %w", err)
	}
	text := base64.StdEncoding.EncodeToString(raw) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("save node key: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("save node key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("save node key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save node key %s: %w", path, err)
	}
	return nil
}

// LoadKey reads a node key written by SaveKey. It fails with ErrBadKey if
// the file does not hold an Ed25519 key in that format.
func LoadKey(path string) (crypto.PrivKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load node key: %w", err)
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("load node key %s: %w", path, err)
	}
	if len(text) > maxKeyFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadKey, path, maxKeyFile)
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(text)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, path, err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, path, err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: %s holds a %s key, want Ed25519", ErrBadKey, path, key.Type())
	}
	return key, nil
}

// LoadOrCreateKey loads the node key at path, or generates and saves a
// new one if the file does not exist. created tells which happened.
func LoadOrCreateKey(path string) (key crypto.PrivKey, created bool, err error) {
	key, err = LoadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if key, err = GenerateKey(); err != nil {
		return nil, false, err
	}
	if err := SaveKey(path, key); err != nil {
		return nil, false, err
	}
	return key, true, nil
}
