package node

import (
	"io"
	"log/slog"
	"math/big"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// curveN is the order of secp256k1.
var curveN, _ = new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)

// highSOf returns the same signature with s replaced by N-s: valid ECDSA,
// but not in the low-S form the chain accepts.
func highSOf(sig []byte) []byte {
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(curveN, s)
	out := append([]byte(nil), sig[:32]...)
	return append(out, s.FillBytes(make([]byte, 32))...)
}
