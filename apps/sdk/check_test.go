package sdk_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

func TestCheckAddress(t *testing.T) {
	cases := []struct{ name, in, err string }{
		{"an address", chaintest.Addr("alice").String(), ""},
		{"empty", "", "to: "},
		{"not an address", "city1nope", "to: "},
		{"the zero address", chain.Address{}.String(), "to: the zero address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := sdk.CheckAddress("to", tc.in)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want ErrBadPayload naming %q", err, tc.err)
			}
		})
	}
}

func TestParseHex(t *testing.T) {
	if b, err := sdk.ParseHex("sha256", strings.Repeat("ab", 32), 32); err != nil || len(b) != 32 || b[0] != 0xab {
		t.Errorf("64 digits: %x, %v", b, err)
	}
	for _, bad := range []string{"", strings.Repeat("ab", 31), strings.Repeat("ab", 33), strings.Repeat("zz", 32)} {
		_, err := sdk.ParseHex("sha256", bad, 32)
		if !errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), "sha256: want 64 hex digits, got ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestCheckTimeWritesOneFormAndNamesTheField(t *testing.T) {
	cases := []struct{ name, in, want, err string }{
		{"UTC", "2027-01-01T00:00:00Z", "2027-01-01T00:00:00.000Z", ""},
		{"an offset and a fraction", "2027-01-01T01:00:00.5+01:00", "2027-01-01T00:00:00.500Z", ""},
		{"not a time", "tomorrow", "", `expires_at: "tomorrow" is not an RFC 3339 time`},
		{"a date only", "2027-01-01", "", "is not an RFC 3339 time"},
		{"empty", "", "", "expires_at: missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.in
			err := sdk.CheckTime("expires_at", &s)
			if tc.err != "" {
				if !errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want ErrBadPayload with %q", err, tc.err)
				}
				return
			}
			if err != nil || s != tc.want {
				t.Errorf("%q became %q, %v; want %q", tc.in, s, err, tc.want)
			}
		})
	}
	empty := ""
	if err := sdk.CheckTime("expires_at", &empty, sdk.Optional); err != nil || empty != "" {
		t.Errorf("optional and empty: %q, %v", empty, err)
	}
}

func TestCheck(t *testing.T) {
	if err := sdk.Check(true, "amount: must be positive"); err != nil {
		t.Fatalf("a rule that holds: %v", err)
	}
	err := sdk.Check(false, "memo: %d bytes, limit %d", 300, 256)
	if !errors.Is(err, chain.ErrBadPayload) || err.Error() != chain.ErrBadPayload.Error()+": memo: 300 bytes, limit 256" {
		t.Errorf("err = %v, want ErrBadPayload with the message", err)
	}
	inner := errors.New("device signature does not verify")
	if err := sdk.Check(false, "signature: %w", inner); !errors.Is(err, inner) || !errors.Is(err, chain.ErrBadPayload) {
		t.Errorf("err = %v, want it to wrap both ErrBadPayload and the message's error", err)
	}
}
