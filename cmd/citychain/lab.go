package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
	"github.com/citychain/citychain/node/keystore"
	"github.com/citychain/citychain/node/labs"
	"github.com/spf13/cobra"
)

// labFlags are what a student hands to `citychain lab check`.
type labFlags struct {
	lang   string
	answer string
	cert   string
	module string
	epc    string
}

func newLabCmd(g *globals) *cobra.Command {
	f := &labFlags{}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "The guided labs, and checks of your work against the running network",
		Long: `Seven guided labs walk through CityChain: keys and a transfer, a block checked by
hand, consensus with validators stopped, a batch traced through EPCIS events, a
copyright certificate checked offline, a validator voted in, and a module of your
own. Each lab's document is docs/en/labs/ (English) or docs/zh/labs/ (Chinese).

"citychain lab check N" reads the network at --node, and your keystore (--home),
answer (--answer) or certificate (--cert) where the lab needs them, and says what
is done and what is still missing, with a hint. It exits with status 1 until the
lab is done. Messages are in English or Chinese: --lang, else the locale
(LC_ALL, LC_MESSAGES, LANG).`,
	}
	cmd.PersistentFlags().StringVar(&f.lang, "lang", "", "language of the messages: en or zh (default: from LC_ALL, LC_MESSAGES or LANG)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the labs with how far each is done on the network at --node",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lang, err := labLang(f.lang)
			if err != nil {
				return err
			}
			env, err := labEnv(g, &labFlags{})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			var reports []*labs.Report
			for _, l := range labs.All() {
				r, err := l.Check(ctx, env)
				if err != nil {
					return err
				}
				reports = append(reports, r)
			}
			views := make([]labView, len(reports))
			for i, r := range reports {
				views[i] = newLabView(r, lang)
			}
			return g.printOut(cmd.OutOrStdout(), views, func(w io.Writer) { printLabList(w, views, lang) })
		},
	}

	check := &cobra.Command{
		Use:   "check N",
		Short: "Check lab N against the network at --node and your files",
		Long: `Check lab N: every step of it, against the network at --node and, where the
lab needs them, your keystore in --home, your answer and your files. Steps not
done come with a hint. The exit status is 0 once every step is done, 1 before.

  lab 1  the keystore in --home
  lab 2  --answer: what your program printed (a file, - for standard input, or the text)
  lab 4  --answer: the location the batch went to; --epc another batch to trace
  lab 5  --cert: the certificate file you wrote
  lab 7  --module: your module's name (default: any module that is not built in)`,
		Example: `  citychain lab check 1 --home .devnet/node0
  go run /tmp/citylab/blockcheck.go 2 | citychain lab check 2 --answer -
  citychain lab check 4 --answer LOCATION --lang zh
  citychain lab check 5 --cert /tmp/citylab/poem-cert.json --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return fmt.Errorf("lab %q: give the lab's number, 1 to %d (see citychain lab list)", args[0], len(labs.All()))
			}
			l, err := labs.Find(n)
			if err != nil {
				return err
			}
			lang, err := labLang(f.lang)
			if err != nil {
				return err
			}
			env, err := labEnv(g, f)
			if err != nil {
				return err
			}
			if f.answer == "-" {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxAnswerBytes+1))
				if err != nil {
					return fmt.Errorf("--answer -: %w", err)
				}
				if len(b) > maxAnswerBytes {
					return fmt.Errorf("--answer -: more than %d bytes on standard input", maxAnswerBytes)
				}
				env.Student.Answer = string(b)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			r, err := l.Check(ctx, env)
			if err != nil {
				return err
			}
			v := newLabView(r, lang)
			if err := g.printOut(cmd.OutOrStdout(), v, func(w io.Writer) { printLabCheck(w, g.node, v, lang) }); err != nil {
				return err
			}
			if !r.Done {
				return &labNotDone{view: v, lang: lang}
			}
			return nil
		},
	}
	check.Flags().StringVar(&f.answer, "answer", "", "your answer: the text, a file holding it, or - for standard input (labs 2 and 4)")
	check.Flags().StringVar(&f.cert, "cert", "", "your certificate file (lab 5)")
	check.Flags().StringVar(&f.module, "module", "", "the name of your module (lab 7)")
	check.Flags().StringVar(&f.epc, "epc", "", "the batch to trace (lab 4; default: the lab's "+labs.Lab4Batch+")")
	cmd.AddCommand(list, check)
	return cmd
}

// maxAnswerBytes bounds an answer read from a file or standard input.
const maxAnswerBytes = 1 << 20

// labLang returns the language of --lang, else of the locale.
func labLang(flag string) (labs.Lang, error) {
	if flag != "" {
		l, err := labs.ParseLang(flag)
		if err != nil {
			return "", fmt.Errorf("--lang: %w", err)
		}
		return l, nil
	}
	return labs.LangFromEnv(os.Getenv), nil
}

// labEnv gathers the network and the student's side for a check.
func labEnv(g *globals, f *labFlags) (*labs.Env, error) {
	keys, err := studentKeys(g.home)
	if err != nil {
		return nil, err
	}
	answer := f.answer
	if answer != "" && answer != "-" {
		if st, err := os.Stat(answer); err == nil && st.Mode().IsRegular() {
			if st.Size() > maxAnswerBytes {
				return nil, fmt.Errorf("--answer %s: %d bytes, more than an answer holds (%d)", answer, st.Size(), maxAnswerBytes)
			}
			b, err := os.ReadFile(answer)
			if err != nil {
				return nil, fmt.Errorf("--answer: %w", err)
			}
			answer = string(b)
		}
	}
	var dev []string
	for _, a := range node.DevAccounts() {
		dev = append(dev, a.Address.String())
	}
	return &labs.Env{
		Chain: apiChain{client.New(g.node)},
		Dev:   dev,
		Student: &labs.Student{Keys: keys, Answer: answer, Cert: f.cert, Module: f.module, Batch: f.epc,
			Verify: verifyCertificate},
	}, nil
}

// studentKeys lists the keys in the keystore of home without creating
// one where there is none.
func studentKeys(home string) ([]labs.Key, error) {
	dir := filepath.Join(home, node.KeystoreDir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	ks, err := keystore.Open(dir)
	if err != nil {
		return nil, err
	}
	infos, err := ks.List()
	if err != nil {
		return nil, err
	}
	keys := make([]labs.Key, len(infos))
	for i, in := range infos {
		keys[i] = labs.Key{Name: in.Name, Address: in.Address.String()}
	}
	return keys, nil
}

// verifyCertificate runs `citychain verify CERT --output json` with this
// very binary: the offline check a student runs, without a node.
func verifyCertificate(ctx context.Context, cert string) ([]byte, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the citychain binary: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return runSelf(ctx, self, "verify", cert, "--output", "json")
}

// apiChain is the network through a client of its HTTP API.
type apiChain struct{ cl *client.Client }

func (a apiChain) Get(ctx context.Context, path string, out any) error {
	err := a.cl.Get(ctx, path, out)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
		return fmt.Errorf("%w: %s", labs.ErrNotFound, ce.Message)
	}
	return err
}

// labNotDone is the error of a check that found steps missing: the exit
// status is 1, and the message says how far the lab is.
type labNotDone struct {
	view labView
	lang labs.Lang
}

func (e *labNotDone) Error() string {
	if e.lang == labs.Zh {
		return fmt.Sprintf("实验 %d 尚未完成：%d 步中完成了 %d 步", e.view.Lab, len(e.view.Steps), e.view.StepsDone)
	}
	return fmt.Sprintf("lab %d is not done yet: %d of %d steps", e.view.Lab, e.view.StepsDone, len(e.view.Steps))
}

// labView is a lab's report in one language: what --output json prints.
type labView struct {
	Lab       int           `json:"lab"`
	Title     string        `json:"title"`
	Lang      labs.Lang     `json:"lang"`
	Done      bool          `json:"done"`
	StepsDone int           `json:"steps_done"`
	Doc       string        `json:"doc"`
	Steps     []labStepView `json:"steps"`
}

type labStepView struct {
	Name   string     `json:"name"`
	State  labs.State `json:"state"`
	Detail string     `json:"detail"`
	Hint   string     `json:"hint,omitempty"`
}

func newLabView(r *labs.Report, lang labs.Lang) labView {
	done, _ := r.Counts()
	v := labView{Lab: r.Number, Title: r.Title.In(lang), Lang: lang, Done: r.Done, StepsDone: done,
		Doc: fmt.Sprintf("docs/%s/labs/%s.md", lang, r.Slug), Steps: []labStepView{}}
	for _, s := range r.Steps {
		sv := labStepView{Name: s.Name.In(lang), State: s.State, Detail: s.Detail.In(lang)}
		if s.Hint != nil {
			sv.Hint = s.Hint.In(lang)
		}
		v.Steps = append(v.Steps, sv)
	}
	return v
}

// mark is the sign before a step: done, not done, or checked elsewhere.
func mark(s labs.State) string {
	switch s {
	case labs.StateDone:
		return "✓"
	case labs.StateLocal:
		return "?"
	}
	return "✗"
}

func printLabCheck(w io.Writer, nodeURL string, v labView, lang labs.Lang) {
	if lang == labs.Zh {
		fmt.Fprintf(w, "实验 %d · %s\n节点 %s · 实验文档 %s\n\n", v.Lab, v.Title, nodeURL, v.Doc)
	} else {
		fmt.Fprintf(w, "Lab %d · %s\nnode %s · document %s\n\n", v.Lab, v.Title, nodeURL, v.Doc)
	}
	for _, s := range v.Steps {
		fmt.Fprintf(w, "  %s %s\n", mark(s.State), s.Name)
		if s.Detail != "" {
			fmt.Fprintf(w, "      %s\n", s.Detail)
		}
		if s.Hint != "" {
			if lang == labs.Zh {
				fmt.Fprintf(w, "      提示：%s\n", s.Hint)
			} else {
				fmt.Fprintf(w, "      hint: %s\n", s.Hint)
			}
		}
	}
	fmt.Fprintln(w)
	if v.Done {
		if lang == labs.Zh {
			fmt.Fprintf(w, "实验 %d 已完成：%d 步全部完成。\n", v.Lab, len(v.Steps))
		} else {
			fmt.Fprintf(w, "Lab %d is done: all %d steps.\n", v.Lab, len(v.Steps))
		}
	}
}

func printLabList(w io.Writer, views []labView, lang labs.Lang) {
	// The title goes last: Chinese characters are two columns wide,
	// which would break the alignment of anything after them.
	if lang == labs.Zh {
		fmt.Fprintln(w, "实验 进度       标题")
	} else {
		fmt.Fprintln(w, "LAB  STATUS     TITLE")
	}
	for _, v := range views {
		status := fmt.Sprintf("%d/%d", v.StepsDone, len(v.Steps))
		switch {
		case v.Done && lang == labs.Zh:
			status = "已完成"
		case v.Done:
			status = "done"
		case lang == labs.Zh:
			status += " 步"
		default:
			status += " steps"
		}
		pad := 11 - len([]rune(status))
		if lang == labs.Zh {
			pad -= strings.Count(status, "步") + 3*strings.Count(status, "已完成") // wide characters
		}
		fmt.Fprintf(w, "%-5d%s%s%s\n", v.Lab, status, strings.Repeat(" ", max(1, pad)), v.Title)
	}
	if lang == labs.Zh {
		fmt.Fprintln(w, "\n运行 citychain lab check N 查看某个实验还缺什么；实验文档在 docs/zh/labs/。")
	} else {
		fmt.Fprintln(w, "\nRun citychain lab check N for what a lab still needs; the documents are in docs/en/labs/.")
	}
}

// runSelf runs the binary at self with args and returns what it printed
// on standard output; a failure carries the message it printed.
func runSelf(ctx context.Context, self string, args ...string) ([]byte, error) {
	c := exec.CommandContext(ctx, self, args...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		msg = strings.TrimPrefix(msg[strings.LastIndex(msg, "\n")+1:], "Error: ")
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return stdout.Bytes(), nil
}
