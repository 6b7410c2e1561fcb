package chain

import "github.com/citychain/citychain/chain/crypto"

// Every vote, proposal, commit and piece of evidence is checked against
// a validator's key, and a chain's validators are few and the same height
// after height. Parsing a compressed key takes a square root in the field,
// and a key verifies about five times as fast once it has its table, which a
// parsed key builds at its second check and keeps (crypto/keytable.go):
// so the validators' parsed keys are kept here across heights and sets.
// The cache changes no result (crypto.KeyCache says why).

// validatorKeyCacheSize bounds the kept keys: far more than a validator
// set holds, at about 4 KB a key with its table.
const validatorKeyCacheSize = 256

var validatorKeys = crypto.NewKeyCache(validatorKeyCacheSize)

// validatorKey parses a validator's 33-byte compressed public key, as
// crypto.ParseCompressedPublicKey does, through validatorKeys.
func validatorKey(pub []byte) (*crypto.PublicKey, error) {
	return validatorKeys.ParseCompressed(pub)
}
