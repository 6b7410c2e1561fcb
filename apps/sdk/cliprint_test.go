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
