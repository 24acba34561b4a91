package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/termtext"
)

// outputFlag adds --output to cmd; the only machine-readable format is json.
func outputFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "output", "o", "", "print machine-readable output: json")
}

func checkOutput(format string) error {
	if format != "" && format != "json" {
		return usageErrorf("unknown --output %q: the only format is json", format)
	}
	return nil
}

// writeJSON prints v as indented JSON, the exact form of what ast prints: strings hold
// their text exactly, with DEL, C1 and bidi characters written as \u escapes
// (termtext.JSON), so that JSON on a terminal cannot drive it either.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(termtext.JSON(b.Bytes()))
	return err
}

// table prints rows as an aligned table with a header on a terminal, and as
// tab-separated lines without a header when piped (for cut, awk and friends). Every cell
// passes termtext.Line, the one sanitizer of what ast prints: a control or bidi character
// in a cell (a value, a name from a server, a path) is shown escaped, a tab as \t and a
// newline as \n, so a cell stays in its row and column; on a terminal a multi-line cell
// shows its first line and "…". JSON output (writeJSON) is the exact form.
type table struct {
	w      io.Writer
	tty    bool
	header []string
	rows   [][]string
}

func newTable(w io.Writer, tty bool, header ...string) *table {
	return &table{w: w, tty: tty, header: header}
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) print() error {
	// Buffered: a list of 10,000 entries is one write(2), not one per line (or, through
	// tabwriter on a terminal, one per cell).
	w := bufio.NewWriterSize(t.w, 64<<10)
	if !t.tty {
		for _, r := range t.rows {
			for i, c := range r {
				r[i] = termtext.Line(c)
			}
			w.WriteString(strings.Join(r, "\t"))
			w.WriteByte('\n')
		}
		return w.Flush()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		for i, c := range r {
			if j := strings.IndexByte(c, '\n'); j >= 0 { // a multi-line plain value: first line only
				c = c[:j] + "…"
			}
			r[i] = termtext.Line(c)
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return w.Flush()
}

// printf is fmt.Fprintf for a line of ast's own text with data in it (a plan, a setting,
// a path): the format is ast's and printed as is; every string, error and Stringer
// argument passes termtext.Line first, so data cannot add a line, move the cursor or
// reorder what is shown. Numbers and booleans are printed as fmt prints them.
func printf(w io.Writer, format string, args ...any) {
	clean := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			clean[i] = termtext.Line(v)
		case error:
			clean[i] = termtext.Line(v.Error())
		case fmt.Stringer:
			clean[i] = termtext.Line(v.String())
		default:
			clean[i] = a
		}
	}
	fmt.Fprintf(w, format, clean...)
}
