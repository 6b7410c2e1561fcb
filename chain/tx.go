package chain

import (
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/citychain/citychain/chain/crypto"
	"github.com/fxamacker/cbor/v2"
)

// Limits on a transaction, checked by ValidateBasic.
const (
	// MaxTxSize bounds the canonical encoding of a whole transaction.
	MaxTxSize = 64 << 10
	// MaxNameLen bounds chain ids, app names and action names.
	MaxNameLen = 64
)

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// Tx is a signed request to one app. The signature covers the canonical
// encoding of every field but Signature itself (SignBytes); the
// transaction hash is SHA-256 over the canonical encoding of the whole
// transaction, signature included (Hash).
//
// Payload holds the canonical CBOR of the app's message: a map whose JSON
// form is the "payload" object of DESIGN.md's transaction JSON.
type Tx struct {
	ChainID   string          `cbor:"chain_id"`
	App       string          `cbor:"app"`
	Action    string          `cbor:"action"`
	Payload   cbor.RawMessage `cbor:"payload"`
	Nonce     uint64          `cbor:"nonce"`
	PubKey    []byte          `cbor:"pubkey"`
	Signature []byte          `cbor:"signature,omitempty"`
}

// SignBytes returns the bytes a sender signs: the canonical encoding of
// the transaction without its signature field.
func (tx *Tx) SignBytes() []byte {
	c := *tx
	c.Signature = nil
	return MustEncode(&c)
}

// Encode returns the canonical encoding of the signed transaction.
func (tx *Tx) Encode() []byte { return MustEncode(tx) }

// Hash returns SHA-256 of the canonical encoding.
func (tx *Tx) Hash() Hash { return Sum(tx.Encode()) }

// Sender returns the address of the signing key.
func (tx *Tx) Sender() Address { return AddressFromPubKeyBytes(tx.PubKey) }

// Sign sets PubKey from key and signs the transaction.
func (tx *Tx) Sign(key *crypto.PrivateKey) {
	tx.PubKey = key.PublicKey().Bytes()
	tx.Signature = key.Sign(tx.SignBytes())
}

// DecodeTx parses the canonical encoding of a transaction. It does not
// verify the signature; see ValidateBasic and VerifySignature.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidTx, len(b), MaxTxSize)
	}
	var tx Tx
	if err := Decode(b, &tx); err != nil {
		return nil, fmt.Errorf("decode tx: %w", err)
	}
	if err := checkCanonicalPayload(tx.Payload); err != nil {
		return nil, fmt.Errorf("decode tx: %w", err)
	}
	return &tx, nil
}

// ValidateBasic runs the stateless checks: field shapes, the chain id and
// the signature. It is what the mempool and gossip run before anything
// touches state. Errors wrap ErrWrongChain, ErrInvalidTx or a
// crypto error kind.
func (tx *Tx) ValidateBasic(chainID string) error { return tx.ValidateBasicWith(chainID, nil) }

// ValidateBasicWith is ValidateBasic with the sender's parsed key taken
// from keys (see VerifySignatureWith).
func (tx *Tx) ValidateBasicWith(chainID string, keys *crypto.KeyCache) error {
	if tx.ChainID != chainID {
		return fmt.Errorf("%w: tx is for %q, this chain is %q", ErrWrongChain, tx.ChainID, chainID)
	}
	if err := tx.checkShape(); err != nil {
		return err
	}
	return tx.VerifySignatureWith(keys)
}

func (tx *Tx) checkShape() error {
	if !namePattern.MatchString(tx.App) || len(tx.App) > MaxNameLen {
		return fmt.Errorf("%w: app name %q is not a lowercase identifier", ErrInvalidTx, tx.App)
	}
	if !namePattern.MatchString(tx.Action) || len(tx.Action) > MaxNameLen {
		return fmt.Errorf("%w: action name %q is not a lowercase identifier", ErrInvalidTx, tx.Action)
	}
	if len(tx.Payload) == 0 {
		return fmt.Errorf("%w: payload is missing", ErrInvalidTx)
	}
	if len(tx.Payload) > MaxTxSize {
		return fmt.Errorf("%w: payload too large", ErrInvalidTx)
	}
	if len(tx.PubKey) != crypto.PublicKeySize {
		return fmt.Errorf("%w: pubkey must be %d bytes (compressed), got %d", ErrInvalidTx, crypto.PublicKeySize, len(tx.PubKey))
	}
	if len(tx.Signature) != crypto.SignatureSize {
		return fmt.Errorf("%w: signature must be %d bytes (r||s), got %d", ErrInvalidTx, crypto.SignatureSize, len(tx.Signature))
	}
	return nil
}

// VerifySignature checks the signature against PubKey over SignBytes.
func (tx *Tx) VerifySignature() error { return tx.VerifySignatureWith(nil) }

// VerifySignatureWith is VerifySignature with PubKey parsed through
// keys: a sender whose key the cache holds costs no parsing. The
// signature itself is verified every time. A nil cache parses the key.
func (tx *Tx) VerifySignatureWith(keys *crypto.KeyCache) error {
	pub, err := keys.ParseCompressed(tx.PubKey)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTx, err)
	}
	if err := pub.Verify(tx.SignBytes(), tx.Signature); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTx, err)
	}
	return nil
}

// PubKeyHex returns the public key in hex.
func (tx *Tx) PubKeyHex() string { return hex.EncodeToString(tx.PubKey) }
