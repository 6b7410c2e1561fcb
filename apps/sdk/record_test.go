package sdk_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

func TestLoadOrFallsBackToTheDefault(t *testing.T) {
	type params struct {
		Max   uint64 `cbor:"max"`
		Added uint64 `cbor:"added"`
	}
	st := memStore()
	def := params{Max: 4, Added: 9}
	if p, err := sdk.LoadOr(st, []byte("params"), def); err != nil || p != def {
		t.Errorf("absent: %+v, %v; want the default", p, err)
	}
	sdk.Save(st, []byte("params"), params{Max: 7})
	if p, err := sdk.LoadOr(st, []byte("params"), def); err != nil || p != (params{Max: 7}) {
		t.Errorf("stored: %+v, %v; want what was stored", p, err)
	}
	st.Set([]byte("params"), []byte{0xff})
	if _, err := sdk.LoadOr(st, []byte("params"), def); err == nil {
		t.Error("a value that does not decode was read")
	}
}

type provenNote struct {
	Note  *Note       `json:"note"`
	Proof *sdk.Proven `json:"proof"`
}

func TestLoadProvenProvesTheRecordItLoads(t *testing.T) {
	m := &notes{sdk.NewModule("notes",
		[]sdk.Handler{sdk.Action("write", "write a note", func(ctx *chain.Context, m *Note) error {
			sdk.Save(ctx.Store(), noteKey(m.ID), m)
			return nil
		})},
		[]sdk.Route{sdk.Query("proven/{id}", "a note with its proof", func(q *chain.QueryContext, p sdk.Params) (any, error) {
			id, err := p.Uint("id", 0)
			if err != nil {
				return nil, err
			}
			n, proof, err := sdk.LoadProven[Note](q, noteKey(id), fmt.Sprintf("note %d", id))
			if err != nil {
				return nil, err
			}
			return provenNote{n, proof}, nil
		})})}
	c, err := chaintest.New([]chain.App{m}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(chaintest.Key("alice"), "notes", "write", Note{ID: 1, Text: "kept"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Query("notes", "proven/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := got.(provenNote)
	if a.Note.Text != "kept" || a.Proof.Verify(c.Root) != nil {
		t.Fatalf("note %+v, proof against the chain's root: %v", a.Note, a.Proof.Verify(c.Root))
	}
	raw, _ := a.Proof.ValueBytes()
	var proven Note
	if err := chain.Decode(raw, &proven); err != nil || proven != *a.Note {
		t.Errorf("the proof holds %+v, the answer %+v", proven, *a.Note)
	}
	if _, err := c.Query("notes", "proven/2", nil); !errors.Is(err, chain.ErrNotFound) || err.Error() != "not found: note 2" {
		t.Errorf("absent note: %v", err)
	}
}

func TestPathOfHandsTheArgsToItsFunction(t *testing.T) {
	path := sdk.PathOf(func(args []string) (string, error) { return "notes/proven/" + args[0], nil })(nil)
	if p, err := path([]string{"3"}); err != nil || p != "notes/proven/3" {
		t.Errorf("PathOf = %q, %v", p, err)
	}
}
