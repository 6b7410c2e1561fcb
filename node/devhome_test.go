package node

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/citychain/citychain/chain/crypto"
)

// TestDevGenesisIsUnchanged pins the development genesis, which every
// module writes its own part of (sdk.DevGenesis), to the bytes it had
// when the node wrote each module's part by name: a devnet of nodes
// built before and after agrees on its genesis, and so on every state
// root after it.
func TestDevGenesisIsUnchanged(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 123e6, time.UTC)
	for _, tc := range []struct {
		validators int
		sha256     string
	}{
		{1, "e0c91f7e776f46889536beb95643e1649b352c39dd3427a14d81deab9aa05205"},
		{4, "afc4017e5b8b7b07873a06ee7aa50b22156783f66e7577d9f52a83887cd6f584"},
	} {
		var keys []*crypto.PrivateKey
		for i := 0; i < tc.validators; i++ {
			keys = append(keys, DevValidatorKey(i))
		}
		g := DevGenesis(DevChainID, keys, at)
		b, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, '\n') // as Genesis.Save writes it
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != tc.sha256 {
			t.Errorf("%d validators: genesis SHA-256 %x, want %s:\n%s", tc.validators, got, tc.sha256, b)
		}
		want := []string{"bank", "city", "commerce", "copyright", "trace"}
		if got := slices.Sorted(maps.Keys(g.AppState)); !slices.Equal(got, want) {
			t.Errorf("app_state sections %v, want %v", got, want)
		}
	}
}
