package sdktest

import (
	"os"
	"path/filepath"
	"testing"
)

// AddFiles adds the contents of every file that matches pattern (a
// filepath.Glob pattern such as "testdata/*.json") to the seed corpus of
// a fuzz test. It fails the test when no file matches, so that a fuzz
// test whose examples went missing does not quietly start from nothing.
func AddFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files match %s: %v", pattern, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
