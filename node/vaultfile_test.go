package node

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustLoad(t *testing.T, v *dirVault, name string) []byte {
	t.Helper()
	b, err := v.Load(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return b
}

func mustSave(t *testing.T, v *dirVault, name string, data []byte) {
	t.Helper()
	if err := v.Save(name, data); err != nil {
		t.Fatalf("save %s: %v", name, err)
	}
}

func TestVaultKeepsTheNewestRecordAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	v := newDirVault(dir)
	if _, err := v.Load(SignStateFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an empty vault loads %v, want not-exist", err)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"empty record", []byte{}},
		{"small", []byte("first")},
		{"small again", []byte("second")},
		{"fills most of a slot", bytes.Repeat([]byte{7}, vaultMinSlot-vaultHeader)},
		{"outgrows its slot", bytes.Repeat([]byte{8}, 3*vaultMinSlot)},
		{"smaller than before", []byte("third")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustSave(t, v, ProposedBlockFile, tc.data)
			if got := mustLoad(t, v, ProposedBlockFile); !bytes.Equal(got, tc.data) {
				t.Fatalf("loaded %d bytes, want the %d saved", len(got), len(tc.data))
			}
			// A new process reads the file afresh.
			if got := mustLoad(t, newDirVault(dir), ProposedBlockFile); !bytes.Equal(got, tc.data) {
				t.Fatalf("after a restart loaded %d bytes, want the %d saved", len(got), len(tc.data))
			}
			if got, err := ReadVault(dir, ProposedBlockFile); err != nil || !bytes.Equal(got, tc.data) {
				t.Fatalf("ReadVault: %d bytes, %v", len(got), err)
			}
		})
	}
}

// A save that fits overwrites a slot of the same file (no new file, no
// rename), alternating between the two slots.
func TestVaultSavesInPlaceInAlternateSlots(t *testing.T) {
	dir := t.TempDir()
	v := newDirVault(dir)
	mustSave(t, v, SignStateFile, []byte("r1"))
	path := filepath.Join(dir, SignStateFile+vaultExt)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range []string{"r2", "r3", "r4"} {
		mustSave(t, v, SignStateFile, []byte(rec))
		after, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(before, after) || after.Size() != before.Size() {
			t.Fatalf("save %d replaced or resized the file (%d -> %d bytes)", i+2, before.Size(), after.Size())
		}
		raw, _ := os.ReadFile(path)
		slot := int64(len(raw) / 2)
		written := raw[slot:]
		if i%2 == 1 {
			written = raw[:slot]
		}
		seq, _, got, ok := parseVaultSlot(written)
		if !ok || string(got) != rec || seq != uint64(i+2) {
			t.Fatalf("save %d: its slot holds %q (sequence %d, intact %v), want %q with sequence %d", i+2, got, seq, ok, rec, i+2)
		}
	}
}

// A save cut short by a crash damages the slot it was writing; the other
// slot still holds the record before it. Damage to both is refused.
func TestVaultSurvivesATornSave(t *testing.T) {
	dir := t.TempDir()
	v := newDirVault(dir)
	mustSave(t, v, SignStateFile, []byte("older guard"))
	mustSave(t, v, SignStateFile, []byte("newer guard"))
	path := filepath.Join(dir, SignStateFile+vaultExt)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	slot := len(raw) / 2
	tear := func(b []byte, at int) []byte {
		c := append([]byte(nil), b...)
		c[at] ^= 0xff
		return c
	}
	cases := []struct {
		name string
		raw  []byte
		want string // "" means Load must fail
	}{
		{"intact", raw, "newer guard"},
		{"newer slot's record torn", tear(raw, slot+vaultHeader+2), "older guard"},
		{"newer slot's sequence torn", tear(raw, slot+6), "older guard"},
		{"newer slot's length torn", tear(raw, slot+15), "older guard"},
		{"older slot torn", tear(raw, vaultHeader), "newer guard"},
		{"both torn", tear(tear(raw, vaultHeader), slot+vaultHeader), ""},
		{"cut to one slot", raw[:slot], ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.raw, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := newDirVault(dir).Load(SignStateFile)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Fatalf("loaded %q, %v; want an error naming %s", got, err, path)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("loaded %q, %v; want %q", got, err, tc.want)
			}
			// The next save goes to the damaged or older slot and keeps
			// the one just loaded.
			v2 := newDirVault(dir)
			mustLoad(t, v2, SignStateFile)
			mustSave(t, v2, SignStateFile, []byte("next"))
			after, _ := os.ReadFile(path)
			var intact []string
			for i := 0; i < 2; i++ {
				if _, _, r, ok := parseVaultSlot(after[i*slot : (i+1)*slot]); ok {
					intact = append(intact, string(r))
				}
			}
			if len(intact) != 2 || (intact[0] != tc.want && intact[1] != tc.want) {
				t.Fatalf("after the next save the slots hold %q, want %q and %q", intact, tc.want, "next")
			}
			if got := mustLoad(t, newDirVault(dir), SignStateFile); string(got) != "next" {
				t.Fatalf("loaded %q after the next save", got)
			}
		})
	}
}

// The signer refuses to start on a guard with no intact copy.
func TestSignerRefusesADamagedGuardFile(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, newDirVault(dir), SignStateFile, []byte("guard"))
	path := filepath.Join(dir, SignStateFile+vaultExt)
	if err := os.WriteFile(path, make([]byte, 2*vaultMinSlot), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSigner(newDirVault(dir), "guard-test", DevValidatorKey(0)); err == nil || !strings.Contains(err.Error(), "no intact copy") {
		t.Fatalf("loadSigner on a zeroed guard file: %v", err)
	}
}

func TestVaultRemove(t *testing.T) {
	dir := t.TempDir()
	v := newDirVault(dir)
	if err := v.Remove(LockedBlockFile); err != nil {
		t.Fatalf("removing what was never saved: %v", err)
	}
	mustSave(t, v, LockedBlockFile, []byte("block at height 5"))
	path := filepath.Join(dir, LockedBlockFile+vaultExt)
	before, _ := os.Stat(path)
	if err := v.Remove(LockedBlockFile); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*dirVault{v, newDirVault(dir)} {
		if b, err := w.Load(LockedBlockFile); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("after Remove, Load gives %q, %v", b, err)
		}
	}
	mustSave(t, v, LockedBlockFile, []byte("block at height 6"))
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Fatal("a save after Remove made a new file")
	}
	if got := mustLoad(t, newDirVault(dir), LockedBlockFile); string(got) != "block at height 6" {
		t.Fatalf("loaded %q", got)
	}
}

// A home of an earlier release keeps each name as a plain file NAME.cbor.
// It is read until the first save, which removes it.
func TestVaultReadsAndRetiresTheLegacyFile(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, SignStateFile+vaultLegacyExt)
	if err := os.WriteFile(legacy, []byte("old guard"), 0o600); err != nil {
		t.Fatal(err)
	}
	v := newDirVault(dir)
	if got := mustLoad(t, v, SignStateFile); string(got) != "old guard" {
		t.Fatalf("loaded %q from the legacy file", got)
	}
	mustSave(t, v, SignStateFile, []byte("new guard"))
	if _, err := os.Stat(legacy); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the legacy file is still there after a save: %v", err)
	}
	if got := mustLoad(t, newDirVault(dir), SignStateFile); string(got) != "new guard" {
		t.Fatalf("loaded %q after the save", got)
	}
}

// BenchmarkVaultSave compares a save of a guard-sized record in place
// (dirVault) with replacing a whole file (write, fsync, rename, fsync the
// folder), which is how the vault saved before. Both wait for the disk,
// so run it on the disk a node's home is on.
func BenchmarkVaultSave(b *testing.B) {
	rec := bytes.Repeat([]byte{1}, 300)
	b.Run("in-place", func(b *testing.B) {
		v := newDirVault(b.TempDir())
		for i := 0; i < b.N; i++ {
			if err := v.Save(SignStateFile, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replace", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "sign_state.cbor")
		for i := 0; i < b.N; i++ {
			if err := writeFileSync(path, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
