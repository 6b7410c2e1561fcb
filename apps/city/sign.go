package city

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// A device has its own secp256k1 key, registered by the operator. The
// transaction that carries a reading may come from anyone (a gateway
// that collects readings over LoRaWAN, say); what makes the reading the
// device's is the device's signature over the reading's body.
//
// The bytes a device signs are
//
//	"citychain/city/" + kind + 0x00 + chain id + 0x00 + body
//
// where kind is "observation" or "ack" and body is the canonical CBOR of
// the body object, exactly as it appears inside the transaction's
// payload (chain.EncodePayload of the body gives those bytes). The kind
// keeps an acknowledgement from passing as a reading; the chain id keeps
// a reading for a test chain from being replayed on another. The
// sequence number inside the body keeps it from being replayed on this
// one. SHA-256 of these bytes is what the key signs (crypto.Sign).

const (
	kindObservation = "observation"
	kindAck         = "ack"
)

func signBytes(kind, chainID string, body []byte) []byte {
	return append([]byte("citychain/city/"+kind+"\x00"+chainID+"\x00"), body...)
}

// SignReading signs an observation with the device's key for the chain
// chainID.
func SignReading(key *crypto.PrivateKey, chainID string, obs Observation) (Reading, error) {
	sig, err := sign(key, kindObservation, chainID, obs)
	return Reading{Body: obs, Signature: sig}, err
}

// SignAck signs a device's acknowledgement of a command.
func SignAck(key *crypto.PrivateKey, chainID string, b AckBody) (Ack, error) {
	sig, err := sign(key, kindAck, chainID, b)
	return Ack{Body: b, Signature: sig}, err
}

// sign returns the hex signature of body, encoded as in a payload.
func sign(key *crypto.PrivateKey, kind, chainID string, body any) (string, error) {
	b, err := chain.EncodePayload(body)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(key.Sign(signBytes(kind, chainID, b))), nil
}

// verifyDevice checks sig over body against the device's registered key.
func verifyDevice(d *Device, kind, chainID string, body, sig []byte) error {
	pub, err := parsePubKey(d.PubKey)
	if err != nil {
		return fmt.Errorf("stored key of device %s: %w", d.ID, err) // checked at registration
	}
	if err := pub.Verify(signBytes(kind, chainID, body), sig); err != nil {
		if errors.Is(err, crypto.ErrBadSignature) {
			return fmt.Errorf("%w against the key registered for %s", ErrBadSignature, d.ID)
		}
		return fmt.Errorf("%w: %v", ErrBadSignature, err) // malformed, or high S
	}
	return nil
}

// DeviceKey derives a device's key from a seed and the device id, so
// that the simulator (and tests) can sign for many devices without
// keeping key files. Anyone who knows the seed holds the keys: it is for
// simulated devices only; a real device makes its own key (KeyGen).
func DeviceKey(seed, id string) *crypto.PrivateKey {
	for i := 0; ; i++ {
		h := chain.Sum([]byte(fmt.Sprintf("citychain/city/device-key\x00%s\x00%s\x00%d", seed, id, i)))
		if k, err := crypto.PrivateKeyFromBytes(h[:]); err == nil {
			return k
		}
	}
}

// PubKeyHex returns the hex of a key's compressed public key, the form
// Register takes.
func PubKeyHex(k *crypto.PrivateKey) string { return hex.EncodeToString(k.PublicKey().Bytes()) }

// LoadKeyFile reads a device key: one line of 64 hex digits.
func LoadKeyFile(path string) (*crypto.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := crypto.PrivateKeyFromHex(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("device key %s: %w", path, err)
	}
	return k, nil
}

// WriteKeyFile writes a device key for LoadKeyFile, readable by the
// owner only. It refuses to overwrite a file.
func WriteKeyFile(path string, k *crypto.PrivateKey) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, hex.EncodeToString(k.Bytes()))
	return errors.Join(err, f.Close())
}
