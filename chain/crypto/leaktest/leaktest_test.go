package leaktest

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestFindCatchesEachSpelling(t *testing.T) {
	secret := []byte("0123456789abcdefghijklmnopqrstuv")
	var quoted strings.Builder
	slog.New(slog.NewTextHandler(&quoted, nil)).Info("x", "key", string(secret))
	for _, c := range []struct {
		name string
		text string
	}{
		{"hex", "key=" + hex.EncodeToString(secret)},
		{"upper hex", strings.ToUpper(hex.EncodeToString(secret))},
		{"base64 inside a blob", base64.StdEncoding.EncodeToString(append([]byte("prefix-"), secret...))},
		{"url base64", base64.URLEncoding.EncodeToString(secret)},
		{"%v", fmt.Sprintf("bytes %v", secret)},
		{"slog", quoted.String()},
	} {
		t.Run(c.name, func(t *testing.T) {
			if Find(c.text, Forms(secret)) == "" {
				t.Fatalf("no leak found in %q", c.text)
			}
		})
	}
	if where := Find("height=5 hash=9ece2b79 nothing secret", Forms(secret)); where != "" {
		t.Fatalf("a leak found where there is none: %s", where)
	}
	if Find("the passphrase was hunter2!", []string{"hunter2"}) == "" {
		t.Fatal("a short passphrase is looked for whole")
	}
}
