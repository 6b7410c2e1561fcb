package sdk

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/citychain/citychain/chain"
)

// Validator is a payload that checks itself without state.
type Validator interface{ Validate() error }

// PayloadDecoder is implemented by payloads whose encoded form differs
// from their Go struct (an address kept as text on the wire, say). When a
// payload type has it, Action calls it instead of chain.DecodePayload.
type PayloadDecoder interface{ DecodePayload(payload []byte) error }

// Handler is one entry of a module's action table: the action's name, a
// line of help, and how its payload is decoded, checked and delivered.
// Make one with Action.
type Handler struct {
	Name string
	Doc  string

	decode  func(payload []byte) (any, error)
	deliver func(ctx *chain.Context, msg any) error
}

// Action returns the handler of an action whose payload is a T: the
// payload is decoded into a fresh T (chain.DecodePayload, which refuses
// unknown fields, or T's own DecodePayload), checked with Validate, and
// handed to deliver.
func Action[T any, P interface {
	*T
	Validator
}](name, doc string, deliver func(ctx *chain.Context, m P) error) Handler {
	return Handler{
		Name: name,
		Doc:  doc,
		decode: func(payload []byte) (any, error) {
			m := P(new(T))
			var err error
			if d, ok := any(m).(PayloadDecoder); ok {
				err = d.DecodePayload(payload)
			} else {
				err = chain.DecodePayload(payload, m)
			}
			if err != nil {
				return nil, err
			}
			return m, m.Validate()
		},
		deliver: func(ctx *chain.Context, msg any) error { return deliver(ctx, msg.(P)) },
	}
}

// Route is one query of a module: a path pattern whose segments are
// literals or {name} captures, the query arguments it accepts, and the
// function that answers it. Make one with Query.
type Route struct {
	Pattern string   // "order/{id}"
	Args    []string // accepted ?arguments; any other is refused
	Doc     string
	segs    []string
	fn      func(q *chain.QueryContext, p Params) (any, error)
}

// Query returns a route. pattern is "literal/{capture}/..."; args are the
// names of the query arguments the route accepts.
func Query(pattern, doc string, fn func(q *chain.QueryContext, p Params) (any, error), args ...string) Route {
	return Route{Pattern: pattern, Args: args, Doc: doc, segs: strings.Split(pattern, "/"), fn: fn}
}

// match returns the captures of path, or false.
func (r *Route) match(path []string) (map[string]string, bool) {
	if len(path) != len(r.segs) {
		return nil, false
	}
	var caps map[string]string
	for i, s := range r.segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if caps == nil {
				caps = map[string]string{}
			}
			caps[s[1:len(s)-1]] = path[i]
		} else if s != path[i] {
			return nil, false
		}
	}
	return caps, true
}

// Params are the captures of a route's path and the query's arguments,
// with parsers whose errors name the parameter and wrap
// chain.ErrBadPayload.
type Params struct {
	path map[string]string
	args map[string]string
}

// NewParams returns Params over captures and arguments, for modules that
// route some queries themselves and for tests.
func NewParams(path, args map[string]string) Params { return Params{path: path, args: args} }

// Path returns the capture name of the route's pattern.
func (p Params) Path(name string) string { return p.path[name] }

// Arg returns the query argument name, or "" when it is absent.
func (p Params) Arg(name string) string { return p.args[name] }

// Has reports whether the query argument name was given.
func (p Params) Has(name string) bool { _, ok := p.args[name]; return ok }

// Address parses the capture or, failing that, the argument name as an
// address. An absent parameter is the zero address.
func (p Params) Address(name string) (chain.Address, error) {
	s, ok := p.path[name]
	if !ok {
		s = p.args[name]
	}
	if s == "" {
		return chain.Address{}, nil
	}
	a, err := chain.ParseAddress(s)
	if err != nil {
		return chain.Address{}, fmt.Errorf("%w: %s: %w", chain.ErrBadPayload, name, err)
	}
	return a, nil
}

// Uint parses the capture or, failing that, the argument name as a
// decimal number; an absent argument is def.
func (p Params) Uint(name string, def uint64) (uint64, error) {
	s, ok := p.path[name]
	if !ok {
		s = p.args[name]
	}
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %q is not a whole number", chain.ErrBadPayload, name, s)
	}
	return n, nil
}

// Limit parses the "limit" argument: def when absent, at most max.
func (p Params) Limit(def, max int) (int, error) {
	n, err := p.Uint("limit", uint64(def))
	if err != nil {
		return 0, err
	}
	if n == 0 || n > uint64(max) {
		return 0, fmt.Errorf("%w: limit: %d, want 1 to %d", chain.ErrBadPayload, n, max)
	}
	return int(n), nil
}

// Module gives a module its Name, Check, Deliver and Query from a table
// of actions and a table of queries. Embed it in the module's App:
//
//	type App struct{ *sdk.Module }
//
//	func New() *App {
//		return &App{sdk.NewModule("parking",
//			[]sdk.Handler{sdk.Action("issue", "issue a permit", issue)},
//			[]sdk.Route{sdk.Query("permit/{id}", "one permit", permit)})}
//	}
//
// The empty query path answers the module's index (Index): its actions
// and queries with their help lines.
type Module struct {
	name    string
	actions []Handler
	byName  map[string]int
	routes  []Route
}

// NewModule returns the module name with its actions and queries. Action
// names must be unique; a duplicate is a bug and panics.
func NewModule(name string, actions []Handler, routes []Route) *Module {
	m := &Module{name: name, actions: actions, byName: map[string]int{}, routes: routes}
	for i, h := range actions {
		if _, dup := m.byName[h.Name]; dup || h.decode == nil {
			panic(fmt.Sprintf("sdk: module %s: action %q registered twice or not made with sdk.Action", name, h.Name))
		}
		m.byName[h.Name] = i
	}
	return m
}

// Name returns the module's name.
func (m *Module) Name() string { return m.name }

// Actions returns the action names in table order.
func (m *Module) Actions() []string {
	out := make([]string, len(m.actions))
	for i, h := range m.actions {
		out[i] = h.Name
	}
	return out
}

// Decode decodes and checks the payload of action: the message that
// Deliver would hand to its handler.
func (m *Module) Decode(action string, payload []byte) (any, error) {
	i, ok := m.byName[action]
	if !ok {
		return nil, fmt.Errorf("%w: %s has no action %q (actions: %s)", chain.ErrUnknownAction,
			m.name, action, strings.Join(m.Actions(), ", "))
	}
	return m.actions[i].decode(payload)
}

// Check decodes and checks the payload without state.
func (m *Module) Check(action string, payload []byte) error {
	_, err := m.Decode(action, payload)
	return err
}

// Deliver decodes the payload and runs the action's handler.
func (m *Module) Deliver(ctx *chain.Context, action string, payload []byte) error {
	msg, err := m.Decode(action, payload)
	if err != nil {
		return err
	}
	return m.actions[m.byName[action]].deliver(ctx, msg)
}

// Query routes path to the first route that matches it and refuses
// arguments the route does not accept. The empty path answers the index.
func (m *Module) Query(q *chain.QueryContext, path []string, args map[string]string) (any, error) {
	if len(path) == 0 || (len(path) == 1 && path[0] == "") {
		return m.Index(q.Height), nil
	}
	for i := range m.routes {
		r := &m.routes[i]
		caps, ok := r.match(path)
		if !ok {
			continue
		}
		for k := range args {
			if !slices.Contains(r.Args, k) {
				takes := "it takes none"
				if len(r.Args) > 0 {
					takes = "it takes: " + strings.Join(r.Args, ", ")
				}
				return nil, fmt.Errorf("%w: %s/%s takes no argument %q (%s)", chain.ErrBadPayload, m.name, r.Pattern, k, takes)
			}
		}
		return r.fn(q, Params{path: caps, args: args})
	}
	return nil, fmt.Errorf("%w: %s has no query %q (queries: %s)", chain.ErrNotFound, m.name,
		strings.Join(path, "/"), strings.Join(m.patterns(), ", "))
}

func (m *Module) patterns() []string {
	out := make([]string, len(m.routes))
	for i, r := range m.routes {
		out[i] = r.Pattern
	}
	return out
}

// Index is the answer to GET /v1/apps/{module}/: what the module does.
type Index struct {
	Module      string     `json:"module"`
	Actions     []IndexDoc `json:"actions"`
	Queries     []IndexDoc `json:"queries"`
	QueryHeight uint64     `json:"query_height"`
}

// IndexDoc is one action or query in an Index. Args lists a query's
// accepted arguments.
type IndexDoc struct {
	Name string   `json:"name"`
	Doc  string   `json:"doc"`
	Args []string `json:"args,omitempty"`
}

// Index returns the module's index at height.
func (m *Module) Index(height uint64) Index {
	ix := Index{Module: m.name, Actions: []IndexDoc{}, Queries: []IndexDoc{}, QueryHeight: height}
	for _, h := range m.actions {
		ix.Actions = append(ix.Actions, IndexDoc{Name: h.Name, Doc: h.Doc})
	}
	for _, r := range m.routes {
		ix.Queries = append(ix.Queries, IndexDoc{Name: r.Pattern, Doc: r.Doc, Args: r.Args})
	}
	return ix
}

// FirstError returns the first of errs that is not nil. A payload's
// Validate lists its field checks in the order of the fields:
//
//	return sdk.FirstError(checkID("order", m.Order), sdk.CheckText("note", m.Note, 500))
func FirstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
