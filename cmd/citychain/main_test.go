package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the binary that the end-to-end tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
