package p2p

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/citychain/citychain/chain"
)

// A frame is a 4-byte big-endian length followed by that many bytes. The
// reader names the largest length it accepts, so a peer cannot make this
// node allocate more than the protocol needs.

// writeFrame writes b as one frame.
func writeFrame(w io.Writer, b []byte) error {
	if len(b) > math.MaxUint32 {
		return fmt.Errorf("%w: frame of %d bytes", ErrTooLarge, len(b))
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// readFrame reads one frame of at most max bytes.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// status is what two nodes tell each other when they connect.
type status struct {
	ChainID  string
	Height   uint64
	Hash     []byte // latest block hash; empty if the node does not say
	Identity []byte // Config.Identity; empty if the node has none
}

// maxHashLen bounds status.Hash.
const maxHashLen = 64

// MaxIdentitySize bounds Config.Identity.
const MaxIdentitySize = 128

// encode lays a status out as: chain id length (1 byte), chain id,
// height (8 bytes, big-endian), hash length (1 byte), hash, and, only if
// there is an identity, its length (1 byte) and the identity.
func (s status) encode() []byte {
	hash := s.Hash
	if len(hash) > maxHashLen {
		hash = nil // never send what the peer would refuse
	}
	id := s.Identity
	if len(id) > MaxIdentitySize {
		id = nil
	}
	b := make([]byte, 0, 1+len(s.ChainID)+8+1+len(hash)+1+len(id))
	b = append(b, byte(len(s.ChainID)))
	b = append(b, s.ChainID...)
	b = binary.BigEndian.AppendUint64(b, s.Height)
	b = append(b, byte(len(hash)))
	b = append(b, hash...)
	if len(id) > 0 {
		b = append(b, byte(len(id)))
		b = append(b, id...)
	}
	return b
}

// decodeStatus is the strict inverse of encode: every byte must be used.
func decodeStatus(b []byte) (status, error) {
	var s status
	bad := func(what string) (status, error) {
		return status{}, fmt.Errorf("%w: status: %s", ErrProtocol, what)
	}
	if len(b) < 1 {
		return bad("empty")
	}
	n := int(b[0])
	b = b[1:]
	if n == 0 || n > maxChainIDLen || len(b) < n+8+1 {
		return bad("chain id length")
	}
	s.ChainID = string(b[:n])
	b = b[n:]
	s.Height = binary.BigEndian.Uint64(b)
	b = b[8:]
	n = int(b[0])
	b = b[1:]
	if n > maxHashLen || len(b) < n {
		return bad("hash length")
	}
	if n > 0 {
		s.Hash = append([]byte(nil), b[:n]...)
	}
	b = b[n:]
	if len(b) == 0 {
		return s, nil // no identity
	}
	n = int(b[0])
	b = b[1:]
	if n == 0 || n > MaxIdentitySize || len(b) != n {
		return bad("identity length")
	}
	s.Identity = append([]byte(nil), b...)
	return s, nil
}

// decodeSyncRequest parses the frame of a block sync request
// (chain.DecodeSyncRequest). Its errors wrap both ErrProtocol and the
// chain's ErrDecode.
func decodeSyncRequest(b []byte) (chain.SyncRequest, error) {
	r, err := chain.DecodeSyncRequest(b)
	if err != nil {
		return chain.SyncRequest{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return r, nil
}
