package labs

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Lab 4: follow a batch of tea leaves through EPCIS events to the place
// its products went. The check follows the chain the way the lab asks
// the student to: the batch's provenance downstream to the products
// made from it, each product's state to the container it was packed in,
// and the container's state to where it was received.
func lab4() *Lab {
	return &Lab{
		Number: 4, Slug: "04-trace-a-batch",
		Title: tx("Trace a batch through EPCIS events", "用 EPCIS 事件追踪一批货"),
		Steps: []Step{
			{
				Name: tx("the batch's events are on the chain", "这批货的事件已经上链"),
				Hint: tx("Capture the lab's document: citychain tx trace capture /tmp/citylab/tea.json --home .devnet/node0 --from dev0 --wait",
					"提交实验里的文档：citychain tx trace capture /tmp/citylab/tea.json --home .devnet/node0 --from dev0 --wait"),
				Check: lab4Events,
			},
			{
				Name: tx("the batch went into products", "这批原料被做成了产品"),
				Hint: tx("The batch's provenance lists what it went into: citychain query trace provenance BATCH. A TransformationEvent with the batch as input makes that link.",
					"这批货的溯源信息会列出它被做成了什么：citychain query trace provenance 批次标识。以它为输入的 TransformationEvent 会建立这种关联。"),
				Check: lab4Products,
			},
			{
				Name: tx("the products arrived somewhere", "产品到达了某个地点"),
				Hint: tx("A receiving event with a bizLocation records where a product (or the case it was packed in) arrived.",
					"带有 bizLocation 的 receiving 事件记录了产品（或装着它的箱子）到达的地点。"),
				Check: lab4Arrived,
			},
			{
				Name: tx("your answer: where the batch went", "你的答案：这批货去了哪里"),
				Hint: tx("Follow the chain: the batch's provenance gives the packets, a packet's state gives its container, the container's state gives where it was received. Pass that location (an SGLN, a GLN or its Digital Link) as --answer.",
					"顺着链上的记录找：批次的溯源信息给出茶包，茶包的状态给出装它的箱子，箱子的状态给出它被接收的地点。把这个地点（SGLN、GLN 或其数字链接）用 --answer 交上来。"),
				Check: lab4Answer,
			},
		},
	}
}

// Lab4Batch is the batch the lab's document commissions: a lot of tea
// leaves, as an EPC class.
const Lab4Batch = "urn:epc:class:lgtin:9521111.012345.LOT7"

// maxProducts bounds the products the check follows.
const maxProducts = 100

func (e *Env) batch() string {
	if e.Student != nil && e.Student.Batch != "" {
		return e.Student.Batch
	}
	return Lab4Batch
}

func traceEPCPath(epc, what string) string {
	return "/v1/apps/trace/epcs/" + url.PathEscape(epc) + "/" + what
}

func lab4Events(ctx context.Context, e *Env) Result {
	var a struct {
		Events []struct {
			Height uint64 `json:"height"`
		} `json:"events"`
	}
	err := e.Chain.Get(ctx, traceEPCPath(e.batch(), "events"), &a)
	if errors.Is(err, ErrNotFound) || (err == nil && len(a.Events) == 0) {
		return todo(say("no event names %s yet", "还没有任何事件提到 %s", e.batch()))
	}
	if err != nil {
		return failed(err)
	}
	return done(say("%d event(s) name %s", "有 %d 个事件提到 %s", len(a.Events), e.batch()))
}

// traceLink is a link of a provenance tree.
type traceLink struct {
	EPC   string       `json:"epc"`
	Links []*traceLink `json:"links"`
}

// products returns the canonical keys of everything the batch went
// into, at any depth.
func (e *Env) products(ctx context.Context) ([]string, error) {
	var a struct {
		Downstream []*traceLink `json:"downstream"`
	}
	if err := e.Chain.Get(ctx, traceEPCPath(e.batch(), "provenance"), &a); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	var walk func([]*traceLink)
	walk = func(ls []*traceLink) {
		for _, l := range ls {
			if l == nil || seen[l.EPC] || len(out) >= maxProducts {
				continue
			}
			seen[l.EPC] = true
			out = append(out, l.EPC)
			walk(l.Links)
		}
	}
	walk(a.Downstream)
	return out, nil
}

func lab4Products(ctx context.Context, e *Env) Result {
	ps, err := e.products(ctx)
	if errors.Is(err, ErrNotFound) {
		return todo(say("no event names %s yet", "还没有任何事件提到 %s", e.batch()))
	}
	if err != nil {
		return failed(err)
	}
	if len(ps) == 0 {
		return todo(tx("nothing was made from the batch yet", "这批原料还没有被做成任何东西"))
	}
	return done(say("%d product(s) were made from it", "它被做成了 %d 件产品", len(ps)))
}

// traceState is the part of epcs/{epc}/state the check reads.
type traceState struct {
	State struct {
		BizLocation string `json:"biz_location"`
		Container   string `json:"container"`
	} `json:"state"`
}

// destinations returns where the batch's products are, as GLN bodies
// (the 12 digits before the check digit): a product's own location, or
// that of the outermost container it is packed in.
func (e *Env) destinations(ctx context.Context) ([]string, error) {
	ps, err := e.products(ctx)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, p := range ps {
		var s traceState
		err := e.Chain.Get(ctx, traceEPCPath(p, "state"), &s)
		if errors.Is(err, ErrNotFound) {
			continue // a class has no state
		}
		if err != nil {
			return nil, err
		}
		where := s.State.BizLocation
		for depth, c := 0, s.State.Container; c != "" && depth < 8; depth++ {
			var cs traceState
			if err := e.Chain.Get(ctx, traceEPCPath(c, "state"), &cs); err != nil {
				if errors.Is(err, ErrNotFound) {
					break
				}
				return nil, err
			}
			if cs.State.BizLocation != "" {
				where = cs.State.BizLocation
			}
			c = cs.State.Container
		}
		if g := glnBody(where); g != "" {
			found[g] = true
		}
	}
	out := make([]string, 0, len(found))
	for g := range found {
		out = append(out, g)
	}
	sort.Strings(out)
	return out, nil
}

func lab4Arrived(ctx context.Context, e *Env) Result {
	ds, err := e.destinations(ctx)
	if errors.Is(err, ErrNotFound) {
		return todo(say("no event names %s yet", "还没有任何事件提到 %s", e.batch()))
	}
	if err != nil {
		return failed(err)
	}
	if len(ds) == 0 {
		return todo(tx("no product of the batch, nor a case it was packed in, was received anywhere yet",
			"这批货的产品以及装它们的箱子都还没有在任何地点被接收"))
	}
	// The places are the answer of the last step: count them, name none.
	return done(say("the products were received at %d place(s)", "产品在 %d 个地点被接收", len(ds)))
}

func lab4Answer(ctx context.Context, e *Env) Result {
	if e.Student == nil {
		return local()
	}
	ans := strings.TrimSpace(e.Student.Answer)
	if ans == "" {
		return todo(tx("no --answer given", "没有提供 --answer"))
	}
	g := glnBody(ans)
	if g == "" {
		return todo(say("%q is not a location: give an SGLN (urn:epc:id:sgln:...), a 13-digit GLN or a Digital Link with /414/",
			"%q 不是一个地点：请给出 SGLN（urn:epc:id:sgln:...）、13 位 GLN 或带 /414/ 的数字链接", ans))
	}
	ds, err := e.destinations(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return failed(err)
	}
	for _, d := range ds {
		if d == g {
			return done(say("yes: the batch's products were received at %s", "答对了：这批货的产品在 %s 被接收", ans))
		}
	}
	return todo(say("%s is not where the batch went", "%s 不是这批货的去向", ans))
}

var (
	sglnURI   = regexp.MustCompile(`(?i)^urn:epc:id:sgln:(\d+)\.(\d*)\.[^.]*$`)
	glnDigits = regexp.MustCompile(`^\d{13}$`)
	glnLink   = regexp.MustCompile(`(?i)^https?://[^/]+/414/(\d{13})(/|$|\?)`)
)

// glnBody returns the 12 digits of a location before its check digit:
// from an SGLN (company prefix and location reference), a 13-digit GLN,
// or a GS1 Digital Link with /414/. It returns "" for anything else.
func glnBody(s string) string {
	s = strings.TrimSpace(s)
	if m := sglnURI.FindStringSubmatch(s); m != nil {
		if d := m[1] + m[2]; len(d) == 12 {
			return d
		}
		return ""
	}
	if glnDigits.MatchString(s) {
		return s[:12]
	}
	if m := glnLink.FindStringSubmatch(s); m != nil {
		return m[1][:12]
	}
	return ""
}
