package sdk_test

import (
	"encoding/json"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
)

func TestDecodeNumbersKeepsTheWrittenText(t *testing.T) {
	cases := []struct {
		name, in string
		want     json.Number
		err      bool
	}{
		{"a decimal", `{"x": 26.50}`, "26.50", false},
		{"an integer beyond float64", `{"x": 9007199254740993}`, "9007199254740993", false},
		{"an exponent", `{"x": 1.5E2}`, "1.5E2", false},
		{"only the first value is read", `{"x": 1} {"x": 2}`, "1", false},
		{"not JSON", `{"x": `, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			err := sdk.DecodeNumbers([]byte(tc.in), &m)
			if tc.err {
				if err == nil {
					t.Fatalf("decoded %v, want an error", m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, ok := m["x"].(json.Number); !ok || n != tc.want {
				t.Errorf("x = %#v, want json.Number %q", m["x"], tc.want)
			}
		})
	}
}
