package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/keystore"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func openKeystore(g *globals) (*keystore.Keystore, error) {
	return keystore.Open(filepath.Join(g.home, node.KeystoreDir))
}

// errEmptyPassphrase refuses to protect a new or imported key with no
// passphrase: only the development keys dev0..dev9 have none.
var errEmptyPassphrase = errors.New("the passphrase is empty; a key of your own needs one (only the development keys dev0..dev9 of dev and devnet have none, and they are everybody's)")

// readPassphrase returns the passphrase from --passphrase-file, or asks
// on the terminal. confirm, for a key being stored, asks twice and
// refuses an empty passphrase.
func readPassphrase(file, prompt string, confirm bool) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--passphrase-file: %w", err)
		}
		p := strings.TrimRight(string(b), "\r\n")
		if confirm && p == "" {
			return "", fmt.Errorf("--passphrase-file %s: %w", file, errEmptyPassphrase)
		}
		return p, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", fmt.Errorf("a passphrase is needed: use --passphrase-file FILE (no terminal to ask on)")
	}
	fmt.Fprint(os.Stderr, prompt)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if confirm && len(p) == 0 {
		return "", errEmptyPassphrase
	}
	if confirm {
		fmt.Fprint(os.Stderr, "Repeat the passphrase: ")
		q, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		if string(p) != string(q) {
			return "", fmt.Errorf("the two passphrases differ")
		}
	}
	return string(p), nil
}

// loadKey decrypts a named key: development keys have an empty
// passphrase and open without asking; others take --passphrase-file or a
// prompt.
func loadKey(g *globals, name, passFile string) (*crypto.PrivateKey, error) {
	ks, err := openKeystore(g)
	if err != nil {
		return nil, err
	}
	if passFile == "" {
		k, err := ks.Load(name, "")
		if err == nil {
			return k, nil
		}
		if !errors.Is(err, keystore.ErrWrongPassphrase) {
			return nil, keyError(g, name, err)
		}
	}
	pass, err := readPassphrase(passFile, fmt.Sprintf("Passphrase for key %q: ", name), false)
	if err != nil {
		return nil, err
	}
	k, err := ks.Load(name, pass)
	if err != nil {
		return nil, keyError(g, name, err)
	}
	return k, nil
}

func keyError(g *globals, name string, err error) error {
	if errors.Is(err, keystore.ErrNotFound) {
		return fmt.Errorf("no key %q in %s (see citychain keys list --home %s): %w", name,
			filepath.Join(g.home, node.KeystoreDir), g.home, err)
	}
	return fmt.Errorf("key %q: %w", name, err)
}

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage keys in the encrypted keystore under --home",
		Long: `Keys live in HOME/keystore, one file each, encrypted with a key derived from
your passphrase (scrypt) and XChaCha20-Poly1305. The address and public key are
readable without the passphrase; the private key is not. A key of your own
needs a passphrase: only the development keys dev0..dev9 have none.`,
	}
	var passFile string
	newKey := &cobra.Command{
		Use:   "new NAME",
		Short: "Create a new key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := openKeystore(g)
			if err != nil {
				return err
			}
			if err := keystore.ValidateName(args[0]); err != nil {
				return err
			}
			pass, err := readPassphrase(passFile, "Passphrase for the new key: ", true)
			if err != nil {
				return err
			}
			k, err := ks.New(args[0], pass)
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), k.Info, func(w io.Writer) {
				fmt.Fprintf(w, "created key %s\naddress: %s\npubkey:  %s\n", k.Name, k.Address, k.PubKey)
			})
		},
	}
	newKey.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from this file instead of asking")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := openKeystore(g)
			if err != nil {
				return err
			}
			infos, err := ks.List()
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), infos, func(w io.Writer) {
				if len(infos) == 0 {
					fmt.Fprintf(w, "no keys in %s\n", ks.Dir())
					return
				}
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tADDRESS")
				for _, i := range infos {
					fmt.Fprintf(tw, "%s\t%s\n", i.Name, i.Address)
				}
				tw.Flush()
			})
		},
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a key's address and public key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := openKeystore(g)
			if err != nil {
				return err
			}
			info, err := ks.Show(args[0])
			if err != nil {
				return keyError(g, args[0], err)
			}
			return g.printOut(cmd.OutOrStdout(), info, func(w io.Writer) {
				fmt.Fprintf(w, "name:    %s\naddress: %s\npubkey:  %s\n", info.Name, info.Address, info.PubKey)
			})
		},
	}
	var importFile string
	importKey := &cobra.Command{
		Use:   "import NAME --key-file FILE",
		Short: "Import a private key from a file: 64 hex characters, or a node's validator_key.json",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(importFile)
			if err != nil {
				return fmt.Errorf("--key-file: %w", err)
			}
			var priv *crypto.PrivateKey
			if strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
				priv, err = node.LoadValidatorKey(importFile) // a node's validator_key.json
			} else {
				priv, err = crypto.PrivateKeyFromHex(strings.TrimSpace(string(b)))
			}
			if err != nil {
				return err
			}
			ks, err := openKeystore(g)
			if err != nil {
				return err
			}
			pass, err := readPassphrase(passFile, "Passphrase to protect the key: ", true)
			if err != nil {
				return err
			}
			if err := ks.Import(args[0], priv, pass); err != nil {
				return err
			}
			info, err := ks.Show(args[0])
			if err != nil {
				return err
			}
			return g.printOut(cmd.OutOrStdout(), info, func(w io.Writer) {
				fmt.Fprintf(w, "imported key %s\naddress: %s\n", info.Name, info.Address)
			})
		},
	}
	importKey.Flags().StringVar(&importFile, "key-file", "", "file holding the private key in hex")
	importKey.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from this file instead of asking")
	_ = importKey.MarkFlagRequired("key-file")

	export := &cobra.Command{
		Use:   "export NAME",
		Short: "Print a key's private key in hex (keep it secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := loadKey(g, args[0], passFile)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%x\n", k.Bytes())
			return nil
		},
	}
	export.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from this file instead of asking")
	cmd.AddCommand(newKey, list, show, importKey, export)
	return cmd
}
