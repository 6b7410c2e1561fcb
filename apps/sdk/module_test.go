package sdk_test

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/apps/sdk/sdktest"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// notes is a module of numbered notes, small enough to show every part
// of sdk.Module at work.
type notes struct{ *sdk.Module }

type Note struct {
	ID   uint64 `json:"id" cbor:"id"`
	Text string `json:"text" cbor:"text"`
}

func (n *Note) Validate() error {
	if n.ID == 0 {
		return fmt.Errorf("%w: id: missing", chain.ErrBadPayload)
	}
	return sdk.CheckText("text", n.Text, 20)
}

type Erase struct {
	ID uint64 `json:"id" cbor:"id"`
}

func (*Erase) Validate() error { return nil }

type notesAnswer struct {
	Notes     []Note `json:"notes"`
	Truncated bool   `json:"truncated"`
}

func noteKey(id uint64) []byte { return append([]byte("note/"), sdk.Uint64Bytes(id)...) }

func newNotes() *notes {
	return &notes{sdk.NewModule("notes",
		[]sdk.Handler{
			sdk.Action("write", "write a note", func(ctx *chain.Context, m *Note) error {
				sdk.Save(ctx.Store(), noteKey(m.ID), m)
				return nil
			}),
			sdk.Action("erase", "erase a note", func(ctx *chain.Context, m *Erase) error {
				if _, err := sdk.Load[Note](ctx.Store(), noteKey(m.ID), fmt.Sprintf("note %d", m.ID)); err != nil {
					return err
				}
				ctx.Store().Delete(noteKey(m.ID))
				return nil
			}),
		},
		[]sdk.Route{
			sdk.Query("note/{id}", "one note", func(q *chain.QueryContext, p sdk.Params) (any, error) {
				id, err := p.Uint("id", 0)
				if err != nil {
					return nil, err
				}
				return sdk.Load[Note](q.Store(), noteKey(id), fmt.Sprintf("note %d", id))
			}),
			sdk.Query("notes", "notes in id order", func(q *chain.QueryContext, p sdk.Params) (any, error) {
				limit, err := p.Limit(2, 5)
				if err != nil {
					return nil, err
				}
				after, err := p.Uint("after", 0)
				if err != nil {
					return nil, err
				}
				a := notesAnswer{Notes: []Note{}}
				a.Truncated, err = sdk.Each(q.Store(), []byte("note/"), noteKey(after), limit, func(_, v []byte) (bool, error) {
					var n Note
					if err := chain.Decode(v, &n); err != nil {
						return false, err
					}
					keep := !strings.HasPrefix(n.Text, "skip")
					if keep {
						a.Notes = append(a.Notes, n)
					}
					return keep, nil
				})
				return a, err
			}, "limit", "after"),
		})}
}

func notesChain(t *testing.T) *chaintest.Chain {
	t.Helper()
	c, err := chaintest.New([]chain.App{newNotes()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestModuleRoutesActionsAndRefusesBadOnes(t *testing.T) {
	m := newNotes()
	if got := strings.Join(m.Actions(), ","); got != "write,erase" {
		t.Errorf("actions %q", got)
	}
	err := m.Check("burn", nil)
	if !errors.Is(err, chain.ErrUnknownAction) || !strings.Contains(err.Error(), "actions: write, erase") {
		t.Errorf("unknown action: %v", err)
	}
	cases := map[string]string{
		"unknown field":   `{"id":1,"text":"a","x":1}`,
		"fails Validate":  `{"id":0,"text":"a"}`,
		"text too long":   `{"id":1,"text":"` + strings.Repeat("a", 21) + `"}`,
		"wrong JSON type": `{"id":"1","text":"a"}`,
	}
	for name, js := range cases {
		p, err := chain.PayloadFromJSON([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Check("write", p); !errors.Is(err, chain.ErrBadPayload) {
			t.Errorf("%s: Check = %v, want ErrBadPayload", name, err)
		}
	}
}

func TestModuleDeliversAndQueries(t *testing.T) {
	c := notesChain(t)
	alice := chaintest.Key("alice")
	for i, text := range []string{"one", "skip two", "three", "four", "five"} {
		if _, err := c.Do(alice, "notes", "write", Note{ID: uint64(i + 1), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Query("notes", "note/3", nil)
	if err != nil || got.(*Note).Text != "three" {
		t.Fatalf("note/3 = %+v, %v", got, err)
	}
	if _, err := c.Query("notes", "note/9", nil); !errors.Is(err, chain.ErrNotFound) || !strings.Contains(err.Error(), "note 9") {
		t.Errorf("missing note: %v, want not found naming note 9", err)
	}
	// Two taken (the filtered one not counted), more left: truncated.
	got, err = c.Query("notes", "notes", nil)
	if a := got.(notesAnswer); err != nil || len(a.Notes) != 2 || a.Notes[1].ID != 3 || !a.Truncated {
		t.Fatalf("notes = %+v, %v", got, err)
	}
	got, err = c.Query("notes", "notes", map[string]string{"after": "3", "limit": "5"})
	if a := got.(notesAnswer); err != nil || len(a.Notes) != 2 || a.Notes[0].ID != 4 || a.Truncated {
		t.Fatalf("notes after 3 = %+v, %v", got, err)
	}
	for args, want := range map[string]error{"limit=0": chain.ErrBadPayload, "limit=6": chain.ErrBadPayload,
		"after=x": chain.ErrBadPayload, "colour=red": chain.ErrBadPayload} {
		k, v, _ := strings.Cut(args, "=")
		if _, err := c.Query("notes", "notes", map[string]string{k: v}); !errors.Is(err, want) || !strings.Contains(err.Error(), k) {
			t.Errorf("notes?%s: %v, want %v naming %s", args, err, want, k)
		}
	}
	if _, err := c.Query("notes", "nothing/here", nil); !errors.Is(err, chain.ErrNotFound) || !strings.Contains(err.Error(), "note/{id}, notes") {
		t.Errorf("unknown query: %v", err)
	}
	r, err := c.Do(alice, "notes", "erase", Erase{ID: 42})
	if err == nil || r.Status != chain.StatusFailed || !strings.Contains(r.Error, "note 42") {
		t.Errorf("erase of a missing note: %+v %v", r, err)
	}
}

func TestModuleIndex(t *testing.T) {
	c := notesChain(t)
	got, err := c.Query("notes", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ix := got.(sdk.Index)
	if ix.Module != "notes" || len(ix.Actions) != 2 || ix.Actions[1].Name != "erase" || ix.Actions[1].Doc != "erase a note" ||
		len(ix.Queries) != 2 || ix.Queries[1].Name != "notes" || strings.Join(ix.Queries[1].Args, ",") != "limit,after" {
		t.Errorf("index = %+v", ix)
	}
}

func TestNewModuleRefusesADuplicateAction(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a duplicate action name did not panic")
		}
	}()
	h := sdk.Action("a", "", func(*chain.Context, *Erase) error { return nil })
	sdk.NewModule("dup", []sdk.Handler{h, h}, nil)
}

func TestCheckText(t *testing.T) {
	cases := []struct {
		s     string
		rules []sdk.TextRule
		ok    bool
	}{
		{"hello", nil, true},
		{"", nil, false},
		{"", []sdk.TextRule{sdk.Optional}, true},
		{"   ", []sdk.TextRule{sdk.Optional}, false},
		{" padded", nil, false},
		{"two\nlines", nil, false},
		{"two\nlines", []sdk.TextRule{sdk.Multiline}, true},
		{"tab\there", []sdk.TextRule{sdk.Multiline}, false},
		{"\xff", nil, false},
		{"0123456789a", nil, false},
		{"城市链", nil, true},
	}
	for _, tc := range cases {
		err := sdk.CheckText("title", tc.s, 10, tc.rules...)
		if (err == nil) != tc.ok {
			t.Errorf("CheckText(%q, %v) = %v, want ok %v", tc.s, tc.rules, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), "title")) {
			t.Errorf("CheckText(%q): %v does not wrap ErrBadPayload and name the field", tc.s, err)
		}
	}
}

func TestTxCmdAndQueryCmd(t *testing.T) {
	c := notesChain(t)
	cl := sdktest.Client{Chain: c, Key: chaintest.Key("alice")}
	write := sdk.TxCmd(cl, "notes", "write", "write --id N --text TEXT", "Write a note",
		func(f *pflag.FlagSet) func([]string) (*Note, error) {
			id := f.Uint64("id", 0, "")
			text := f.String("text", "", "")
			return func([]string) (*Note, error) { return &Note{ID: *id, Text: *text}, nil }
		})
	show := sdk.QueryCmd(cl, "show ID", "Show a note", sdk.Path("notes/note/%s"),
		func(w io.Writer, n *Note) { fmt.Fprintln(w, n.Text) })
	cmds := []*cobra.Command{write, show}
	if _, err := sdktest.Run(t, cmds, "write", "--id", "7", "--text", "parking"); err != nil {
		t.Fatal(err)
	}
	if _, err := sdktest.Run(t, cmds, "write", "--id", "0", "--text", "x"); !errors.Is(err, chain.ErrBadPayload) {
		t.Errorf("an invalid payload was not refused before submitting: %v", err)
	}
	out, err := sdktest.Run(t, cmds, "show", "7")
	if err != nil || out != "parking\n" {
		t.Errorf("show 7 = %q, %v", out, err)
	}
	if _, err := sdktest.Run(t, cmds, "show"); err == nil {
		t.Error("show without its ID argument was accepted")
	}
}

func TestQueryCmdCountsPositionals(t *testing.T) {
	cl := sdktest.Client{}
	for use, want := range map[string]int{
		"supply":                         0,
		"balance ADDRESS":                1,
		"history ID [--limit N]":         1,
		"bbox --min-lon X --max-lon Y":   0,
		"between FROM TO [--after ID]":   2,
		"show ID --format=json":          1,
		"list [FILTER [MORE]] --limit N": 0,
	} {
		cmd := sdk.QueryCmd(cl, use, "", sdk.Path("x"), func(io.Writer, *Note) {})
		args := make([]string, want+1)
		if cmd.Args(cmd, args[:want]) != nil || cmd.Args(cmd, args) == nil {
			t.Errorf("%q does not take exactly %d arguments", use, want)
		}
	}
}

func TestWithQuery(t *testing.T) {
	if got := sdk.WithQuery("commerce/orders", url.Values{}); got != "commerce/orders" {
		t.Errorf("no arguments: %q", got)
	}
	args := url.Values{"status": {"OrderInTransit"}, "buyer": {"city1 x"}}
	if got := sdk.WithQuery("commerce/orders", args); got != "commerce/orders?buyer=city1+x&status=OrderInTransit" {
		t.Errorf("two arguments: %q", got)
	}
}
