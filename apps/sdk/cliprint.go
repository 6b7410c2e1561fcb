package sdk

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// How the text output of query commands lays out a record and a list,
// the same in every module.

// Field is one line of a record in text output: a name and its value.
type Field struct{ Name, Value string }

// PrintFields writes one line per field, the values aligned in a column
// two spaces after the longest name:
//
//	work      ISCC:KAC...
//	title     Poster
//	licence   CC-BY-4.0
func PrintFields(w io.Writer, fields []Field) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\n", f.Name, f.Value)
	}
	tw.Flush()
}

// PrintList writes each item with line, or "no {what}" when there is
// none, so that an empty answer does not print nothing.
func PrintList[T any](w io.Writer, what string, items []T, line func(w io.Writer, item *T)) {
	if len(items) == 0 {
		fmt.Fprintln(w, "no", what)
	}
	for i := range items {
		line(w, &items[i])
	}
}
