//go:build race

package node

// raceEnabled: the race detector slows everything about tenfold, so the
// simulation runs fewer seeds under it.
const raceEnabled = true
