package sdk

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Client is what a module's CLI commands use to reach a node. The
// citychain binary implements it; it takes care of keys, nonces, signing,
// the --wait, --offline and --output flags, and printing receipts.
type Client interface {
	// Submit signs payload as app/action with the --from key and sends it.
	Submit(cmd *cobra.Command, app, action string, payload any) error
	// Query reads GET /v1/apps/{path} from the --node and decodes the JSON
	// answer into out.
	Query(cmd *cobra.Command, path string, out any) error
	// Print writes v as JSON under --output json, else calls text.
	Print(cmd *cobra.Command, v any, text func(w io.Writer)) error
	// Block reads GET /v1/blocks/{height} from the --node (the header as
	// chain.HeaderJSON, with the block's transactions and the commit that
	// finalised it) and decodes the JSON answer into out.
	Block(cmd *cobra.Command, height uint64, out any) error
	// Validators reads GET /v1/validators from the --node into out.
	Validators(cmd *cobra.Command, out any) error
}

// CLI is implemented by modules that add commands: TxCommands go under
// "citychain tx {app}", QueryCommands under "citychain query {app}".
type CLI interface {
	TxCommands(c Client) []*cobra.Command
	QueryCommands(c Client) []*cobra.Command
}

// TxCmd returns a "citychain tx {app} {action}" command. flags declares
// the command's flags on f and returns the function that builds the
// payload from them and the positional args; the command checks the
// payload with Validate before it signs and submits it. The command takes
// no positional argument unless the caller sets Args on it.
func TxCmd[T any, P interface {
	*T
	Validator
}](c Client, app, action, use, short string, flags func(f *pflag.FlagSet) func(args []string) (P, error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	build := flags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		m, err := build(args)
		if err != nil {
			return err
		}
		if err := m.Validate(); err != nil {
			return err
		}
		return c.Submit(cmd, app, action, m)
	}
	return cmd
}

// QueryCmd returns a "citychain query {app} ..." command that reads one
// answer of type T. flags declares the command's flags on f (it may
// declare none) and returns the function that makes the query path,
// "{app}/...", from them and the positional args; text prints the answer
// when the output is not JSON. The command takes exactly as many
// positional args as use names in upper case, unless the caller sets
// Args on it.
func QueryCmd[T any](c Client, use, short string, flags func(f *pflag.FlagSet) func(args []string) (string, error), text func(w io.Writer, a *T)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(positionals(use))}
	path := flags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := path(args)
		if err != nil {
			return err
		}
		a := new(T)
		if err := c.Query(cmd, p, a); err != nil {
			return err
		}
		return c.Print(cmd, a, func(w io.Writer) { text(w, a) })
	}
	return cmd
}

// Path is a QueryCmd flags function for a command without flags whose
// path is format filled with its positional args (each escaped as one
// path segment).
func Path(format string) func(f *pflag.FlagSet) func(args []string) (string, error) {
	return func(*pflag.FlagSet) func(args []string) (string, error) {
		return func(args []string) (string, error) {
			vals := make([]any, len(args))
			for i, a := range args {
				vals[i] = url.PathEscape(a)
			}
			return fmt.Sprintf(format, vals...), nil
		}
	}
}

// WithQuery returns path with the query arguments args after a "?"
// (url.Values.Encode: in key order, each escaped), or path alone when
// there are none.
func WithQuery(path string, args url.Values) string {
	if len(args) == 0 {
		return path
	}
	return path + "?" + args.Encode()
}

// positionals counts the words of use after the first that are upper
// case, such as ADDRESS or ID: the positional arguments. The value of a
// flag (--limit N) and anything in brackets ([--after ID]) do not count.
func positionals(use string) int {
	n, depth := 0, 0
	words := strings.Fields(use)
	for i := 1; i < len(words); i++ {
		w := words[i]
		opens := strings.HasPrefix(w, "[")
		depth += strings.Count(w, "[") - strings.Count(w, "]")
		switch {
		case opens || depth > 0 || strings.HasSuffix(w, "]"):
		case strings.HasPrefix(w, "-"):
			if !strings.Contains(w, "=") {
				i++ // the flag's value
			}
		case w == strings.ToUpper(w) && strings.ToLower(w) != w:
			n++
		}
	}
	return n
}
