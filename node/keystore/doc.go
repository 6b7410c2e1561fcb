// Package keystore keeps a node's signing keys on disk, encrypted under a
// passphrase. It owns one folder, normally the keystore/ folder of a node
// home, and one JSON file per named key in it: NAME.json.
//
// What a key file holds, and why:
//
//   - in clear: the format version, the key's name, its address and its
//     compressed public key, so that `citychain keys list` and `show` work
//     without a passphrase;
//   - encrypted: the 32-byte secret, sealed with XChaCha20-Poly1305. The
//     AEAD key is derived from the passphrase by scrypt with a random salt,
//     and the 24-byte nonce is random too, large enough that random nonces
//     never repeat in practice.
//
// The scrypt parameters are written into each file, so a keystore can read
// files made with any cost. Keys with a real passphrase use N=2^15, r=8,
// p=1 (about 32 MiB and a good fraction of a second). Development keys,
// which have an empty passphrase and so no secrecy to protect, use N=2^12:
// a devnet writing ten keys into each of four homes starts in moments.
//
// Invariants:
//
//   - a name is 1 to 64 characters from a-z, 0-9, '-' and '_', starting
//     with a letter or digit, so it is always a safe file name;
//   - files are created with mode 0600 and never overwritten: a new file is
//     written under a temporary name and then linked into place, which
//     fails when the name is taken, so a reader never sees half a file and
//     two writers of one name cannot both win;
//   - the public key is bound to the ciphertext as AEAD associated data,
//     and Load checks that the decrypted secret belongs to it, so editing
//     the clear fields cannot make Load hand back a key other than the one
//     List shows;
//   - secrets are never logged or put into errors.
//
// A wrong passphrase and a damaged ciphertext look the same to an AEAD;
// both are reported as ErrWrongPassphrase.
package keystore
