package copyright

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// maxList bounds every list in an answer; Truncated says when more exist.
const maxList = 100

// WorkAnswer is the answer to work/{id}, by-hash/{sha256} and
// by-instance/{code}: the record, its look-alikes both ways, its grants
// and its trail, as of QueryHeight.
type WorkAnswer struct {
	Work           Work         `json:"work"`
	DataHash       string       `json:"datahash"` // the ISCC multihash form of the ID
	NearDuplicates []NearDup    `json:"near_duplicates"`
	Grants         []GrantView  `json:"grants"`
	Trail          []TrailEntry `json:"trail"`
	Truncated      bool         `json:"truncated,omitempty"`
	QueryHeight    uint64       `json:"query_height"`
}

// NearDup is a registered look-alike of a work.
type NearDup struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Distance uint64 `json:"distance"` // Hamming distance of the Data-Codes
	Relation string `json:"relation"` // "earlier" or "later" than the work asked about
	Height   uint64 `json:"height"`
	Time     string `json:"time"`
}

// GrantView is a grant with its status at the query height.
type GrantView struct {
	Grant
	Status string `json:"status"` // active, expired or revoked
}

// VerifyAnswer is the answer to verify/{sha256}: the record and a Merkle
// proof of its exact stored bytes under the state root of the block at
// Proof.Height. The client checks the proof against that block's header.
type VerifyAnswer struct {
	ChainID string      `json:"chain_id"`
	Work    Work        `json:"work"`
	Proof   *sdk.Proven `json:"proof"`
}

// GrantAnswer is the answer to grant/{id}: what a licensee shows, with
// the proof of the stored grant.
type GrantAnswer struct {
	ChainID string      `json:"chain_id"`
	Grant   GrantView   `json:"grant"`
	Proof   *sdk.Proven `json:"proof"`
}

// GrantsAnswer is the answer to grants/{licensee}.
type GrantsAnswer struct {
	Licensee    chain.Address `json:"licensee"`
	Grants      []GrantView   `json:"grants"`
	Truncated   bool          `json:"truncated,omitempty"`
	QueryHeight uint64        `json:"query_height"`
}

// HolderAnswer is the answer to holder/{address}.
type HolderAnswer struct {
	Holder      chain.Address `json:"holder"`
	Works       []Work        `json:"works"`
	Truncated   bool          `json:"truncated,omitempty"`
	QueryHeight uint64        `json:"query_height"`
}

// Query serves, under /v1/apps/copyright/:
//
//	work/{id}              record, look-alikes, grants, trail
//	by-hash/{sha256}       the same, found by the file's SHA-256
//	by-instance/{code}     the same, found by an Instance-Code of 64 to 256 bits
//	verify/{sha256}        the record with a proof (sdk.Proven)
//	grant/{id}             one grant with a proof
//	grants/{address}       the grants given to a licensee
//	holder/{address}       the works an address holds
//	params                 the genesis parameters
func (*App) Query(q *chain.QueryContext, path []string, _ map[string]string) (any, error) {
	st := q.Store()
	arg := ""
	if len(path) == 2 {
		arg = path[1]
	}
	switch {
	case len(path) == 2 && path[0] == "work":
		id, err := ParseWorkID(arg)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", chain.ErrBadPayload, err)
		}
		return workAnswer(q, id)
	case len(path) == 2 && path[0] == "by-hash":
		id, err := idBySHA(st, arg)
		if err != nil {
			return nil, err
		}
		return workAnswer(q, id)
	case len(path) == 2 && path[0] == "by-instance":
		id, err := idByInstance(st, arg)
		if err != nil {
			return nil, err
		}
		return workAnswer(q, id)
	case len(path) == 2 && path[0] == "verify":
		id, err := idBySHA(st, arg)
		if err != nil {
			return nil, err
		}
		w, err := loadWork(st, id)
		if err != nil {
			return nil, err
		}
		p, err := sdk.Prove(q, keyWork(id))
		if err != nil {
			return nil, err
		}
		return VerifyAnswer{ChainID: q.ChainID, Work: *w, Proof: p}, nil
	case len(path) == 2 && path[0] == "grant":
		n, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: grant id %q is not a number", chain.ErrBadPayload, arg)
		}
		g, err := loadGrant(st, n)
		if err != nil {
			return nil, err
		}
		p, err := sdk.Prove(q, keyGrant(n))
		if err != nil {
			return nil, err
		}
		return GrantAnswer{ChainID: q.ChainID, Grant: view(q, g), Proof: p}, nil
	case len(path) == 2 && path[0] == "grants":
		a, err := chain.ParseAddress(arg)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", chain.ErrBadPayload, err)
		}
		ans := GrantsAnswer{Licensee: a, Grants: []GrantView{}, QueryHeight: q.Height}
		prefix := cat(prefixLic, a[:])
		ans.Truncated, err = each(st, prefix, func(k, _ []byte) error {
			n, err := sdk.BytesUint64(k[len(prefix):])
			if err != nil {
				return err
			}
			g, err := loadGrant(st, n)
			if err != nil {
				return err
			}
			ans.Grants = append(ans.Grants, view(q, g))
			return nil
		})
		return ans, err
	case len(path) == 2 && path[0] == "holder":
		a, err := chain.ParseAddress(arg)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", chain.ErrBadPayload, err)
		}
		ans := HolderAnswer{Holder: a, Works: []Work{}, QueryHeight: q.Height}
		prefix := cat(prefixHolder, a[:])
		ans.Truncated, err = each(st, prefix, func(k, _ []byte) error {
			id, err := idFromKey(k[len(prefix):])
			if err != nil {
				return err
			}
			w, err := loadWork(st, id)
			if err != nil {
				return err
			}
			ans.Works = append(ans.Works, *w)
			return nil
		})
		return ans, err
	case len(path) == 1 && path[0] == "params":
		return loadParams(st)
	}
	return nil, fmt.Errorf("%w: copyright has queries work/{id}, by-hash/{sha256}, by-instance/{code}, verify/{sha256}, grant/{id}, grants/{address}, holder/{address}, params", chain.ErrNotFound)
}

// workAnswer gathers everything about one work.
func workAnswer(q *chain.QueryContext, id WorkID) (*WorkAnswer, error) {
	st := q.Store()
	w, err := loadWork(st, id)
	if err != nil {
		return nil, err
	}
	ans := &WorkAnswer{Work: *w, DataHash: DataHash(id[:]), NearDuplicates: []NearDup{}, Grants: []GrantView{},
		Trail: []TrailEntry{}, QueryHeight: q.Height}
	nearPrefix := cat(prefixNear, id[:])
	t1, err := each(st, nearPrefix, func(k, v []byte) error {
		var link nearLink
		if err := chain.Decode(v, &link); err != nil {
			return err
		}
		otherID, err := idFromKey(k[len(nearPrefix):])
		if err != nil {
			return err
		}
		other, err := loadWork(st, otherID)
		if err != nil {
			return err
		}
		rel := "later"
		if link.Earlier {
			rel = "earlier"
		}
		ans.NearDuplicates = append(ans.NearDuplicates, NearDup{ID: other.ID, Title: other.Title,
			Distance: link.Distance, Relation: rel, Height: other.Height, Time: other.Time})
		return nil
	})
	if err != nil {
		return nil, err
	}
	grantPrefix := cat(prefixWGrant, id[:])
	t2, err := each(st, grantPrefix, func(k, _ []byte) error {
		n, err := sdk.BytesUint64(k[len(grantPrefix):])
		if err != nil {
			return err
		}
		g, err := loadGrant(st, n)
		if err != nil {
			return err
		}
		ans.Grants = append(ans.Grants, view(q, g))
		return nil
	})
	if err != nil {
		return nil, err
	}
	t3, err := each(st, cat(prefixTrail, id[:]), func(_, v []byte) error {
		var e TrailEntry
		if err := chain.Decode(v, &e); err != nil {
			return err
		}
		ans.Trail = append(ans.Trail, e)
		return nil
	})
	ans.Truncated = t1 || t2 || t3
	return ans, err
}

func view(q *chain.QueryContext, g *Grant) GrantView {
	return GrantView{Grant: *g, Status: g.Status(q.Height, q.Time)}
}

// errStop ends an iteration early; each turns it into truncated=true.
var errStop = errors.New("stop")

// each calls fn for at most maxList keys under prefix and reports whether
// there were more.
func each(st *chain.Store, prefix []byte, fn func(k, v []byte) error) (truncated bool, err error) {
	n := 0
	err = st.Iterate(prefix, func(k, v []byte) error {
		if n == maxList {
			return errStop
		}
		n++
		return fn(k, v)
	})
	if errors.Is(err, errStop) {
		return true, nil
	}
	return false, err
}

func idBySHA(st *chain.Store, s string) (WorkID, error) {
	sum, err := parseSHA256("sha256", strings.ToLower(s))
	if err != nil {
		return WorkID{}, err
	}
	id, ok := workBySHA(st, sum)
	if !ok {
		return id, fmt.Errorf("%w: no work with sha256 %s is registered", chain.ErrNotFound, s)
	}
	return id, nil
}

// idByInstance finds the work whose ID starts with the digest of an
// Instance-Code of any length, such as the common 64-bit form.
func idByInstance(st *chain.Store, s string) (WorkID, error) {
	var id WorkID
	c, err := ParseCode(s)
	if err != nil {
		return id, fmt.Errorf("%w: %w", chain.ErrBadPayload, err)
	}
	if c.Type != MainInstance {
		return id, fmt.Errorf("%w: %s is a %s code, not an Instance-Code", chain.ErrBadPayload, s, c.Type)
	}
	prefix := cat(prefixWork, c.Digest)
	matches := 0
	err = st.Iterate(prefix, func(k, _ []byte) error {
		matches++
		if matches > 1 {
			return errStop
		}
		copy(id[:], k[len(prefixWork):])
		return nil
	})
	switch {
	case errors.Is(err, errStop):
		return id, fmt.Errorf("%w: %s matches more than one work; give the 256-bit Instance-Code", chain.ErrBadPayload, s)
	case err != nil:
		return id, err
	case matches == 0:
		return id, fmt.Errorf("%w: no work with Instance-Code %s", chain.ErrNotFound, s)
	}
	if !bytes.HasPrefix(id[:], c.Digest) {
		return id, fmt.Errorf("index returned %x for prefix %x", id, c.Digest)
	}
	return id, nil
}

// idFromKey reads the work ID at the end of an index key.
func idFromKey(b []byte) (WorkID, error) {
	var id WorkID
	if len(b) != len(id) {
		return id, fmt.Errorf("index key ends in %d bytes, want a %d-byte work id", len(b), len(id))
	}
	copy(id[:], b)
	return id, nil
}
