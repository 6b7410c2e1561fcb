package main

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/citychain/citychain/apps"
	"github.com/spf13/cobra"
)

//go:embed scaffold/*.tmpl
var scaffoldFS embed.FS

var moduleName = regexp.MustCompile(`^[a-z][a-z0-9]{1,30}$`)

func newScaffoldCmd() *cobra.Command {
	var repo string
	cmd := &cobra.Command{
		Use:   "scaffold",
		Short: "Generate code: a new module",
	}
	module := &cobra.Command{
		Use:   "module NAME",
		Short: "Write a new module under apps/NAME and register it in apps/apps.go",
		Long: `Write a working module under apps/NAME on the module SDK (apps/sdk): an action,
two queries, CLI commands, its development genesis, its entry in the explorer
and a step of citychain demo, tests and a README; and add it to the module list
in apps/apps.go, the one line that wires it in. The result builds and its tests
pass as they are: then make it your own (docs/modules.md).`,
		Example: `  citychain scaffold module parking
  go test ./apps/parking/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := repo
			if root == "" {
				var err error
				if root, err = findRepo(); err != nil {
					return err
				}
			}
			files, err := scaffoldModule(root, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "wrote module %s:\n", args[0])
			for _, f := range files {
				fmt.Fprintf(out, "  %s\n", f)
			}
			fmt.Fprintf(out, "and registered it in apps/apps.go.\n\nNext:  go test ./apps/%s/  &&  make build\n", args[0])
			return nil
		},
	}
	module.Flags().StringVar(&repo, "repo", "", "the CityChain source tree (default: found from the current folder)")
	cmd.AddCommand(module)
	return cmd
}

// findRepo walks up from the working folder to the CityChain go.mod.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/citychain/citychain\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the CityChain source tree (no go.mod of github.com/citychain/citychain above this folder); use --repo")
		}
		dir = parent
	}
}

// scaffoldModule renders the templates into root/apps/name and adds the
// module to root/apps/apps.go. It returns the files written.
func scaffoldModule(root, name string) ([]string, error) {
	if !moduleName.MatchString(name) || token.IsKeyword(name) {
		return nil, fmt.Errorf("module name %q: use 2 to 31 lowercase letters and digits, starting with a letter, not a Go keyword", name)
	}
	for _, a := range apps.All() {
		if a.Name() == name {
			return nil, fmt.Errorf("a module named %q exists already", name)
		}
	}
	dir := filepath.Join(root, "apps", name)
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("%s exists already", dir)
	}
	registry := filepath.Join(root, "apps", "apps.go")
	reg, err := os.ReadFile(registry)
	if err != nil {
		return nil, fmt.Errorf("read the module list: %w", err)
	}
	newReg, err := registerModule(reg, name)
	if err != nil {
		return nil, err
	}
	tmpls, err := scaffoldFS.ReadDir("scaffold")
	if err != nil {
		return nil, err
	}
	rendered := map[string][]byte{}
	for _, e := range tmpls {
		tmpl := e.Name()
		file := strings.TrimSuffix(tmpl, ".tmpl")
		if file == "module_test.go" {
			file = name + "_test.go"
		}
		src, err := scaffoldFS.ReadFile("scaffold/" + tmpl)
		if err != nil {
			return nil, err
		}
		t, err := template.New(tmpl).Parse(string(src))
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, struct{ Name string }{name}); err != nil {
			return nil, err
		}
		out := buf.Bytes()
		if strings.HasSuffix(file, ".go") {
			if out, err = format.Source(out); err != nil {
				return nil, fmt.Errorf("template %s: %w", tmpl, err)
			}
		}
		rendered[file] = out
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, file := range slices.Sorted(maps.Keys(rendered)) {
		if err := os.WriteFile(filepath.Join(dir, file), rendered[file], 0o644); err != nil {
			return nil, err
		}
		written = append(written, filepath.Join("apps", name, file))
	}
	if err := os.WriteFile(registry, newReg, 0o644); err != nil {
		return nil, err
	}
	return written, nil
}

// registerModule adds the import and the New() line to apps/apps.go: the
// one explicit list of modules.
func registerModule(src []byte, name string) ([]byte, error) {
	s := string(src)
	imp := "\t\"github.com/citychain/citychain/chain\"\n"
	list := "\treturn []chain.App{\n"
	i := strings.Index(s, imp)
	j := strings.Index(s, list)
	if i < 0 || j < 0 {
		return nil, fmt.Errorf("apps/apps.go does not have the expected shape; add %s.New() to All() by hand", name)
	}
	end := strings.Index(s[j:], "\n\t}\n")
	if end < 0 {
		return nil, fmt.Errorf("apps/apps.go: cannot find the end of the module list")
	}
	end += j + 1
	s = s[:end] + "\t\t" + name + ".New(),\n" + s[end:]
	s = s[:i] + "\t\"github.com/citychain/citychain/apps/" + name + "\"\n" + s[i:]
	out, err := format.Source([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("apps/apps.go after adding %s: %w", name, err)
	}
	return out, nil
}
