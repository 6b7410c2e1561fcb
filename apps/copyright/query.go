package copyright

import (
	"fmt"
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
	sdk.Listed
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
	Licensee chain.Address `json:"licensee"`
	Grants   []GrantView   `json:"grants"`
	sdk.Listed
}

// HolderAnswer is the answer to holder/{address}.
type HolderAnswer struct {
	Holder chain.Address `json:"holder"`
	Works  []Work        `json:"works"`
	sdk.Listed
}

// routes are the queries served under /v1/apps/copyright/.
var routes = []sdk.Route{
	sdk.Query("work/{id}", "a work: record, look-alikes both ways, grants and trail", workBy("id", idByWorkID, workAnswer)),
	sdk.Query("by-hash/{sha256}", "the same, found by the file's SHA-256", workBy("sha256", idBySHA, workAnswer)),
	sdk.Query("by-instance/{code}", "the same, found by an Instance-Code of 64 to 256 bits", workBy("code", idByInstance, workAnswer)),
	sdk.Query("verify/{sha256}", "the record with a Merkle proof of its stored bytes", workBy("sha256", idBySHA, verifyAnswer)),
	sdk.Query("grant/{id}", "one grant with its status and proof", sdk.ByNumber("id", queryGrant)),
	sdk.Query("grants/{address}", "the grants given to a licensee", sdk.ByAddress("address", queryGrants)),
	sdk.Query("holder/{address}", "the works an address holds", sdk.ByAddress("address", queryHolder)),
	sdk.Query("params", "the genesis parameters", func(q *chain.QueryContext, _ sdk.Params) (any, error) {
		return loadParams(q.Store())
	}),
}

// workBy answers about the work that find names by the path capture.
func workBy(capture string, find func(st *chain.Store, s string) (WorkID, error),
	answer func(q *chain.QueryContext, id WorkID) (any, error)) func(*chain.QueryContext, sdk.Params) (any, error) {
	return func(q *chain.QueryContext, p sdk.Params) (any, error) {
		id, err := find(q.Store(), p.Path(capture))
		if err != nil {
			return nil, err
		}
		return answer(q, id)
	}
}

// verifyAnswer is the VerifyAnswer of the work id.
func verifyAnswer(q *chain.QueryContext, id WorkID) (any, error) {
	w, proof, err := sdk.LoadProven[Work](q, keyWork(id), "work "+id.String())
	if err != nil {
		return nil, err
	}
	return VerifyAnswer{ChainID: q.ChainID, Work: *w, Proof: proof}, nil
}

func queryGrant(q *chain.QueryContext, n uint64) (any, error) {
	g, proof, err := sdk.LoadProven[Grant](q, keyGrant(n), fmt.Sprint("grant ", n))
	if err != nil {
		return nil, err
	}
	return GrantAnswer{ChainID: q.ChainID, Grant: GrantView{Grant: *g, Status: g.Status(q.Height, q.Time)}, Proof: proof}, nil
}

func queryGrants(q *chain.QueryContext, a chain.Address) (any, error) {
	var err error
	ans := GrantsAnswer{Licensee: a, Listed: sdk.ListedAt(q)}
	ans.Grants, ans.Truncated, err = sdk.List(q.Store(), sdk.Key(prefixLic, a[:]), nil, maxList, grantView(q))
	return ans, err
}

func queryHolder(q *chain.QueryContext, a chain.Address) (any, error) {
	var err error
	st := q.Store()
	ans := HolderAnswer{Holder: a, Listed: sdk.ListedAt(q)}
	ans.Works, ans.Truncated, err = sdk.List(st, sdk.Key(prefixHolder, a[:]), nil, maxList, func(rest, _ []byte) (*Work, error) {
		return workAt(st, rest)
	})
	return ans, err
}

// workAnswer gathers everything about one work: its WorkAnswer.
func workAnswer(q *chain.QueryContext, id WorkID) (any, error) {
	st := q.Store()
	w, err := loadWork(st, id)
	if err != nil {
		return nil, err
	}
	ans := &WorkAnswer{Work: *w, DataHash: DataHash(id[:]), Listed: sdk.ListedAt(q)}
	var t1, t2, t3 bool
	ans.NearDuplicates, t1, err = sdk.List(st, sdk.Key(prefixNear, id[:]), nil, maxList, func(rest, v []byte) (*NearDup, error) {
		var link nearLink
		if err := chain.Decode(v, &link); err != nil {
			return nil, err
		}
		other, err := workAt(st, rest)
		if err != nil {
			return nil, err
		}
		rel := "later"
		if link.Earlier {
			rel = "earlier"
		}
		return &NearDup{ID: other.ID, Title: other.Title, Distance: link.Distance, Relation: rel, Height: other.Height, Time: other.Time}, nil
	})
	if err != nil {
		return nil, err
	}
	if ans.Grants, t2, err = sdk.List(st, sdk.Key(prefixWGrant, id[:]), nil, maxList, grantView(q)); err != nil {
		return nil, err
	}
	ans.Trail, t3, err = sdk.Records[TrailEntry](st, sdk.Key(prefixTrail, id[:]), nil, maxList, nil)
	ans.Truncated = t1 || t2 || t3
	return ans, err
}

// grantView makes the GrantView of the grant whose number ends an index
// key, for sdk.List.
func grantView(q *chain.QueryContext) func(rest, _ []byte) (*GrantView, error) {
	return func(rest, _ []byte) (*GrantView, error) {
		n, err := sdk.BytesUint64(rest)
		if err != nil {
			return nil, err
		}
		g, err := loadGrant(q.Store(), n)
		if err != nil {
			return nil, err
		}
		return &GrantView{Grant: *g, Status: g.Status(q.Height, q.Time)}, nil
	}
}

// workAt loads the work whose ID ends an index key.
func workAt(st *chain.Store, keyEnd []byte) (*Work, error) {
	id, err := idFromKey(keyEnd)
	if err != nil {
		return nil, err
	}
	return loadWork(st, id)
}

func idByWorkID(_ *chain.Store, s string) (WorkID, error) {
	id, err := ParseWorkID(s)
	if err != nil {
		return id, fmt.Errorf("%w: %w", chain.ErrBadPayload, err)
	}
	return id, nil
}

func idBySHA(st *chain.Store, s string) (WorkID, error) {
	sum, err := sdk.ParseHex("sha256", strings.ToLower(s), 32)
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
	c, err := ParseCode(s)
	if err != nil {
		return WorkID{}, fmt.Errorf("%w: %w", chain.ErrBadPayload, err)
	}
	if c.Type != MainInstance {
		return WorkID{}, fmt.Errorf("%w: %s is a %s code, not an Instance-Code", chain.ErrBadPayload, s, c.Type)
	}
	var ids []WorkID
	more, err := sdk.Each(st, sdk.Key(prefixWork, c.Digest), nil, 1, func(k, _ []byte) (bool, error) {
		id, err := idFromKey(k[len(prefixWork):])
		ids = append(ids, id)
		return true, err
	})
	switch {
	case err != nil:
		return WorkID{}, err
	case more:
		return WorkID{}, fmt.Errorf("%w: %s matches more than one work; give the 256-bit Instance-Code", chain.ErrBadPayload, s)
	case len(ids) == 0:
		return WorkID{}, fmt.Errorf("%w: no work with Instance-Code %s", chain.ErrNotFound, s)
	}
	return ids[0], nil
}
