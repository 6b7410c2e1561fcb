package trace

import (
	"fmt"
	"slices"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Who may capture what. A participant speaks for the GS1 company
// prefixes and the locations it was registered with. An event is a
// statement made at a place about things, so:
//
//  1. Where: every GS1 location the event names (readPoint, bizLocation)
//     must be one the sender speaks for: listed among its locations (the
//     same GLN, any extension) or under one of its company prefixes. A
//     geographic point (a geo: URI) belongs to nobody: anyone may name
//     one, and it gives no right of its own.
//  2. No where: an event that names no GS1 location must name only the
//     sender's own identifiers (under its prefixes).
//  3. New numbers: identifiers an event brings into being (an
//     ObjectEvent ADD, the outputs of a TransformationEvent) must be
//     under the sender's prefixes, because only a prefix's owner may
//     commission numbers under it.
//  4. Corrections: only the participant that captured an event, or an
//     admin, may declare it erroneous (checkEventID, keeper.go).
//
// So a retailer may record receiving a manufacturer's goods at its own
// store, but may not record anything at the manufacturer's plant, nor
// commission numbers under the manufacturer's prefix.

func keyParticipant(a chain.Address) []byte { return append([]byte("part/"), a[:]...) }

// LoadParticipant returns the participant registered under addr, or nil.
func LoadParticipant(st *chain.Store, addr chain.Address) (*Participant, error) {
	w, err := sdk.Find[participantRecord](st, keyParticipant(addr))
	if err != nil || w == nil {
		return nil, err
	}
	return &Participant{Address: addr, Name: w.Name, Role: w.Role, Prefixes: w.Prefixes, Locations: w.Locations}, nil
}

// participantRecord is a participant as stored under part/{address}.
type participantRecord struct {
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	Prefixes  []string `json:"prefixes"`
	Locations []string `json:"locations"`
}

func saveParticipant(st *chain.Store, p *Participant) {
	sdk.Save(st, keyParticipant(p.Address), &participantRecord{Name: p.Name, Role: p.Role,
		Prefixes: p.Prefixes, Locations: p.Locations})
}

// IsAdmin reports whether the participant may register others.
func (p *Participant) IsAdmin() bool { return p.Role == RoleAdmin }

// SpeaksFor reports whether the participant may capture events at l.
func (p *Participant) SpeaksFor(l Location) bool {
	if slices.Contains(p.Locations, Wildcard) || l.OwnedBy(p.Prefixes) {
		return true
	}
	for _, s := range p.Locations {
		if mine, err := ParseLocation(s); err == nil && l.GLN != "" && mine.GLN == l.GLN {
			return true
		}
	}
	return false
}

// MayCapture applies rules 1 to 3 to one event; path names the event in
// errors ("events[3]"). It fails with chain.ErrUnauthorized, naming the
// field that the sender may not speak for.
func (p *Participant) MayCapture(e *Event, path string) error {
	who := fmt.Sprintf("%s (%s %s)", p.Address, p.Role, p.Name)
	hasWhere := false
	for _, w := range []struct {
		field string
		loc   *Location
	}{{"readPoint", e.ReadPoint}, {"bizLocation", e.BizLocation}} {
		if w.loc == nil || w.loc.GLN == "" {
			continue
		}
		if !p.SpeaksFor(*w.loc) {
			return denied(path+"."+w.field+".id", "%s does not speak for location %s", who, w.loc.URI)
		}
		hasWhere = true
	}
	for _, n := range e.Named {
		if n.ID.OwnedBy(p.Prefixes) {
			continue
		}
		if !hasWhere {
			return denied(path+"."+n.Field, "an event without a GS1 readPoint or bizLocation may only name the sender's own identifiers; %s is not under a company prefix of %s", n.ID.URI, who)
		}
		commissions := e.Type == ObjectEvent && e.Action == ActionAdd && (n.As == AsEPC || n.As == AsQuantity) ||
			e.Type == TransformationEvent && (n.As == AsOutput || n.As == AsOutputQuantity)
		if commissions {
			return denied(path+"."+n.Field, "%s brings %s into being, but it is not under a company prefix of %s", e.Type, n.ID.URI, who)
		}
	}
	return nil
}
