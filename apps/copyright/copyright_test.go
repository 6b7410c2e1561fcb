package copyright_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// newChain starts a chain with the registry at its default genesis.
func newChain(t testing.TB) *chaintest.Chain {
	t.Helper()
	c, err := chaintest.New([]chain.App{copyright.New()}, map[string]any{copyright.Name: copyright.DefaultGenesis()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// work returns n bytes that look random, named by a seed: a stand-in for
// a photo or a manuscript.
func work(seed string, n int) []byte {
	out := make([]byte, 0, n+32)
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(seed), uint64(i)))
		out = append(out, h[:]...)
	}
	return out[:n]
}

// retouched returns a copy of b with a few bytes changed in the middle,
// like a photo with a retouched corner.
func retouched(b []byte) []byte {
	out := append([]byte(nil), b...)
	copy(out[len(out)/2:], "retouched")
	return out
}

// registration builds the payload a client would send for file.
func registration(t testing.TB, file []byte, title string) copyright.Register {
	t.Helper()
	fp, err := copyright.Fingerprint(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	return copyright.Register{SHA256: fp.SHA256, InstanceCode: fp.InstanceCode, DataCode: fp.DataCode, Size: fp.Size,
		Title: title, Creator: "Ada Ruiz", MediaType: "image/png", License: "CC-BY-4.0"}
}

func workAnswer(t testing.TB, c *chaintest.Chain, id string) *copyright.WorkAnswer {
	t.Helper()
	a, err := c.Query(copyright.Name, "work/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a.(*copyright.WorkAnswer)
}

func grantStatus(t testing.TB, c *chaintest.Chain, id string) string {
	t.Helper()
	a, err := c.Query(copyright.Name, "grant/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a.(copyright.GrantAnswer).Grant.Status
}

// refused asserts that a transaction failed and that its receipt says why.
func refused(t testing.TB, err error, why string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want refused with %q", why)
	}
	if !strings.Contains(err.Error(), why) {
		t.Fatalf("refused with %q; want %q", err, why)
	}
}

func TestAliceRegistersAPhotoAndHoldsIt(t *testing.T) {
	c := newChain(t)
	photo := work("harbour at dawn", 120_000)
	reg := registration(t, photo, "Harbour at dawn")
	r, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, reg)
	if err != nil {
		t.Fatal(err)
	}
	a := workAnswer(t, c, reg.InstanceCode)
	w := a.Work
	if w.Registrant != chaintest.Addr("alice") || w.Holder != chaintest.Addr("alice") {
		t.Errorf("registrant %s, holder %s; want alice for both", w.Registrant, w.Holder)
	}
	if w.Height != c.Height || w.Time != c.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00") || w.TxHash != r.TxHash {
		t.Errorf("registered at %d %s %s; want %d %s %s", w.Height, w.Time, w.TxHash, c.Height, c.Time, r.TxHash)
	}
	if len(w.NearDuplicateOf) != 0 || len(a.NearDuplicates) != 0 {
		t.Errorf("a first work is flagged: %+v", a.NearDuplicates)
	}
	if len(a.Trail) != 1 || a.Trail[0].Kind != "register" || !a.Trail[0].ByHolder {
		t.Errorf("trail = %+v", a.Trail)
	}
	if r.Events[0].Type != "register" {
		t.Errorf("events = %+v", r.Events)
	}
	// The same record by its SHA-256 and by its short Instance-Code.
	byHash, err := c.Query(copyright.Name, "by-hash/"+reg.SHA256, nil)
	if err != nil || byHash.(*copyright.WorkAnswer).Work.ID != w.ID {
		t.Errorf("by-hash: %v %v", byHash, err)
	}
	id, _ := copyright.ParseWorkID(w.ID)
	short, _ := copyright.NewCode(copyright.MainInstance, id[:8])
	byInst, err := c.Query(copyright.Name, "by-instance/"+short.String(), nil)
	if err != nil || byInst.(*copyright.WorkAnswer).Work.ID != w.ID {
		t.Errorf("by-instance %s: %v %v", short, byInst, err)
	}
	held, err := c.Query(copyright.Name, "holder/"+chaintest.Addr("alice").String(), nil)
	if err != nil || len(held.(copyright.HolderAnswer).Works) != 1 {
		t.Errorf("holder: %+v %v", held, err)
	}
}

func TestFirstToFileWins(t *testing.T) {
	c := newChain(t)
	photo := work("harbour at dawn", 50_000)
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, registration(t, photo, "Harbour")); err != nil {
		t.Fatal(err)
	}
	t.Run("bob files the same file", func(t *testing.T) {
		_, err := c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionRegister, registration(t, photo, "My harbour"))
		refused(t, err, "already registered")
	})
	t.Run("bob claims the same SHA-256 under another Instance-Code", func(t *testing.T) {
		reg := registration(t, work("something else", 50_000), "Harbour")
		reg.SHA256 = registration(t, photo, "").SHA256
		_, err := c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionRegister, reg)
		refused(t, err, "already registered")
	})
	t.Run("alice cannot file it twice either", func(t *testing.T) {
		_, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, registration(t, photo, "Again"))
		refused(t, err, "already registered")
	})
}

func TestNearDuplicateIsRegisteredButFlaggedBothWays(t *testing.T) {
	c := newChain(t)
	original := work("harbour at dawn", 200_000)
	copyOf := retouched(original)
	regA, regB := registration(t, original, "Harbour at dawn"), registration(t, copyOf, "Harbour, retouched")
	if d := distance(t, regA.DataCode, regB.DataCode); d > int(copyright.DefaultGenesis().MaxDistance) {
		t.Fatalf("test files are %d bits apart; the scenario needs a near-duplicate", d)
	}
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, regA); err != nil {
		t.Fatal(err)
	}
	r, err := c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionRegister, regB)
	if err != nil {
		t.Fatalf("a near-duplicate must still register: %v", err)
	}
	if len(r.Events) != 2 || r.Events[1].Type != "near_duplicate" {
		t.Errorf("events = %+v", r.Events)
	}
	b := workAnswer(t, c, regB.InstanceCode)
	if len(b.Work.NearDuplicateOf) != 1 || b.Work.NearDuplicateOf[0] != regA.InstanceCode {
		t.Errorf("bob's record is not flagged: %v", b.Work.NearDuplicateOf)
	}
	if len(b.NearDuplicates) != 1 || b.NearDuplicates[0].ID != regA.InstanceCode || b.NearDuplicates[0].Relation != "earlier" {
		t.Errorf("bob's work does not point to alice's: %+v", b.NearDuplicates)
	}
	a := workAnswer(t, c, regA.InstanceCode)
	if len(a.Work.NearDuplicateOf) != 0 {
		t.Errorf("the earlier record was flagged: %v", a.Work.NearDuplicateOf)
	}
	if len(a.NearDuplicates) != 1 || a.NearDuplicates[0].ID != regB.InstanceCode || a.NearDuplicates[0].Relation != "later" {
		t.Errorf("alice's work does not point to bob's: %+v", a.NearDuplicates)
	}
	// An unrelated file is not flagged.
	regC := registration(t, work("market square", 200_000), "Market square")
	if _, err := c.Do(chaintest.Key("carol"), copyright.Name, copyright.ActionRegister, regC); err != nil {
		t.Fatal(err)
	}
	if w := workAnswer(t, c, regC.InstanceCode); len(w.NearDuplicates) != 0 {
		t.Errorf("an unrelated work is flagged: %+v", w.NearDuplicates)
	}
}

func distance(t testing.TB, a, b string) int {
	t.Helper()
	ca, err := copyright.ParseCode(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := copyright.ParseCode(b)
	if err != nil {
		t.Fatal(err)
	}
	return copyright.Hamming(binary.BigEndian.Uint64(ca.Digest), binary.BigEndian.Uint64(cb.Digest))
}

// TestBandIndexFindsEveryCodeWithinTheDistance registers codes at every
// distance from 0 to 8 from one code, with the differing bits spread so
// they hit as many bands as possible, and checks the flag is exact.
func TestBandIndexFindsEveryCodeWithinTheDistance(t *testing.T) {
	for _, maxD := range []uint64{0, 4, 7} {
		c, err := chaintest.New([]chain.App{copyright.New()}, map[string]any{copyright.Name: copyright.GenesisState{MaxDistance: maxD}})
		if err != nil {
			t.Fatal(err)
		}
		base := uint64(0x0123456789abcdef)
		reg := func(name string, bits uint64) copyright.Register {
			r := registration(t, work(name, 1000), name)
			code, _ := copyright.NewCode(copyright.MainData, binary.BigEndian.AppendUint64(nil, bits))
			r.DataCode = code.String()
			return r
		}
		if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, reg("base", base)); err != nil {
			t.Fatal(err)
		}
		for d := 0; d <= 8; d++ {
			var flip uint64
			for i := 0; i < d; i++ {
				flip |= 1 << (63 - i*64/8) // one bit in each of d different eighths
			}
			r := reg(strings.Repeat("x", d+1), base^flip)
			if _, err := c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionRegister, r); err != nil {
				t.Fatal(err)
			}
			w := workAnswer(t, c, r.InstanceCode)
			flaggedBase := false
			for _, n := range w.NearDuplicates {
				if n.Title == "base" {
					flaggedBase = true
				}
			}
			if want := uint64(d) <= maxD; flaggedBase != want {
				t.Errorf("max %d, distance %d: flagged as near the base = %v, want %v", maxD, d, flaggedBase, want)
			}
		}
	}
}

func TestOnlyTheHolderTransfersAndLicenses(t *testing.T) {
	c := newChain(t)
	reg := registration(t, work("city hymn", 40_000), "City hymn")
	id := reg.InstanceCode
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, reg); err != nil {
		t.Fatal(err)
	}
	toCarol := copyright.GrantLicense{Work: id, Licensee: chaintest.Addr("carol").String(), Scope: "radio broadcast, 2026"}

	_, err := c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionTransfer, copyright.Transfer{Work: id, To: chaintest.Addr("bob").String()})
	refused(t, err, "unauthorized")
	_, err = c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionGrant, toCarol)
	refused(t, err, "unauthorized")

	// Alice licenses to carol; carol may not license it on, nor revoke.
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionGrant, toCarol); err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(chaintest.Key("carol"), copyright.Name, copyright.ActionGrant,
		copyright.GrantLicense{Work: id, Licensee: chaintest.Addr("dave").String(), Scope: "sublicence"})
	refused(t, err, "unauthorized")
	_, err = c.Do(chaintest.Key("carol"), copyright.Name, copyright.ActionRevoke, copyright.Revoke{Grant: 1})
	refused(t, err, "unauthorized")
	_, err = c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionGrant,
		copyright.GrantLicense{Work: id, Licensee: chaintest.Addr("alice").String(), Scope: "to myself"})
	refused(t, err, "licensee")

	// Alice transfers to bob: from now on bob decides, alice does not.
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionTransfer, copyright.Transfer{Work: id, To: chaintest.Addr("bob").String()}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionTransfer, copyright.Transfer{Work: id, To: chaintest.Addr("alice").String()})
	refused(t, err, "unauthorized")
	_, err = c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRevoke, copyright.Revoke{Grant: 1})
	refused(t, err, "unauthorized")
	if s := grantStatus(t, c, "1"); s != copyright.GrantActive {
		t.Errorf("carol's grant after the transfer: %s, want active (a licence runs with the work)", s)
	}
	if _, err := c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionRevoke, copyright.Revoke{Grant: 1, Reason: "new owner"}); err != nil {
		t.Fatal(err)
	}

	a := workAnswer(t, c, id)
	if a.Work.Holder != chaintest.Addr("bob") || a.Work.Registrant != chaintest.Addr("alice") {
		t.Errorf("holder %s registrant %s; want bob and alice", a.Work.Holder, a.Work.Registrant)
	}
	for who, want := range map[string]int{"alice": 0, "bob": 1} {
		h, _ := c.Query(copyright.Name, "holder/"+chaintest.Addr(who).String(), nil)
		if n := len(h.(copyright.HolderAnswer).Works); n != want {
			t.Errorf("%s holds %d works, want %d", who, n, want)
		}
	}
	var kinds []string
	for _, e := range a.Trail {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, ","); got != "register,grant,transfer,revoke" {
		t.Errorf("trail = %s", got)
	}
}

func TestAnyoneAnnotatesAndTheTrailSaysWho(t *testing.T) {
	c := newChain(t)
	reg := registration(t, work("mural", 30_000), "Mural")
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, reg); err != nil {
		t.Fatal(err)
	}
	notes := []struct{ who, text string }{
		{"alice", "Second edition printed in May."},
		{"dave", "I painted this mural in 2019; see the city archive, file 1138."},
	}
	for _, n := range notes {
		if _, err := c.Do(chaintest.Key(n.who), copyright.Name, copyright.ActionAnnotate, copyright.Annotate{Work: reg.InstanceCode, Text: n.text}); err != nil {
			t.Fatal(err)
		}
	}
	trail := workAnswer(t, c, reg.InstanceCode).Trail
	if len(trail) != 3 {
		t.Fatalf("trail = %+v", trail)
	}
	if e := trail[1]; e.Actor != chaintest.Addr("alice") || !e.ByHolder || e.Text != notes[0].text {
		t.Errorf("alice's note = %+v", e)
	}
	if e := trail[2]; e.Actor != chaintest.Addr("dave") || e.ByHolder || e.Seq != 3 {
		t.Errorf("dave's note = %+v", e)
	}
	_, err := c.Do(chaintest.Key("dave"), copyright.Name, copyright.ActionAnnotate,
		copyright.Annotate{Work: registration(t, work("unregistered", 100), "").InstanceCode, Text: "hello"})
	refused(t, err, "not found")
}

func TestGrantsExpireByHeightOrTime(t *testing.T) {
	c := newChain(t)
	reg := registration(t, work("festival poster", 20_000), "Festival poster")
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, reg); err != nil {
		t.Fatal(err)
	}
	carol := chaintest.Addr("carol").String()
	// Blocks come one second apart on the test chain.
	byHeight := copyright.GrantLicense{Work: reg.InstanceCode, Licensee: carol, Scope: "posters", ExpiresHeight: c.Height + 4}
	byTime := copyright.GrantLicense{Work: reg.InstanceCode, Licensee: carol, Scope: "web", ExpiresAt: c.Time.Add(6 * time.Second).Format(time.RFC3339)}
	for _, g := range []copyright.GrantLicense{byHeight, byTime} {
		if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionGrant, g); err != nil {
			t.Fatal(err)
		}
	}
	if grantStatus(t, c, "1") != copyright.GrantActive || grantStatus(t, c, "2") != copyright.GrantActive {
		t.Fatal("fresh grants are not active")
	}
	for c.Height < byHeight.ExpiresHeight {
		if _, err := c.Block(); err != nil {
			t.Fatal(err)
		}
	}
	if s := grantStatus(t, c, "1"); s != copyright.GrantExpired {
		t.Errorf("at height %d the height grant is %s, want expired", c.Height, s)
	}
	if s := grantStatus(t, c, "2"); s != copyright.GrantActive {
		t.Errorf("at %s the time grant is %s, want active", c.Time, s)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.Block(); err != nil {
			t.Fatal(err)
		}
	}
	if s := grantStatus(t, c, "2"); s != copyright.GrantExpired {
		t.Errorf("at %s the time grant is %s, want expired", c.Time, s)
	}
	// Carol sees her grants, with their state.
	g, err := c.Query(copyright.Name, "grants/"+carol, nil)
	if err != nil || len(g.(copyright.GrantsAnswer).Grants) != 2 {
		t.Fatalf("carol's grants: %+v %v", g, err)
	}
	// An expiry in the past is refused.
	past := byHeight
	past.ExpiresHeight = c.Height
	_, err = c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionGrant, past)
	refused(t, err, "expires_height")
	pastTime := byTime
	pastTime.ExpiresAt = c.Time.Add(-time.Hour).Format(time.RFC3339)
	_, err = c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionGrant, pastTime)
	refused(t, err, "expires_at")
}

func TestRevokeEndsAGrantOnce(t *testing.T) {
	c := newChain(t)
	reg := registration(t, work("song", 20_000), "Song")
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, reg); err != nil {
		t.Fatal(err)
	}
	g := copyright.GrantLicense{Work: reg.InstanceCode, Licensee: chaintest.Addr("carol").String(), Scope: "cover version"}
	r, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionGrant, g)
	if err != nil {
		t.Fatal(err)
	}
	if r.Events[0].Type != "grant" || r.Events[0].Attrs[0].Value != "1" {
		t.Errorf("events = %+v", r.Events)
	}
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRevoke, copyright.Revoke{Grant: 1, Reason: "unpaid"}); err != nil {
		t.Fatal(err)
	}
	if s := grantStatus(t, c, "1"); s != copyright.GrantRevoked {
		t.Errorf("status %s, want revoked", s)
	}
	_, err = c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRevoke, copyright.Revoke{Grant: 1})
	refused(t, err, "not active")
	_, err = c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRevoke, copyright.Revoke{Grant: 9})
	refused(t, err, "not found: grant 9")
}

// TestTheLicenseeCanShowTheGrant checks the proof a licensee hands to a
// third party: it verifies against the state root of the header.
func TestTheLicenseeCanShowTheGrant(t *testing.T) {
	c := newChain(t)
	reg := registration(t, work("logo", 10_000), "Logo")
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionGrant,
		copyright.GrantLicense{Work: reg.InstanceCode, Licensee: chaintest.Addr("carol").String(), Scope: "merchandise"}); err != nil {
		t.Fatal(err)
	}
	a, err := c.Query(copyright.Name, "grant/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	ga := a.(copyright.GrantAnswer)
	if ga.Grant.Licensee != chaintest.Addr("carol") || ga.Grant.Grantor != chaintest.Addr("alice") {
		t.Errorf("grant = %+v", ga.Grant)
	}
	if err := ga.Proof.Verify(c.Root); err != nil {
		t.Errorf("the grant's proof does not verify: %v", err)
	}
	raw, _ := ga.Proof.ValueBytes()
	var stored copyright.Grant
	if err := chain.Decode(raw, &stored); err != nil || stored.Scope != "merchandise" {
		t.Errorf("proven bytes decode to %+v, %v", stored, err)
	}
}

func TestBadInputsNameTheField(t *testing.T) {
	app := copyright.New()
	good := registration(t, work("good", 5000), "Good")
	alice := chaintest.Addr("alice").String()
	mutate := func(f func(r *copyright.Register)) copyright.Register { r := good; f(&r); return r }
	cases := []struct {
		name, action string
		payload      any
		field        string
	}{
		{"sha256 too short", "register", mutate(func(r *copyright.Register) { r.SHA256 = "abcd" }), "sha256"},
		{"sha256 not hex", "register", mutate(func(r *copyright.Register) { r.SHA256 = strings.Repeat("z", 64) }), "sha256"},
		{"instance code garbled", "register", mutate(func(r *copyright.Register) { r.InstanceCode = "ISCC:???" }), "instance_code"},
		{"instance code of 64 bits", "register", mutate(func(r *copyright.Register) { r.InstanceCode = "ISCC:IAA26E2JXH27TING" }), "instance_code"},
		{"data code in the instance slot", "register", mutate(func(r *copyright.Register) { r.InstanceCode = good.DataCode }), "instance_code"},
		{"instance code in the data slot", "register", mutate(func(r *copyright.Register) { r.DataCode = "ISCC:IAA26E2JXH27TING" }), "data_code"},
		{"data code of 128 bits", "register", mutate(func(r *copyright.Register) { r.DataCode = "ISCC:GABXOD4P2IS6YHS2XOK6IBVPVXPPG" }), "data_code"},
		{"empty file", "register", mutate(func(r *copyright.Register) { r.Size = 0 }), "size"},
		{"no title", "register", mutate(func(r *copyright.Register) { r.Title = " " }), "title"},
		{"title too long", "register", mutate(func(r *copyright.Register) { r.Title = strings.Repeat("t", copyright.MaxTitle+1) }), "title"},
		{"title with a control character", "register", mutate(func(r *copyright.Register) { r.Title = "bell\a" }), "title"},
		{"no creator", "register", mutate(func(r *copyright.Register) { r.Creator = "" }), "creator"},
		{"media type without subtype", "register", mutate(func(r *copyright.Register) { r.MediaType = "image" }), "media_type"},
		{"media type in capitals", "register", mutate(func(r *copyright.Register) { r.MediaType = "Image/PNG" }), "media_type"},
		{"unknown licence", "register", mutate(func(r *copyright.Register) { r.License = "CC-BY-5.0" }), "license"},
		{"licence in the wrong case", "register", mutate(func(r *copyright.Register) { r.License = "cc-by-4.0" }), "license"},
		{"licence ref with a space", "register", mutate(func(r *copyright.Register) { r.License = "LicenseRef-my licence" }), "license"},
		{"no licence", "register", mutate(func(r *copyright.Register) { r.License = "" }), "license"},
		{"transfer without work", "transfer", copyright.Transfer{To: alice}, "work"},
		{"transfer to a bad address", "transfer", copyright.Transfer{Work: good.InstanceCode, To: "city1nope"}, "to"},
		{"grant to nobody", "grant", copyright.GrantLicense{Work: good.InstanceCode, Scope: "x"}, "licensee"},
		{"grant without scope", "grant", copyright.GrantLicense{Work: good.InstanceCode, Licensee: alice}, "scope"},
		{"grant with a bad expiry time", "grant", copyright.GrantLicense{Work: good.InstanceCode, Licensee: alice, Scope: "x", ExpiresAt: "next tuesday"}, "expires_at"},
		{"revoke grant 0", "revoke", copyright.Revoke{}, "grant"},
		{"annotate with nothing", "annotate", copyright.Annotate{Work: good.InstanceCode}, "text"},
		{"annotate too much", "annotate", copyright.Annotate{Work: good.InstanceCode, Text: strings.Repeat("x", copyright.MaxNote+1)}, "text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := chain.EncodePayload(tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			err = app.Check(tc.action, p)
			if !errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("Check = %v; want a bad payload naming %q", err, tc.field)
			}
		})
	}
	t.Run("the good registration passes", func(t *testing.T) {
		p, _ := chain.EncodePayload(good)
		if err := app.Check("register", p); err != nil {
			t.Error(err)
		}
	})
	t.Run("unknown field", func(t *testing.T) {
		p, _ := chain.PayloadFromJSON([]byte(`{"work":"` + good.InstanceCode + `","text":"x","colour":"red"}`))
		if err := app.Check("annotate", p); !errors.Is(err, chain.ErrBadPayload) {
			t.Errorf("Check = %v", err)
		}
	})
	t.Run("unknown action", func(t *testing.T) {
		if err := app.Check("delete", nil); !errors.Is(err, chain.ErrUnknownAction) {
			t.Errorf("Check = %v", err)
		}
	})
}

func TestCodesAreStoredInCanonicalForm(t *testing.T) {
	c := newChain(t)
	reg := registration(t, work("lower case", 5000), "Lower case")
	loose := reg
	loose.SHA256 = strings.ToUpper(reg.SHA256)
	loose.InstanceCode = strings.ToLower(strings.TrimPrefix(reg.InstanceCode, "ISCC:"))
	loose.DataCode = strings.ToLower(reg.DataCode)
	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, loose); err != nil {
		t.Fatal(err)
	}
	w := workAnswer(t, c, reg.InstanceCode).Work
	if w.SHA256 != reg.SHA256 || w.ID != reg.InstanceCode || w.DataCode != reg.DataCode {
		t.Errorf("stored %s %s %s; want %s %s %s", w.SHA256, w.ID, w.DataCode, reg.SHA256, reg.InstanceCode, reg.DataCode)
	}
}

func TestGenesis(t *testing.T) {
	c, err := chaintest.New([]chain.App{copyright.New()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Query(copyright.Name, "params", nil)
	if err != nil || p.(copyright.Params).MaxDistance != 4 {
		t.Errorf("params without genesis: %+v %v", p, err)
	}
	_, err = chaintest.New([]chain.App{copyright.New()}, map[string]any{copyright.Name: copyright.GenesisState{MaxDistance: copyright.MaxDistanceLimit + 1}})
	if err == nil || !strings.Contains(err.Error(), "max_distance") {
		t.Errorf("max_distance over the limit: %v", err)
	}
	_, err = chaintest.New([]chain.App{copyright.New()}, map[string]any{copyright.Name: map[string]any{"max_distanse": 3}})
	if err == nil {
		t.Error("a misspelt field was accepted")
	}
}

func TestQueryErrors(t *testing.T) {
	c := newChain(t)
	cases := map[string]error{
		"work/ISCC:IAA26E2JXH27TING":          chain.ErrBadPayload,
		"by-hash/xyz":                         chain.ErrBadPayload,
		"by-hash/" + strings.Repeat("ab", 32): chain.ErrNotFound,
		"grant/x":                             chain.ErrBadPayload,
		"grant/5":                             chain.ErrNotFound,
		"holder/city1bad":                     chain.ErrBadPayload,
		"nothing":                             chain.ErrNotFound,
	}
	for path, want := range cases {
		if _, err := c.Query(copyright.Name, path, nil); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", path, err, want)
		}
	}
}

// TestABucketRemembersItsLatestWorks shows the price of the bounded
// index: a look-alike that shares only one band value with an earlier
// work is flagged until 64 other works have been filed in that bucket
// since, and not after.
func TestABucketRemembersItsLatestWorks(t *testing.T) {
	c := newChain(t) // max_distance 4: five bands, the first of 12 bits
	reg := func(name string, bits uint64) copyright.Register {
		r := registration(t, work(name, 1000), name)
		code, _ := copyright.NewCode(copyright.MainData, binary.BigEndian.AppendUint64(nil, bits))
		r.DataCode = code.String()
		return r
	}
	flagged := func(r copyright.Register) []string {
		t.Helper()
		if _, err := c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionRegister, r); err != nil {
			t.Fatal(err)
		}
		return workAnswer(t, c, r.InstanceCode).Work.NearDuplicateOf
	}
	// One bit in each of the bands 1 to 4 (they start at bits 12, 25, 38
	// and 51): distance 4, and only the first band is equal.
	flip := func(from int) uint64 {
		var f uint64
		for _, pos := range []int{12, 25, 38, 51} {
			f |= 1 << (63 - pos - from)
		}
		return f
	}
	base := reg("base", 0x0123456789abcdef)
	flagged(base)
	if got := flagged(reg("early copy", 0x0123456789abcdef^flip(0))); len(got) != 1 || got[0] != base.InstanceCode {
		t.Fatalf("the early copy is flagged as %v, want the base", got)
	}
	for i := 0; i < 64; i++ { // strangers in the base's first bucket, far from it
		h := sha256.Sum256([]byte(fmt.Sprint("stranger ", i)))
		flagged(reg(fmt.Sprint("stranger ", i), 0x012<<52|binary.BigEndian.Uint64(h[:])>>12))
	}
	if got := flagged(reg("late copy", 0x0123456789abcdef^flip(1))); len(got) != 0 {
		t.Errorf("the late copy is flagged as %v; the base has left the ring of the one bucket they share", got)
	}
}
