package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
)

// A validator saves its guard before every vote and proposal it signs,
// so the cost of one durable save is on the path of every step of a
// height. Replacing a file (write a copy, fsync, rename, fsync the
// folder) costs two commits of the file system's journal; overwriting
// blocks a file already owns and fdatasync-ing them costs one flush of
// the disk's cache: a fifth of the time on the project's machine when
// it is quiet, half under a loaded devnet (docs/benchmarks.md, "The
// vault saved in place"). But an overwrite cut short by a crash leaves neither the old
// record nor the new one, so a vault file holds its record twice.
//
// A vault file is two slots of equal size, one after the other. Each
// slot holds a header and a record:
//
//	magic "CCV1" | sequence (8 bytes) | kind (1) | length (4) | CRC-32C (4) | record
//
// all integers big-endian, the checksum over sequence, kind, length and
// record. A save writes the slot that does not hold the newest intact
// record, with the next sequence number, and fdatasyncs it; the other
// slot, untouched, still holds the previous record if the write is torn.
// A load returns the intact record with the higher sequence. A record
// that does not fit its slot makes a new file with slots twice its size,
// written to a temporary file and renamed over the old one, as before.
const (
	vaultMagic     = "CCV1"
	vaultHeader    = 4 + 8 + 1 + 4 + 4
	vaultMinSlot   = 4096
	vaultKindData  = 0 // the slot holds a saved record
	vaultKindGone  = 1 // the record was removed
	vaultExt       = ".vault"
	vaultLegacyExt = ".cbor" // one plain file per name, replaced whole
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errVaultDamaged is returned by Load when a vault file has no intact
// slot: both copies were damaged, which a crash alone cannot do.
var errVaultDamaged = errors.New("no intact copy")

// dirVault keeps each name as a vault file NAME.vault in one folder. It
// remembers, per name, which slot holds the newest record, reading the
// file the first time a name is used. It is safe for concurrent use.
type dirVault struct {
	dir   string
	mu    sync.Mutex
	files map[string]*vaultFile
}

// vaultFile is what dirVault knows of one file: its slot size, the
// newest intact slot (-1 if none) and that slot's sequence number.
type vaultFile struct {
	slot   int64
	newest int
	seq    uint64
}

func newDirVault(dir string) *dirVault {
	return &dirVault{dir: dir, files: map[string]*vaultFile{}}
}

func (d *dirVault) path(name string) string { return filepath.Join(d.dir, name+vaultExt) }

// legacyPath is where a node of an earlier release kept name: a plain
// file replaced whole on each save. It is read while no vault file
// exists and removed after the first save.
func (d *dirVault) legacyPath(name string) string {
	return filepath.Join(d.dir, name+vaultLegacyExt)
}

// Load returns the newest record saved under name, or an error wrapping
// os.ErrNotExist if there is none or it was removed.
func (d *dirVault) Load(name string) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, kind, rec, err := d.read(name)
	if errors.Is(err, os.ErrNotExist) {
		return os.ReadFile(d.legacyPath(name))
	}
	if err != nil {
		return nil, err
	}
	d.files[name] = f
	if kind == vaultKindGone {
		return nil, &os.PathError{Op: "load", Path: d.path(name), Err: os.ErrNotExist}
	}
	return rec, nil
}

// ReadVault returns the newest record a node whose home is home keeps
// under name (SignStateFile, ProposedBlockFile or LockedBlockFile), for
// tools and tests that inspect a stopped node. The error wraps
// os.ErrNotExist if there is none.
func ReadVault(home, name string) ([]byte, error) {
	return newDirVault(home).Load(name)
}

// Save stores data under name durably: when it returns without error,
// a crash at any later moment leaves data or a later record under name.
func (d *dirVault) Save(name string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(name, vaultKindData, data)
}

// Remove marks name as removed, durably, so that Load reports it missing.
// The mark is a record too: the copy before it stays intact while it is
// written.
func (d *dirVault) Remove(name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.Remove(d.legacyPath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := os.Stat(d.path(name)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return d.write(name, vaultKindGone, nil)
}

// write puts a record of kind into name's free slot, or into a new file
// when there is no file yet or the record does not fit.
func (d *dirVault) write(name string, kind byte, data []byte) error {
	f, err := d.known(name)
	if err != nil {
		return err
	}
	need := int64(vaultHeader + len(data))
	if f == nil || need > f.slot {
		var seq uint64
		if f != nil {
			seq = f.seq
		}
		nf, err := d.create(name, kind, data, seq+1)
		if err != nil {
			return err
		}
		d.files[name] = nf
		return nil
	}
	slot := 0
	if f.newest == 0 {
		slot = 1
	}
	rec := encodeVaultSlot(f.seq+1, kind, data)
	fh, err := os.OpenFile(d.path(name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := fh.WriteAt(rec, int64(slot)*f.slot); err != nil {
		fh.Close()
		return err
	}
	// The slots already own their blocks, so the file's size and extents
	// are unchanged and fdatasync need not commit the journal.
	if err := syncData(fh); err != nil {
		fh.Close()
		return fmt.Errorf("sync %s: %w", d.path(name), err)
	}
	if err := fh.Close(); err != nil {
		return err
	}
	f.newest, f.seq = slot, f.seq+1
	return nil
}

// known returns what is known of name's file, reading it the first time;
// nil if there is no file or no intact slot in it, so that the next save
// makes a new file. (The guard is never saved over damage: the signer
// loads it first and refuses to start when it cannot.)
func (d *dirVault) known(name string) (*vaultFile, error) {
	if f, ok := d.files[name]; ok {
		return f, nil
	}
	f, _, _, err := d.read(name)
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, errVaultDamaged):
		return nil, nil
	case err != nil:
		return nil, err
	}
	d.files[name] = f
	return f, nil
}

// read reads name's vault file and returns its newest intact slot; the
// error wraps os.ErrNotExist if there is no file, errVaultDamaged if it
// holds no intact slot.
func (d *dirVault) read(name string) (*vaultFile, byte, []byte, error) {
	raw, err := os.ReadFile(d.path(name))
	if err != nil {
		return nil, 0, nil, err
	}
	f, kind, rec, err := parseVaultFile(raw)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("vault file %s: %w", d.path(name), err)
	}
	return f, kind, rec, nil
}

// create writes a new vault file for name holding the record in its
// first slot, each slot twice the record's size, and replaces any old
// file atomically. A legacy file of the same name goes once the new file
// is durable.
func (d *dirVault) create(name string, kind byte, data []byte, seq uint64) (*vaultFile, error) {
	slot := int64(vaultMinSlot)
	for slot < 2*int64(vaultHeader+len(data)) {
		slot *= 2
	}
	buf := make([]byte, 2*slot)
	copy(buf, encodeVaultSlot(seq, kind, data))
	if err := writeFileSync(d.path(name), buf); err != nil {
		return nil, err
	}
	if err := os.Remove(d.legacyPath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return &vaultFile{slot: slot, newest: 0, seq: seq}, nil
}

func encodeVaultSlot(seq uint64, kind byte, data []byte) []byte {
	b := make([]byte, vaultHeader+len(data))
	copy(b, vaultMagic)
	binary.BigEndian.PutUint64(b[4:], seq)
	b[12] = kind
	binary.BigEndian.PutUint32(b[13:], uint32(len(data)))
	copy(b[vaultHeader:], data)
	sum := crc32.Update(crc32.Checksum(b[4:17], castagnoli), castagnoli, data)
	binary.BigEndian.PutUint32(b[17:], sum)
	return b
}

// parseVaultSlot returns the slot's sequence, kind and record, ok false
// if the slot is not intact (never written, torn or damaged).
func parseVaultSlot(b []byte) (seq uint64, kind byte, rec []byte, ok bool) {
	if len(b) < vaultHeader || string(b[:4]) != vaultMagic {
		return 0, 0, nil, false
	}
	seq, kind = binary.BigEndian.Uint64(b[4:]), b[12]
	n := binary.BigEndian.Uint32(b[13:])
	if kind > vaultKindGone || uint64(n) > uint64(len(b)-vaultHeader) {
		return 0, 0, nil, false
	}
	rec = b[vaultHeader : vaultHeader+int(n)]
	sum := crc32.Update(crc32.Checksum(b[4:17], castagnoli), castagnoli, rec)
	if sum != binary.BigEndian.Uint32(b[17:]) {
		return 0, 0, nil, false
	}
	return seq, kind, append([]byte(nil), rec...), true
}

// parseVaultFile reads both slots of a vault file and returns the newest
// intact one.
func parseVaultFile(raw []byte) (*vaultFile, byte, []byte, error) {
	size := int64(len(raw))
	if size < 2*vaultMinSlot || size%2 != 0 {
		return nil, 0, nil, fmt.Errorf("%w: %d bytes, not two slots of at least %d", errVaultDamaged, size, vaultMinSlot)
	}
	f := &vaultFile{slot: size / 2, newest: -1}
	var kind byte
	var rec []byte
	for i := 0; i < 2; i++ {
		seq, k, r, ok := parseVaultSlot(raw[int64(i)*f.slot : int64(i+1)*f.slot])
		if ok && (f.newest < 0 || seq > f.seq) {
			f.newest, f.seq, kind, rec = i, seq, k, r
		}
	}
	if f.newest < 0 {
		return nil, 0, nil, errVaultDamaged
	}
	return f, kind, rec, nil
}

// writeFileSync replaces path with data durably: write a temporary file,
// fsync it, rename it over path, fsync the folder.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
