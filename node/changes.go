package node

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/state"
)

// MaxBlockChanges bounds the changes one answer of
// GET /v1/blocks/{height}/changes lists; truncated says there were more.
const MaxBlockChanges = 200

// BlockChangesView is GET /v1/blocks/{height}/changes: how the block moved
// the state root. Changes are the state keys whose values differ between
// the parent's state root and the block's, in key order; for height 0
// they are the whole genesis state, compared with the empty tree.
type BlockChangesView struct {
	Height        uint64       `json:"height"`
	PrevStateRoot chain.Hash   `json:"prev_state_root"`
	StateRoot     chain.Hash   `json:"state_root"`
	Changes       []ChangeView `json:"changes"`
	Truncated     bool         `json:"truncated"`
}

// ChangeView is one state key a block wrote. Old is absent when the block
// created the key, New when it deleted it. OldJSON and NewJSON are the
// values decoded, when they are canonical CBOR maps or lists (objects an
// app stored with SetObject); raw values, such as the 8-byte big-endian
// balances and nonces, are only in hex.
type ChangeView struct {
	// Key is the state key in hex. A node whose store was written before
	// the state tree kept keys knows only the key's SHA-256 (KeyHash).
	Key     string `json:"key,omitempty"`
	KeyHash string `json:"key_hash,omitempty"`
	// App owns the key ("chain" for nonces and the validator set); Path is
	// the rest of the key in a readable form (see describeKey).
	App     string          `json:"app,omitempty"`
	Path    string          `json:"path,omitempty"`
	Old     string          `json:"old,omitempty"`
	New     string          `json:"new,omitempty"`
	OldJSON json.RawMessage `json:"old_json,omitempty"`
	NewJSON json.RawMessage `json:"new_json,omitempty"`
}

func (n *Node) handleBlockChanges(w http.ResponseWriter, r *http.Request) {
	h, ok := blockHeight(w, r, n.store.Latest().Height)
	if !ok {
		return
	}
	b, err := n.store.Block(h)
	if err != nil {
		n.fail(w, err)
		return
	}
	var prev chain.Hash // the empty tree, before genesis
	if h > 0 {
		parent, err := n.store.Block(h - 1)
		if err != nil {
			n.fail(w, err)
			return
		}
		prev = parent.Header.StateRoot
	}
	root := b.Header.StateRoot
	diffs, truncated, err := n.store.Tree().Diff(state.Hash(prev), state.Hash(root), MaxBlockChanges)
	if errors.Is(err, state.ErrMissingNode) {
		err = fmt.Errorf("changes of block %d: the state tree of root %s or %s is not in this node's store: %w", h, prev, root, err)
	}
	if err != nil {
		n.fail(w, err)
		return
	}
	v := BlockChangesView{Height: h, PrevStateRoot: prev, StateRoot: root,
		Changes: make([]ChangeView, len(diffs)), Truncated: truncated}
	for i, d := range diffs {
		v.Changes[i] = changeView(d)
	}
	WriteJSON(w, http.StatusOK, v)
}

// blockHeight reads the {height} of a block route, a number or "latest",
// the way GET /v1/blocks/{height} does. It writes the error answer and
// returns false for a malformed height or one above latest.
func blockHeight(w http.ResponseWriter, r *http.Request, latest uint64) (uint64, bool) {
	arg := r.PathValue("height")
	if arg == "latest" {
		return latest, true
	}
	h, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_height", fmt.Sprintf("height %q is not a number or \"latest\"", arg))
		return 0, false
	}
	if h > latest {
		WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("block %d does not exist yet; the latest is %d", h, latest))
		return 0, false
	}
	return h, true
}

func changeView(d state.Difference) ChangeView {
	var c ChangeView
	if d.Key != nil {
		c.Key = hex.EncodeToString(d.Key)
		c.App, c.Path = describeKey(d.Key)
	} else {
		c.KeyHash = hex.EncodeToString(d.Path[:])
	}
	if d.Old != nil {
		c.Old, c.OldJSON = hex.EncodeToString(d.Old), valueJSON(d.Old)
	}
	if d.New != nil {
		c.New, c.NewJSON = hex.EncodeToString(d.New), valueJSON(d.New)
	}
	return c
}

// Key prefixes of the state layout (protocol.md, "State").
var (
	appKeyPrefix   = []byte("a/")
	chainKeyPrefix = []byte("c/")
)

// describeKey names the owner of a state key and the rest of it: keys
// "a/{app}/rest" belong to app, keys "c/rest" to the chain itself. The
// path is the rest as text if it is all printable ASCII. Otherwise it is
// text up to the last '/' before the first byte that is not, then "0x"
// and the remaining bytes in hex: apps end keys with binary parts
// (addresses, big-endian numbers, hashes), and a binary part may well
// begin with printable bytes. So "a/bank/bal/" and a 20-byte address read
// app "bank", path "bal/0x1f2e...". A key outside both layouts has no app.
func describeKey(key []byte) (app, path string) {
	switch {
	case bytes.HasPrefix(key, appKeyPrefix):
		rest := key[len(appKeyPrefix):]
		if i := bytes.IndexByte(rest, '/'); i > 0 {
			return string(rest[:i]), readable(rest[i+1:])
		}
	case bytes.HasPrefix(key, chainKeyPrefix):
		return "chain", readable(key[len(chainKeyPrefix):])
	}
	return "", readable(key)
}

// readable returns b as text if it is printable ASCII, else as text up
// to the last '/' before the first byte that is not, and "0x" and hex
// from there.
func readable(b []byte) string {
	i := bytes.IndexFunc(b, func(r rune) bool { return r < 0x20 || r > 0x7e })
	if i < 0 {
		return string(b)
	}
	cut := bytes.LastIndexByte(b[:i], '/') + 1 // 0 when there is no '/'
	return string(b[:cut]) + "0x" + hex.EncodeToString(b[cut:])
}

// valueJSON returns a state value as JSON when it is the canonical CBOR
// encoding of a map or a list, and nil otherwise. Other CBOR kinds are
// not tried: a raw one-byte value would read as a small integer.
func valueJSON(v []byte) json.RawMessage {
	const majorArray, majorMap = 4, 5
	if len(v) == 0 || (v[0]>>5 != majorArray && v[0]>>5 != majorMap) {
		return nil
	}
	var x any
	if chain.Decode(v, &x) != nil { // strict: canonical bytes only
		return nil
	}
	j, err := chain.PayloadToJSON(v)
	if err != nil {
		return nil
	}
	return j
}
