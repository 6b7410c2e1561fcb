package sdk

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// How the text output of query commands lays out a record and a list,
// the same in every module.

// PrintFields writes a record as one line per field, each a name and its
// value, the values aligned in a column two spaces after the longest
// name:
//
//	work     ISCC:KAC...
//	title    Poster
//	licence  CC-BY-4.0
func PrintFields(w io.Writer, fields [][2]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\n", f[0], f[1])
	}
	tw.Flush()
}

// PrintTable writes items as the rows of a table under header, a line
// of column names separated by tabs (none when header is ""). row writes
// one item as its cells, separated by tabs and ended by a newline; the
// columns are aligned two spaces after their widest cell:
//
//	SEQ  OBSERVED                  HEIGHT
//	12   2026-03-01T08:00:00.000Z  40
func PrintTable[T any](w io.Writer, header string, items []T, row func(w io.Writer, item *T)) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if header != "" {
		fmt.Fprintln(tw, header)
	}
	for i := range items {
		row(tw, &items[i])
	}
	tw.Flush()
}

// PrintJSON writes v as JSON indented by two spaces, the way the
// citychain command prints every answer under --output json.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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
