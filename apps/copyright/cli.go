package copyright

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TxCommands returns "citychain tx copyright register|transfer|grant|revoke|annotate".
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	var reg Register
	register := &cobra.Command{
		Use:   "register FILE --creator NAME --license SPDX-ID [--title TEXT] [--media-type TYPE]",
		Short: "Register a work by the fingerprints of its file (the file stays with you)",
		Long: `Computes the file's SHA-256, ISCC Instance-Code and ISCC Data-Code here and
registers them with the metadata. The chain stores fingerprints, never the file.
The first to register a file holds it; a later file whose Data-Code is close to an
earlier one is registered and flagged as its near-duplicate.`,
		Example: `  citychain tx copyright register poster.png --from dev0 --creator "Ada Ruiz" --license CC-BY-4.0 --wait`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fp, err := fingerprintFile(args[0])
			if err != nil {
				return err
			}
			m := reg
			m.SHA256, m.InstanceCode, m.DataCode, m.Size = fp.SHA256, fp.InstanceCode, fp.DataCode, fp.Size
			m.Title = cmp.Or(m.Title, strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0])))
			m.MediaType = cmp.Or(m.MediaType, guessMediaType(args[0]))
			if err := m.Validate(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "work %s\n  data-code %s  sha256 %s  %d bytes  %s\n",
				fp.InstanceCode, fp.DataCode, fp.SHA256, fp.Size, m.MediaType)
			return c.Submit(cmd, Name, ActionRegister, &m)
		},
	}
	f := register.Flags()
	f.StringVar(&reg.Title, "title", "", "title of the work (default: the file name)")
	f.StringVar(&reg.Creator, "creator", "", "the author, as you name them")
	f.StringVar(&reg.License, "license", "", "SPDX licence id (CC-BY-4.0, CC0-1.0, MIT, ...) or LicenseRef-...")
	f.StringVar(&reg.MediaType, "media-type", "", "IANA media type (default: guessed from the extension)")
	sdk.Required(f, "creator", "license")

	transfer := sdk.TxCmd(c, Name, ActionTransfer, "transfer --work ID --to ADDRESS", "Hand a work you hold to another account",
		sdk.BindFlags(func(f *pflag.FlagSet, m *Transfer) {
			f.StringVar(&m.Work, "work", "", "the work's ID (its 256-bit Instance-Code)")
			f.StringVar(&m.To, "to", "", "the new holder (city1...)")
		}, "work", "to"))
	transfer.Example = `  citychain tx copyright transfer --from dev0 --work ISCC:IAD... --to city1...`

	grant := sdk.TxCmd(c, Name, ActionGrant, "grant --work ID --to ADDRESS --scope TEXT [--expires-height N] [--expires-at TIME]",
		"License a work you hold to someone, for a scope and until an expiry",
		sdk.BindFlags(func(f *pflag.FlagSet, m *GrantLicense) {
			f.StringVar(&m.Work, "work", "", "the work's ID")
			f.StringVar(&m.Licensee, "to", "", "the licensee (city1...)")
			f.StringVar(&m.Scope, "scope", "", "what the licensee may do, in words")
			f.Uint64Var(&m.ExpiresHeight, "expires-height", 0, "the grant ends at this block height")
			f.StringVar(&m.ExpiresAt, "expires-at", "", "the grant ends at this time (RFC 3339)")
		}, "work", "to", "scope"))
	grant.Example = `  citychain tx copyright grant --from dev0 --work ISCC:IAD... --to city1... --scope "print, EU, 5000 copies" --expires-at 2027-01-01T00:00:00Z`

	revoke := sdk.TxCmd(c, Name, ActionRevoke, "revoke --grant ID [--reason TEXT]", "End a grant on a work you hold",
		sdk.BindFlags(func(f *pflag.FlagSet, m *Revoke) {
			f.Uint64Var(&m.Grant, "grant", 0, "the grant's id")
			f.StringVar(&m.Reason, "reason", "", "why, for the work's trail")
		}, "grant"))
	annotate := sdk.TxCmd(c, Name, ActionAnnotate, "annotate --work ID --text TEXT", "Add a signed note to a work's trail (anyone may)",
		sdk.BindFlags(func(f *pflag.FlagSet, m *Annotate) {
			f.StringVar(&m.Work, "work", "", "the work's ID")
			f.StringVar(&m.Text, "text", "", "the note")
		}, "work", "text"))
	return []*cobra.Command{register, transfer, grant, revoke, annotate}
}

// QueryCommands returns "citychain query copyright work|verify|grant|grants|holder".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	work := sdk.QueryCmd(c, "work ID|SHA256|INSTANCE-CODE", "Show a work: record, near-duplicates, grants and trail",
		sdk.PathOf(workPath), printWorkAnswer)
	grant := sdk.QueryCmd(c, "grant ID", "Show one grant with its status and the proof a licensee can show",
		sdk.Path(Name+"/grant/%s"), func(w io.Writer, a *GrantAnswer) { printGrants(w, []GrantView{a.Grant}) })
	grants := sdk.QueryCmd(c, "grants ADDRESS", "List the grants given to a licensee", sdk.Path(Name+"/grants/%s"),
		func(w io.Writer, a *GrantsAnswer) { printGrants(w, a.Grants) })
	holder := sdk.QueryCmd(c, "holder ADDRESS", "List the works an account holds", sdk.Path(Name+"/holder/%s"),
		func(w io.Writer, a *HolderAnswer) {
			for _, x := range a.Works {
				fmt.Fprintf(w, "%s  %-8s  block %-6d  %s\n", x.ID, x.License, x.Height, x.Title)
			}
		})

	var certOut, htmlOut string
	verify := &cobra.Command{
		Use:   "verify FILE [--cert OUT.json] [--html OUT.html]",
		Short: "Who registered this file, when, with a proof checked against a committed header",
		Long: `Hashes the file here, asks the node for the record with a Merkle proof, checks
the proof against the signed header of the block it was made at, and compares
all three fingerprints with the file. --cert and --html write a certificate that
'citychain verify' checks later without any node.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fp, err := fingerprintFile(args[0])
			if err != nil {
				return err
			}
			var ans VerifyAnswer
			if err := c.Query(cmd, Name+"/verify/"+fp.SHA256, &ans); err != nil {
				return err
			}
			if ans.Proof == nil {
				return fmt.Errorf("the node sent no proof")
			}
			// The header, commit and validator set of the proof's block.
			var block, vals json.RawMessage
			if err := c.Block(cmd, ans.Proof.Height, &block); err != nil {
				return fmt.Errorf("fetch block %d: %w", ans.Proof.Height, err)
			}
			if err := c.Validators(cmd, &vals); err != nil {
				return fmt.Errorf("fetch the validators: %w", err)
			}
			h, commit, set, err := ParseBlockEvidence(block, vals)
			if err != nil {
				return err
			}
			cert, err := NewCertificate(&ans, h, commit, set)
			if err != nil {
				return err
			}
			v, err := VerifyCertificate(cert, VerifyOptions{File: fp})
			if err != nil {
				return err
			}
			if certOut != "" {
				if err := os.WriteFile(certOut, cert.Encode(), 0o644); err != nil {
					return err
				}
			}
			if htmlOut != "" {
				var page bytes.Buffer
				if err := RenderHTML(&page, cert, v); err != nil {
					return err
				}
				if err := os.WriteFile(htmlOut, page.Bytes(), 0o644); err != nil {
					return err
				}
			}
			return c.Print(cmd, v, func(w io.Writer) { printVerified(w, v) })
		},
	}
	verify.Flags().StringVar(&certOut, "cert", "", "write the certificate as JSON to this file")
	verify.Flags().StringVar(&htmlOut, "html", "", "write a printable one-page certificate to this file")
	return []*cobra.Command{work, verify, grant, grants, holder}
}

// VerifyCommand returns the command mounted as "citychain verify CERT":
// it checks a certificate (JSON or the HTML page) without any node.
func VerifyCommand() *cobra.Command {
	var file, trusted string
	cmd := &cobra.Command{
		Use:   "verify CERT [--file FILE] [--validators-hash HEX]",
		Short: "Check a copyright certificate offline",
		Long: `Checks a certificate written by 'citychain query copyright verify': the header
hash, the validators' commit signatures, the Merkle proof of the record under the
header's state root, and with --file that the file has the recorded fingerprints.
It needs no node. It trusts the validator set in the certificate unless you pass
--validators-hash with a hash you got from a source you trust.`,
		Example: `  citychain verify poster-cert.json --file poster.png
  citychain verify poster-cert.html --validators-hash 3f2a...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			cert, err := ReadCertificate(raw)
			if err != nil {
				return err
			}
			var opts VerifyOptions
			if trusted != "" {
				if opts.TrustedValidators, err = chain.ParseHash(trusted); err != nil {
					return fmt.Errorf("--validators-hash: %w", err)
				}
			}
			if file != "" {
				if opts.File, err = fingerprintFile(file); err != nil {
					return err
				}
			}
			v, err := VerifyCertificate(cert, opts)
			if err != nil {
				return err
			}
			if f := cmd.Flag("output"); f != nil && f.Value.String() == "json" {
				return sdk.PrintJSON(cmd.OutOrStdout(), v)
			}
			printVerified(cmd.OutOrStdout(), v)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "also check that this file is the registered one")
	cmd.Flags().StringVar(&trusted, "validators-hash", "", "the validator-set hash you trust (hex)")
	return cmd
}

func fingerprintFile(path string) (*Fingerprints, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fp, err := Fingerprint(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return fp, nil
}

// mediaTypes are the extensions of creative works whose media types the
// registry names itself, so the guess does not depend on the machine's
// mime.types file.
var mediaTypes = map[string]string{
	".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg",
	".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".tif": "image/tiff", ".tiff": "image/tiff", ".svg": "image/svg+xml", ".webp": "image/webp",
	".txt": "text/plain", ".md": "text/markdown", ".html": "text/html", ".pdf": "application/pdf",
	".epub": "application/epub+zip", ".zip": "application/zip",
}

// guessMediaType names the media type of a file by its extension, without
// parameters; application/octet-stream when unknown.
func guessMediaType(path string) string {
	ext := strings.ToLower(filepath.Ext(path))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	t := mime.TypeByExtension(ext)
	if t == "" {
		return "application/octet-stream"
	}
	t, _, _ = strings.Cut(t, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// workPath routes a work argument: 64 hex digits are a SHA-256, a 256-bit
// Instance-Code is an ID, a shorter one is looked up by prefix.
func workPath(args []string) (string, error) {
	if b, err := hex.DecodeString(args[0]); err == nil && len(b) == 32 {
		return Name + "/by-hash/" + args[0], nil
	}
	if c, err := ParseCode(args[0]); err == nil && c.Bits() < InstanceCodeBits {
		return Name + "/by-instance/" + c.String(), nil
	}
	return Name + "/work/" + args[0], nil
}

func printWork(w io.Writer, x *Work) {
	fields := [][2]string{{"work", x.ID}, {"title", x.Title}, {"creator", x.Creator}, {"licence", x.License},
		{"media", fmt.Sprintf("%s, %d bytes", x.MediaType, x.Size)},
		{"registered", fmt.Sprintf("by %s at height %d, %s", x.Registrant, x.Height, x.Time)},
		{"holder", x.Holder.String()}, {"data-code", x.DataCode}, {"sha256", x.SHA256}}
	for _, n := range x.NearDuplicateOf {
		fields = append(fields, [2]string{"FLAGGED", "near-duplicate of " + n})
	}
	sdk.PrintFields(w, fields)
}

func printWorkAnswer(w io.Writer, a *WorkAnswer) {
	printWork(w, &a.Work)
	for _, n := range a.NearDuplicates {
		fmt.Fprintf(w, "look-alike (%s, distance %d): %s %q, height %d\n", n.Relation, n.Distance, n.ID, n.Title, n.Height)
	}
	if len(a.Grants) > 0 {
		fmt.Fprintln(w, "grants:")
		printGrants(w, a.Grants)
	}
	fmt.Fprintln(w, "trail:")
	for _, e := range a.Trail {
		fmt.Fprintf(w, "  %3d  height %-6d %-9s %s  %s\n", e.Seq, e.Height, e.Kind, e.Actor, e.Text)
	}
}

func printGrants(w io.Writer, gs []GrantView) {
	for _, g := range gs {
		exp := "no expiry"
		switch {
		case g.ExpiresHeight != 0 && g.ExpiresAt != "":
			exp = fmt.Sprintf("until height %d or %s", g.ExpiresHeight, g.ExpiresAt)
		case g.ExpiresHeight != 0:
			exp = fmt.Sprintf("until height %d", g.ExpiresHeight)
		case g.ExpiresAt != "":
			exp = "until " + g.ExpiresAt
		}
		fmt.Fprintf(w, "  grant %d  %-7s  %s to %s, %s: %s\n", g.ID, g.Status, g.Work, g.Licensee, exp, g.Scope)
	}
}

func printVerified(w io.Writer, v *Verified) {
	printWork(w, &v.Work)
	fmt.Fprintf(w, "\nproven in block %d (%s), hash %s\n", v.BlockHeight, v.BlockTime, v.BlockHash)
	fmt.Fprintf(w, "signed by %d validator(s), power %d of %d; validator set %s", len(v.Signers), v.SignedPower, v.TotalPower, v.ValidatorsHash)
	if v.ValidatorsTrusted {
		fmt.Fprintln(w, " (the trusted one)")
	} else {
		fmt.Fprintln(w, " (taken from the certificate: compare it with one you trust)")
	}
	if v.FileChecked {
		fmt.Fprintln(w, "file: SHA-256, Instance-Code, Data-Code and size match the record")
	}
	fmt.Fprintln(w, "OK")
}
