package sdk_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
)

func TestPrintFieldsAlignsTheValues(t *testing.T) {
	var b strings.Builder
	sdk.PrintFields(&b, [][2]string{{"work", "W1"}, {"licence", "MIT"}, {"FLAGGED", "near-duplicate of W0"}, {"FLAGGED", "near-duplicate of W2"}})
	want := "work     W1\nlicence  MIT\nFLAGGED  near-duplicate of W0\nFLAGGED  near-duplicate of W2\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestPrintListSaysWhenThereIsNothing(t *testing.T) {
	line := func(w io.Writer, n *int) { fmt.Fprintf(w, "item %d\n", *n) }
	var b strings.Builder
	sdk.PrintList(&b, "items", []int{}, line)
	if b.String() != "no items\n" {
		t.Errorf("empty: %q", b.String())
	}
	b.Reset()
	sdk.PrintList(&b, "items", []int{4, 5}, line)
	if b.String() != "item 4\nitem 5\n" {
		t.Errorf("two: %q", b.String())
	}
}

func TestPrintTableAlignsTheColumns(t *testing.T) {
	type reading struct {
		seq   int
		value string
	}
	row := func(w io.Writer, r *reading) { fmt.Fprintf(w, "%d\t%s\n", r.seq, r.value) }
	var b strings.Builder
	sdk.PrintTable(&b, "SEQ\tVALUE", []reading{{12, "on"}, {9, "off"}}, row)
	if want := "SEQ  VALUE\n12   on\n9    off\n"; b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	sdk.PrintTable(&b, "", []reading{{1, "x"}, {100, "y"}}, row)
	if want := "1    x\n100  y\n"; b.String() != want {
		t.Errorf("without a header: got %q, want %q", b.String(), want)
	}
}

func TestPrintJSONIndents(t *testing.T) {
	var b strings.Builder
	if err := sdk.PrintJSON(&b, map[string]any{"id": 1, "tags": []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"id\": 1,\n  \"tags\": [\n    \"a\"\n  ]\n}\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
