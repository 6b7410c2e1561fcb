package copyright

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
)

// htmlCertOpen starts the script element that carries the certificate's
// JSON inside the HTML page, so the page itself can be verified. The
// template below spells it out the same way.
const htmlCertOpen = `<script type="application/json" id="citychain-certificate">`

// RenderHTML writes a one-page printable certificate: the registration in
// words, the evidence in short, and the whole certificate embedded so that
// `citychain verify page.html` checks the page itself. v is the result of
// VerifyCertificate on c.
func RenderHTML(w io.Writer, c *Certificate, v *Verified) error {
	// json.Marshal escapes <, > and &, so the JSON cannot close the
	// script element it sits in.
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return certPage.Execute(w, struct {
		C    *Certificate
		V    *Verified
		JSON template.JS
	}{c, v, template.JS(raw)})
}

var certPage = template.Must(template.New("certificate").Funcs(template.FuncMap{
	"short": func(s fmt.Stringer) string {
		t := s.String()
		if len(t) > 20 {
			return t[:10] + "…" + t[len(t)-8:]
		}
		return t
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Registration certificate: {{.V.Work.Title}}</title>
<style>
  @page { size: A4; margin: 18mm; }
  body { font: 11pt/1.45 Georgia, serif; color: #111; max-width: 180mm; margin: 0 auto; }
  h1 { font-size: 20pt; margin: 0 0 2mm; letter-spacing: .02em; }
  .sub { color: #555; margin-bottom: 6mm; }
  table { border-collapse: collapse; width: 100%; margin: 3mm 0 5mm; }
  th { text-align: left; width: 34%; font-weight: normal; color: #555; vertical-align: top; padding: 1.2mm 2mm 1.2mm 0; }
  td { padding: 1.2mm 0; word-break: break-all; }
  code, .mono { font: 9pt/1.3 "DejaVu Sans Mono", Menlo, monospace; }
  h2 { font-size: 12pt; border-bottom: 1px solid #999; padding-bottom: 1mm; margin-top: 6mm; }
  .ok { color: #0a5d1e; font-weight: bold; }
  .note { font-size: 9pt; color: #444; }
</style>
</head>
<body>
<h1>Registration certificate</h1>
<div class="sub">CityChain copyright registry · chain <code>{{.C.ChainID}}</code></div>

<table>
<tr><th>Title</th><td>{{.V.Work.Title}}</td></tr>
<tr><th>Creator (as declared)</th><td>{{.V.Work.Creator}}</td></tr>
<tr><th>Licence</th><td>{{.V.Work.License}}</td></tr>
<tr><th>Media type · size</th><td>{{.V.Work.MediaType}} · {{.V.Work.Size}} bytes</td></tr>
<tr><th>Registered by</th><td class="mono">{{.V.Work.Registrant}}</td></tr>
<tr><th>Registered at</th><td>block {{.V.Work.Height}}, {{.V.Work.Time}}</td></tr>
<tr><th>Holder at block {{.V.BlockHeight}}</th><td class="mono">{{.V.Work.Holder}}</td></tr>
{{- if .V.Work.NearDuplicateOf}}
<tr><th>Flagged as near-duplicate of</th><td class="mono">{{range .V.Work.NearDuplicateOf}}{{.}}<br>{{end}}</td></tr>
{{- end}}
</table>

<h2>Fingerprints of the file</h2>
<table>
<tr><th>ISCC Instance-Code (work ID)</th><td class="mono">{{.V.Work.ID}}</td></tr>
<tr><th>ISCC Data-Code</th><td class="mono">{{.V.Work.DataCode}}</td></tr>
<tr><th>SHA-256</th><td class="mono">{{.V.Work.SHA256}}</td></tr>
</table>

<h2>Evidence</h2>
<table>
<tr><th>Proven in block</th><td>{{.V.BlockHeight}}, {{.V.BlockTime}}</td></tr>
<tr><th>Block hash</th><td class="mono">{{.V.BlockHash}}</td></tr>
<tr><th>State root</th><td class="mono">{{.V.StateRoot}}</td></tr>
<tr><th>Validator set</th><td class="mono">{{.V.ValidatorsHash}}</td></tr>
<tr><th>Signed by</th><td>{{len .V.Signers}} validator(s), power {{.V.SignedPower}} of {{.V.TotalPower}}:
  {{range .V.Signers}}<span class="mono">{{short .}}</span> {{end}}</td></tr>
<tr><th>Checked when issued</th><td class="ok">header hash, commit signatures, Merkle proof, record</td></tr>
</table>

<p class="note">This page contains the whole certificate. Check it without any node:
<code>citychain verify this-page.html --file WORK-FILE --validators-hash {{.V.ValidatorsHash}}</code>.
The check proves that validators holding more than two thirds of the listed set signed block
{{.V.BlockHeight}}, and that the registry's state after that block holds this record. It trusts
that the listed validators are the chain's (compare the validator-set hash with one from a source
you trust), that they ran the registry's first-to-file rule, and the block time they agreed on.
A registration records a claim and its time; it does not decide authorship.</p>
<script type="application/json" id="citychain-certificate">{{.JSON}}</script>
</body>
</html>
`))
