// Package copyright is a registry of creative works: who filed a file
// first, who holds it now, whom it is licensed to, and what people said
// about it. The chain stores fingerprints and metadata, never the work.
//
// A work is identified by fingerprints that the client computes from the
// file (ISO 24138, the ISCC): its SHA-256, its Instance-Code (BLAKE3 of
// the bytes, 256 bits: the work's ID) and its 64-bit Data-Code, a
// similarity hash (close codes, similar files).
//
// Files, one concern each:
//
//	iscc.go      ISCC units: encoding, Instance-Code, Data-Code, Fingerprint
//	cdc.go       content-defined chunking (the gear table), the Data-Code hasher
//	minhash.go   the 64 permutations that summarise the chunks
//	xxh32.go     the chunk hash
//	license.go   SPDX licence identifiers
//	msgs.go      the actions and their stateless checks
//	keeper.go    records, state keys, and the rules of each action
//	near.go      the near-duplicate index
//	app.go       Check, Deliver, InitGenesis
//	query.go     queries at /v1/apps/copyright/...
//	cert.go      certificates and their offline verification
//	certhtml.go  the printable certificate page (certificate.html)
//	cli.go       citychain tx|query copyright ..., citychain verify
//
// State lives under the app's prefix "a/copyright/": records, their
// indexes by SHA-256, holder, work and licensee, the near-duplicate index
// and each work's trail. README.md, "State", lists every key; keeper.go
// makes them.
//
// Invariants:
//   - first to file wins: no two records share a SHA-256 or an ID, and a
//     record's Registrant, Height, Time and fingerprints never change;
//   - a work has exactly one holder, and holder/{h}{id} exists exactly
//     for the record's holder;
//   - every work is filed in the bucket of each of its MaxDistance+1 band
//     values, and a bucket keeps its latest 64 works, so a registration
//     reads a bounded number of entries; the near-duplicate search is exact
//     while no bucket overflows (near.go explains both);
//   - near/ links come in pairs: near/{a}{b} exists exactly when
//     near/{b}{a} does, with the same distance;
//   - only the current holder transfers a work and grants or revokes its
//     licences; anyone may annotate; nothing is ever deleted except the
//     old holder's index entry on transfer (and a bucket slot is reused
//     when its ring comes round);
//   - Deliver never reads a file or hashes one: it checks shapes,
//     uniqueness and distances between stored codes, so every node
//     reaches the same result from the same transaction.
//
// Everything on a chain is public. The permission rules decide who may
// change a record, not who may read it.
package copyright
