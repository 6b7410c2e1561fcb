package copyright

import (
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Name is the app's name in transactions and URLs.
const Name = "copyright"

// The actions of the module.
const (
	ActionRegister = "register" // file a work by its fingerprints
	ActionTransfer = "transfer" // hand a work to another holder
	ActionGrant    = "grant"    // license a work to someone
	ActionRevoke   = "revoke"   // end a grant
	ActionAnnotate = "annotate" // add a note to a work's trail
)

// Limits on free text, in bytes of UTF-8.
const (
	MaxTitle     = 200
	MaxCreator   = 200
	MaxMediaType = 127
	MaxScope     = 500
	MaxNote      = 1000
)

// Register files a work. The client computes the fingerprints from the
// file (Fingerprint); the chain never sees the file itself.
type Register struct {
	SHA256       string `json:"sha256"`        // 64 hex digits
	InstanceCode string `json:"instance_code"` // 256-bit ISCC Instance-Code
	DataCode     string `json:"data_code"`     // 64-bit ISCC Data-Code
	Size         uint64 `json:"size"`          // bytes
	Title        string `json:"title"`
	Creator      string `json:"creator"`    // as the registrant names the author
	MediaType    string `json:"media_type"` // IANA media type, "image/png"
	License      string `json:"license"`    // SPDX identifier or LicenseRef-...
}

// Validate checks the payload without state and rewrites the hash and the
// codes in their canonical form (lower-case hex, "ISCC:" and upper-case
// base32), so that one file always makes one record. Errors wrap
// chain.ErrBadPayload and name the field.
func (m *Register) Validate() error {
	sum, err := sdk.ParseHex("sha256", m.SHA256, 32)
	if err != nil {
		return err
	}
	m.SHA256 = hex.EncodeToString(sum)
	id, err := ParseWorkID(m.InstanceCode)
	if err != nil {
		return fmt.Errorf("%w: instance_code: %w", chain.ErrBadPayload, err)
	}
	m.InstanceCode = id.String()
	dc, err := ParseCode(m.DataCode)
	if err != nil {
		return fmt.Errorf("%w: data_code: %w", chain.ErrBadPayload, err)
	}
	if dc.Type != MainData || dc.Bits() != DataCodeBits {
		return fmt.Errorf("%w: data_code: %s is a %d-bit %s code; want a %d-bit Data-Code", chain.ErrBadPayload, m.DataCode, dc.Bits(), dc.Type, DataCodeBits)
	}
	m.DataCode = dc.String()
	return sdk.FirstError(sdk.Check(m.Size != 0, "size: an empty file is not a work"),
		sdk.CheckText("title", m.Title, MaxTitle, sdk.Multiline),
		sdk.CheckText("creator", m.Creator, MaxCreator, sdk.Multiline),
		checkMediaType("media_type", m.MediaType),
		ValidateLicense("license", m.License))
}

// Transfer hands a work to a new holder. Only the holder may send it.
type Transfer struct {
	Work string `json:"work"` // the work's ID, its Instance-Code
	To   string `json:"to"`   // city1... address
}

// Validate checks the payload without state.
func (m *Transfer) Validate() error {
	return sdk.FirstError(checkWork("work", m.Work), sdk.CheckAddress("to", m.To))
}

// GrantLicense licenses a work to one licensee for a scope, until an optional
// expiry. Only the holder may grant. Expiry is a block height, a time, or
// both (the grant ends at whichever comes first); neither means the grant
// runs until it is revoked.
type GrantLicense struct {
	Work          string `json:"work"`
	Licensee      string `json:"licensee"`
	Scope         string `json:"scope"` // what the licensee may do, in words
	ExpiresHeight uint64 `json:"expires_height,omitempty"`
	ExpiresAt     string `json:"expires_at,omitempty"` // RFC 3339
}

// Validate checks the payload without state and writes ExpiresAt in UTC
// with milliseconds, the form every stored time has.
func (m *GrantLicense) Validate() error {
	return sdk.FirstError(checkWork("work", m.Work), sdk.CheckAddress("licensee", m.Licensee),
		sdk.CheckText("scope", m.Scope, MaxScope, sdk.Multiline), sdk.CheckTime("expires_at", &m.ExpiresAt, sdk.Optional))
}

// Revoke ends a grant. Only the current holder of the granted work may
// revoke.
type Revoke struct {
	Grant  uint64 `json:"grant"`
	Reason string `json:"reason,omitempty"`
}

// Validate checks the payload without state.
func (m *Revoke) Validate() error {
	return sdk.FirstError(sdk.Check(m.Grant != 0, "grant: missing grant id (ids start at 1)"),
		sdk.CheckText("reason", m.Reason, MaxNote, sdk.Optional, sdk.Multiline))
}

// Annotate adds a note to a work's trail. Anyone may annotate: the trail
// is where a holder records an edition and where a third party records a
// dispute ("published by me in 2019 at ..."). Each note keeps its author
// and whether the author held the work at the time.
type Annotate struct {
	Work string `json:"work"`
	Text string `json:"text"`
}

// Validate checks the payload without state.
func (m *Annotate) Validate() error {
	return sdk.FirstError(checkWork("work", m.Work), sdk.CheckText("text", m.Text, MaxNote, sdk.Multiline))
}

// WorkID is a work's identity: the BLAKE3 digest of its file, written as
// a 256-bit ISCC Instance-Code.
type WorkID [32]byte

// String returns the Instance-Code.
func (w WorkID) String() string { return Code{Type: MainInstance, Digest: w[:]}.String() }

// ParseWorkID parses a 256-bit ISCC Instance-Code.
func ParseWorkID(s string) (WorkID, error) {
	var w WorkID
	c, err := ParseCode(s)
	if err != nil {
		return w, err
	}
	if c.Type != MainInstance || c.Bits() != InstanceCodeBits {
		return w, fmt.Errorf("%w: %s is a %d-bit %s code; a work is named by its %d-bit Instance-Code", ErrBadCode, s, c.Bits(), c.Kind(), InstanceCodeBits)
	}
	copy(w[:], c.Digest)
	return w, nil
}

// checkWork requires a work ID in field.
func checkWork(field, s string) error {
	_, err := ParseWorkID(s)
	return sdk.Check(err == nil, "%s: %w", field, err)
}

// mediaType is the shape of RFC 6838, "type/subtype", in lower case and
// without parameters: each name starts with a letter or digit and goes on
// with letters, digits and !#$&-^_.+
var mediaType = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$`)

// checkMediaType requires a media type in the shape of mediaType.
func checkMediaType(field, s string) error {
	return sdk.FirstError(sdk.Check(s != "", "%s: missing, e.g. image/png", field),
		sdk.Check(len(s) <= MaxMediaType, "%s: %d bytes, limit %d", field, len(s), MaxMediaType),
		sdk.Check(mediaType.MatchString(s), "%s: %q is not type/subtype in lower case, e.g. image/png", field, s))
}
