package labs

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
)

// Lab 7: write a module with `citychain scaffold module NAME` and the
// SDK, build it into the binary, and use it on the devnet. A node runs
// only the modules built into it, and a block can only hold transactions
// of modules its validators run: a committed transaction of a module
// that is not built in shows that the network runs it.
func lab7() *Lab {
	return &Lab{
		Number: 7, Slug: "07-your-own-module",
		Title: tx("Write a module of your own", "编写你自己的模块"),
		Steps: []Step{
			{
				Name: tx("the network runs a module of your own", "网络运行着你自己的模块"),
				Hint: tx("Scaffold one (citychain scaffold module parking), build (make build), and restart the devnet with the new binary (Ctrl-C, then make devnet again: it resumes the same chain).",
					"生成一个模块（citychain scaffold module parking），编译（make build），再用新的程序重启开发网络（按 Ctrl-C，再运行 make devnet：会接着原来的链继续）。"),
				Check: lab7Served,
			},
			{
				Name: tx("a transaction of your module was committed", "你的模块有交易上链"),
				Hint: tx("Send one with the command the scaffold made, e.g. citychain tx parking set --key spot1 --value taken --home .devnet/node0 --from dev0 --wait",
					"用脚手架生成的命令发一笔交易，例如 citychain tx parking set --key spot1 --value taken --home .devnet/node0 --from dev0 --wait"),
				Check: lab7Used,
			},
		},
	}
}

// BuiltinModules are the modules CityChain ships.
var BuiltinModules = []string{"bank", "poa", "copyright", "trace", "commerce", "city"}

func isBuiltin(name string) bool { return slices.Contains(BuiltinModules, name) }

// ownModules returns the modules the node runs that are not built in,
// or nil when the node cannot list its modules (GET /v1/apps answers
// 404), with ok false.
func (e *Env) ownModules(ctx context.Context) (names []string, ok bool, err error) {
	var a struct {
		Apps []struct {
			Name string `json:"name"`
		} `json:"apps"`
	}
	err = e.Chain.Get(ctx, "/v1/apps", &a)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	for _, m := range a.Apps {
		if !isBuiltin(m.Name) {
			names = append(names, m.Name)
		}
	}
	return names, true, nil
}

// usedModules returns the modules that are not built in and that
// transactions of the recent blocks name, latest first, with the height
// of the latest such transaction of each.
func (e *Env) usedModules(ctx context.Context) ([]string, map[string]uint64, error) {
	w, err := e.history(ctx)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	at := map[string]uint64{}
	for i := len(w) - 1; i >= 0; i-- {
		for _, t := range w[i].Txs {
			if t.App != "" && !isBuiltin(t.App) && at[t.App] == 0 {
				names = append(names, t.App)
				at[t.App] = w[i].Height
			}
		}
	}
	return names, at, nil
}

// wanted is the module the student named, if any.
func (e *Env) wanted() string {
	if e.Student == nil {
		return ""
	}
	return strings.TrimSpace(e.Student.Module)
}

func lab7Served(ctx context.Context, e *Env) Result {
	if m := e.wanted(); m != "" && isBuiltin(m) {
		return todo(say("%s is one of the built-in modules: name your own", "%s 是内置模块：请写上你自己的模块", m))
	}
	own, listed, err := e.ownModules(ctx)
	if err != nil {
		return failed(err)
	}
	if !listed {
		// A node that cannot list its modules: a committed transaction
		// of a module shows that the network runs it.
		used, at, err := e.usedModules(ctx)
		if err != nil {
			return failed(err)
		}
		for _, m := range used {
			if e.wanted() == "" || m == e.wanted() {
				return done(say("block %d holds a transaction of module %s, which is not built in",
					"区块 %d 中有模块 %s 的交易，它不是内置模块", at[m], m))
			}
		}
		if m := e.wanted(); m != "" {
			return e.probeModule(ctx, m)
		}
		return todo(tx("this node lists no modules, and no recent transaction names a module that is not built in",
			"这个节点不提供模块列表，最近的区块里也没有非内置模块的交易"))
	}
	if m := e.wanted(); m != "" {
		if slices.Contains(own, m) {
			return done(say("the node runs module %s", "节点运行着模块 %s", m))
		}
		return todo(say("the node does not run a module %s (it runs %s)", "节点没有运行模块 %s（它运行的是 %s）", m, strings.Join(append(slices.Clone(BuiltinModules), own...), ", ")))
	}
	if len(own) == 0 {
		return todo(say("the node runs only the built-in modules (%s)", "节点只运行内置模块（%s）", strings.Join(BuiltinModules, ", ")))
	}
	return done(say("the node runs %s, which is not built in", "节点运行着 %s，它不是内置模块", strings.Join(own, ", ")))
}

// probeModule asks for the index of module m: the node answers it for a
// module it runs, and "not found" naming the module for one it does not.
func (e *Env) probeModule(ctx context.Context, m string) Result {
	var index json.RawMessage
	err := e.Chain.Get(ctx, "/v1/apps/"+url.PathEscape(m)+"/", &index)
	if err == nil || (errors.Is(err, ErrNotFound) && !strings.Contains(err.Error(), `"`+m+`"`)) {
		return done(say("the node answers queries of module %s", "节点能回答模块 %s 的查询", m))
	}
	if errors.Is(err, ErrNotFound) {
		return todo(say("the node does not run a module %s", "节点没有运行模块 %s", m))
	}
	return failed(err)
}

func lab7Used(ctx context.Context, e *Env) Result {
	used, at, err := e.usedModules(ctx)
	if err != nil {
		return failed(err)
	}
	for _, m := range used {
		if e.wanted() == "" || m == e.wanted() {
			return done(say("block %d holds a transaction of %s", "区块 %d 中有 %s 模块的交易", at[m], m))
		}
	}
	w, _ := e.history(ctx)
	if m := e.wanted(); m != "" {
		return todo(say("no transaction of %s in the last %d blocks", "最近 %[2]d 个区块中没有 %[1]s 模块的交易", m, len(w)))
	}
	return todo(say("no transaction of a module that is not built in, in the last %d blocks",
		"最近 %d 个区块中没有非内置模块的交易", len(w)))
}
