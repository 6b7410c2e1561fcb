package copyright

import (
	"fmt"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Work is the registry's record of one file: its fingerprints, what the
// registrant said about it, who holds it now, and when it was filed.
// It is stored under work/{id} and is what a certificate proves.
type Work struct {
	ID         string        `json:"id"`        // 256-bit Instance-Code
	SHA256     string        `json:"sha256"`    // hex
	DataCode   string        `json:"data_code"` // 64-bit Data-Code
	Size       uint64        `json:"size"`
	Title      string        `json:"title"`
	Creator    string        `json:"creator"`
	MediaType  string        `json:"media_type"`
	License    string        `json:"license"`
	Registrant chain.Address `json:"registrant"` // who filed it; never changes
	Holder     chain.Address `json:"holder"`     // who may transfer and license it
	Height     uint64        `json:"height"`     // block of the registration
	Time       string        `json:"time"`       // that block's time
	TxHash     chain.Hash    `json:"tx_hash"`
	// NearDuplicateOf lists the earlier works whose Data-Code was within
	// the genesis distance when this one was filed: the flag. It is fixed
	// at filing; later look-alikes appear in the work query.
	NearDuplicateOf []string `json:"near_duplicate_of,omitempty"`
}

// Grant is a licence given to one licensee, stored under grant/{id}.
type Grant struct {
	ID            uint64        `json:"id"`
	Work          string        `json:"work"`
	Licensee      chain.Address `json:"licensee"`
	Grantor       chain.Address `json:"grantor"` // the holder who granted it
	Scope         string        `json:"scope"`
	ExpiresHeight uint64        `json:"expires_height,omitempty"` // inactive from this height on
	ExpiresAt     string        `json:"expires_at,omitempty"`     // inactive from this time on
	Height        uint64        `json:"height"`
	Time          string        `json:"time"`
	RevokedHeight uint64        `json:"revoked_height,omitempty"`
	RevokedTime   string        `json:"revoked_time,omitempty"`
}

// Grant states, as Status reports them.
const (
	GrantActive  = "active"
	GrantExpired = "expired"
	GrantRevoked = "revoked"
)

// Status returns the grant's state in the block at height and time t.
// A grant is active until it is revoked or its expiry height or time
// is reached.
func (g *Grant) Status(height uint64, t time.Time) string {
	if g.RevokedHeight != 0 {
		return GrantRevoked
	}
	if g.ExpiresHeight != 0 && height >= g.ExpiresHeight {
		return GrantExpired
	}
	if exp, err := time.Parse(time.RFC3339Nano, g.ExpiresAt); err == nil && !t.Before(exp) {
		return GrantExpired // an empty ExpiresAt does not parse: no expiry time
	}
	return GrantActive
}

// TrailEntry is one line of a work's history: its registration, each
// transfer, grant and revocation, and every annotation.
type TrailEntry struct {
	Seq      uint64        `json:"seq"`
	Kind     string        `json:"kind"` // an action name
	Actor    chain.Address `json:"actor"`
	ByHolder bool          `json:"by_holder"` // the actor held the work then
	Text     string        `json:"text,omitempty"`
	Height   uint64        `json:"height"`
	Time     string        `json:"time"`
	TxHash   chain.Hash    `json:"tx_hash"`
}

// nearLink is stored under near/{a}/{b}: work b looks like work a.
type nearLink struct {
	Distance uint64 `json:"distance"`
	Earlier  bool   `json:"earlier"` // b was filed before a
}

// Params are fixed at genesis.
type Params struct {
	// MaxDistance is the largest Hamming distance between two Data-Codes
	// that flags the later work as a near-duplicate of the earlier. At
	// most MaxDistanceLimit.
	MaxDistance uint64 `json:"max_distance"`
}

// MaxDistanceLimit caps Params.MaxDistance. The near-duplicate index
// splits the 64 bits into MaxDistance+1 bands; at this cap the narrowest
// band has 8 bits, so a band bucket takes about 1/256 of all works.
const MaxDistanceLimit = 7

// maxNearLinks bounds the look-alikes recorded for one registration (the
// closest ones), so a crowd of similar files cannot make a registration
// write without bound.
const maxNearLinks = 16

// State keys, relative to the app's prefix "a/copyright/" (README.md,
// "State"). IDs and hashes are raw bytes of fixed length, so no
// separator is needed after them.
const (
	keyParams   = "params"
	keyGrantSeq = "seq/grant"

	// A work, its indexes and its history.
	prefixWork   = "work/"
	prefixSHA    = "sha/"
	prefixHolder = "holder/"
	prefixTrail  = "trail/"
	prefixTrailN = "trailn/"

	// The near-duplicate index (near.go) and the look-alike links.
	prefixBucket  = "bucket/"
	prefixBucketN = "bucketn/"
	prefixNear    = "near/"

	// Grants and their indexes by work and by licensee.
	prefixGrant  = "grant/"
	prefixWGrant = "wgrant/"
	prefixLic    = "lic/"
)

func keyWork(id WorkID) []byte                    { return sdk.Key(prefixWork, id[:]) }
func keySHA(sum []byte) []byte                    { return sdk.Key(prefixSHA, sum) }
func keyNear(a, b WorkID) []byte                  { return sdk.Key(prefixNear, a[:], b[:]) }
func keyHolder(h chain.Address, id WorkID) []byte { return sdk.Key(prefixHolder, h[:], id[:]) }
func keyGrant(id uint64) []byte                   { return sdk.Key(prefixGrant, sdk.Uint64Bytes(id)) }
func keyWorkGrant(w WorkID, n uint64) []byte      { return sdk.Key(prefixWGrant, w[:], sdk.Uint64Bytes(n)) }
func keyLicensee(a chain.Address, n uint64) []byte {
	return sdk.Key(prefixLic, a[:], sdk.Uint64Bytes(n))
}
func keyTrail(w WorkID, seq uint64) []byte { return sdk.Key(prefixTrail, w[:], sdk.Uint64Bytes(seq)) }
func keyTrailN(w WorkID) []byte            { return sdk.Key(prefixTrailN, w[:]) }

// loadParams returns the genesis parameters; a chain whose genesis never
// stored them runs with the default.
func loadParams(st *chain.Store) (Params, error) {
	return sdk.LoadOr(st, []byte(keyParams), DefaultGenesis())
}

func loadWork(st *chain.Store, id WorkID) (*Work, error) {
	return sdk.Load[Work](st, keyWork(id), "work "+id.String())
}

func loadGrant(st *chain.Store, id uint64) (*Grant, error) {
	return sdk.Load[Grant](st, keyGrant(id), fmt.Sprint("grant ", id))
}

// workBySHA returns the ID filed under a SHA-256, if any.
func workBySHA(st *chain.Store, sum []byte) (WorkID, bool) {
	id, err := idFromKey(st.Get(keySHA(sum)))
	return id, err == nil
}

// idFromKey reads a work ID: the end of an index key, or the value of
// the SHA-256 index.
func idFromKey(b []byte) (WorkID, error) {
	var id WorkID
	if len(b) != len(id) {
		return id, fmt.Errorf("index entry ends in %d bytes, want a %d-byte work id", len(b), len(id))
	}
	copy(id[:], b)
	return id, nil
}

// register files a new work: it refuses exact duplicates, finds the
// near-duplicates through the band index, and writes the record and its
// indexes. m has passed Validate.
func register(ctx *chain.Context, m *Register) error {
	st := ctx.Store()
	params, err := loadParams(st)
	if err != nil {
		return err
	}
	id, _ := ParseWorkID(m.InstanceCode)
	sum, _ := sdk.ParseHex("sha256", m.SHA256, 32)
	dc, _ := ParseCode(m.DataCode)
	if prev, err := sdk.Find[Work](st, keyWork(id)); err != nil || prev != nil {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: instance_code %s was filed by %s at height %d", ErrDuplicate, id, prev.Registrant, prev.Height)
	}
	if prevID, ok := workBySHA(st, sum); ok {
		prev, err := loadWork(st, prevID)
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: sha256 %s was filed as %s by %s at height %d", ErrDuplicate, m.SHA256, prev.ID, prev.Registrant, prev.Height)
	}
	near, err := fileNear(st, id, dataBits(dc), params.MaxDistance)
	if err != nil {
		return err
	}
	w := &Work{ID: id.String(), SHA256: m.SHA256, DataCode: m.DataCode, Size: m.Size, Title: m.Title,
		Creator: m.Creator, MediaType: m.MediaType, License: m.License, Registrant: ctx.Sender,
		Holder: ctx.Sender, Height: ctx.Height, Time: sdk.FormatTime(ctx.Time), TxHash: ctx.TxHash}
	ctx.Emit("register", chain.A("work", w.ID), chain.A("holder", w.Holder), chain.A("sha256", w.SHA256),
		chain.A("near_duplicates", uint64(len(near))))
	for _, n := range near {
		w.NearDuplicateOf = append(w.NearDuplicateOf, n.id.String())
		sdk.Save(st, keyNear(id, n.id), nearLink{Distance: n.distance, Earlier: true})
		sdk.Save(st, keyNear(n.id, id), nearLink{Distance: n.distance, Earlier: false})
		ctx.Emit("near_duplicate", chain.A("work", w.ID), chain.A("of", n.id.String()), chain.A("distance", n.distance))
	}
	sdk.Save(st, keyWork(id), w)
	st.Set(keySHA(sum), id[:])
	st.Set(keyHolder(w.Holder, id), sdk.Present)
	return appendTrail(ctx, id, w, ActionRegister, "")
}

// appendTrail adds an entry to the work's history.
func appendTrail(ctx *chain.Context, id WorkID, w *Work, kind, text string) error {
	st := ctx.Store()
	n, err := sdk.NextID(st, keyTrailN(id))
	if err != nil {
		return err
	}
	sdk.Save(st, keyTrail(id, n), TrailEntry{Seq: n, Kind: kind, Actor: ctx.Sender, ByHolder: ctx.Sender == w.Holder,
		Text: text, Height: ctx.Height, Time: sdk.FormatTime(ctx.Time), TxHash: ctx.TxHash})
	return nil
}

// heldWork loads the work named work, which the sender must hold to do
// what; the error names the holder.
func heldWork(ctx *chain.Context, work, what string) (WorkID, *Work, error) {
	id, err := ParseWorkID(work)
	if err != nil {
		return id, nil, err
	}
	w, err := loadWork(ctx.Store(), id)
	if err != nil {
		return id, nil, err
	}
	if ctx.Sender != w.Holder {
		return id, nil, fmt.Errorf("%w: %s does not hold %s and cannot %s; %s does", chain.ErrUnauthorized, ctx.Sender, w.ID, what, w.Holder)
	}
	return id, w, nil
}

// transfer hands the work to a new holder; only the holder may.
func transfer(ctx *chain.Context, m *Transfer) error {
	st := ctx.Store()
	to, _ := chain.ParseAddress(m.To)
	id, w, err := heldWork(ctx, m.Work, "transfer it")
	if err != nil {
		return err
	}
	if to == w.Holder {
		return fmt.Errorf("%w: to: %s already holds %s", chain.ErrBadPayload, to, w.ID)
	}
	if err := appendTrail(ctx, id, w, ActionTransfer, "to "+to.String()); err != nil {
		return err
	}
	st.Delete(keyHolder(w.Holder, id))
	st.Set(keyHolder(to, id), sdk.Present)
	ctx.Emit("transfer", chain.A("work", w.ID), chain.A("from", w.Holder), chain.A("to", to))
	w.Holder = to
	sdk.Save(st, keyWork(id), w)
	return nil
}

// grant licenses a work; only the holder may, and the expiry must lie
// ahead of the current block.
func grant(ctx *chain.Context, m *GrantLicense) error {
	st := ctx.Store()
	licensee, _ := chain.ParseAddress(m.Licensee)
	id, w, err := heldWork(ctx, m.Work, "license it")
	if err != nil {
		return err
	}
	if licensee == w.Holder {
		return fmt.Errorf("%w: licensee: %s holds %s already", chain.ErrBadPayload, licensee, w.ID)
	}
	if m.ExpiresHeight != 0 && m.ExpiresHeight <= ctx.Height {
		return fmt.Errorf("%w: expires_height: %d is not after the current height %d", chain.ErrBadPayload, m.ExpiresHeight, ctx.Height)
	}
	if m.ExpiresAt != "" {
		if exp, _ := time.Parse(time.RFC3339Nano, m.ExpiresAt); !exp.After(ctx.Time) {
			return fmt.Errorf("%w: expires_at: %s is not after the block time %s", chain.ErrBadPayload, m.ExpiresAt, sdk.FormatTime(ctx.Time))
		}
	}
	seq, err := sdk.NextID(st, []byte(keyGrantSeq))
	if err != nil {
		return err
	}
	g := &Grant{ID: seq, Work: w.ID, Licensee: licensee, Grantor: ctx.Sender, Scope: m.Scope,
		ExpiresHeight: m.ExpiresHeight, ExpiresAt: m.ExpiresAt, Height: ctx.Height, Time: sdk.FormatTime(ctx.Time)}
	sdk.Save(st, keyGrant(seq), g)
	st.Set(keyWorkGrant(id, seq), sdk.Present)
	st.Set(keyLicensee(licensee, seq), sdk.Present)
	ctx.Emit("grant", chain.A("grant", seq), chain.A("work", w.ID), chain.A("licensee", licensee))
	return appendTrail(ctx, id, w, ActionGrant, fmt.Sprintf("grant %d to %s: %s", seq, licensee, m.Scope))
}

// revoke ends a grant; only the current holder of its work may.
func revoke(ctx *chain.Context, m *Revoke) error {
	st := ctx.Store()
	g, err := loadGrant(st, m.Grant)
	if err != nil {
		return err
	}
	id, w, err := heldWork(ctx, g.Work, "revoke its grants")
	if err != nil {
		return err
	}
	if g.RevokedHeight != 0 {
		return fmt.Errorf("%w: grant %d was revoked at height %d", ErrInactiveGrant, g.ID, g.RevokedHeight)
	}
	g.RevokedHeight, g.RevokedTime = ctx.Height, sdk.FormatTime(ctx.Time)
	sdk.Save(st, keyGrant(g.ID), g)
	ctx.Emit("revoke", chain.A("grant", g.ID), chain.A("work", w.ID))
	text := fmt.Sprintf("grant %d revoked", g.ID)
	if m.Reason != "" {
		text += ": " + m.Reason
	}
	return appendTrail(ctx, id, w, ActionRevoke, text)
}

// annotate adds anyone's note to a work's trail.
func annotate(ctx *chain.Context, m *Annotate) error {
	id, _ := ParseWorkID(m.Work)
	w, err := loadWork(ctx.Store(), id)
	if err != nil {
		return err
	}
	ctx.Emit("annotate", chain.A("work", w.ID), chain.A("author", ctx.Sender))
	return appendTrail(ctx, id, w, ActionAnnotate, m.Text)
}
