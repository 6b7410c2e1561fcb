package sdk

import "github.com/spf13/pflag"

// PathOf is a QueryCmd flags function for a command without flags whose
// path fn makes from the positional args: one that picks its query by
// the shape of its argument, say, or checks the argument first.
func PathOf(fn func(args []string) (string, error)) func(f *pflag.FlagSet) func(args []string) (string, error) {
	return func(*pflag.FlagSet) func([]string) (string, error) { return fn }
}
