package labs

import (
	"context"
	"errors"
	"fmt"
)

// State is where a step stands.
type State string

// The states of a step.
const (
	// StateDone: the network (or the student's file) shows the step done.
	StateDone State = "done"
	// StateTodo: not done yet; the detail says what was found, the hint
	// what to do.
	StateTodo State = "todo"
	// StateLocal: the step needs the student's side (keystore, a file, an
	// answer), which only `citychain lab check N` has.
	StateLocal State = "local"
)

// Result is what a step's check found.
type Result struct {
	State  State
	Detail Text
}

func done(d Text) Result { return Result{State: StateDone, Detail: d} }
func todo(d Text) Result { return Result{State: StateTodo, Detail: d} }

// local is the result of a step that needs the student's side, checked
// where there is none. Lab.Check fills in the detail, which names the
// lab's command.
func local() Result { return Result{State: StateLocal} }

// failed turns an error met while checking into a missing step that
// says what went wrong.
func failed(err error) Result {
	return todo(say("could not check: %v", "无法检查：%v", err))
}

// Step is one thing a lab asks for.
type Step struct {
	Name  Text
	Hint  Text // what to do when the step is not done; never the answer
	Check func(ctx context.Context, e *Env) Result
}

// Lab is one guided exercise: its number, the stem of its document
// (docs/en/labs/{Slug}.md and docs/zh/labs/{Slug}.md), its title, and
// its steps in the order a student does them.
type Lab struct {
	Number int
	Slug   string
	Title  Text
	Steps  []Step
}

// All returns the labs in order. A new lab is a file with its table and
// one line here.
func All() []*Lab {
	return []*Lab{lab1(), lab2(), lab3(), lab4(), lab5(), lab6(), lab7()}
}

// ErrNoLab is returned by Find for a number no lab has.
var ErrNoLab = errors.New("no such lab")

// Find returns lab n.
func Find(n int) (*Lab, error) {
	all := All()
	if n < 1 || n > len(all) {
		return nil, fmt.Errorf("%w: %d (the labs are 1 to %d; see citychain lab list)", ErrNoLab, n, len(all))
	}
	return all[n-1], nil
}

// StepReport is a step's outcome, in every language.
type StepReport struct {
	Name   Text  `json:"name"`
	State  State `json:"state"`
	Detail Text  `json:"detail"`
	Hint   *Text `json:"hint,omitempty"` // only for a step not done
}

// Report is a lab's outcome. Done is true when every step is done.
type Report struct {
	Number int          `json:"number"`
	Slug   string       `json:"slug"`
	Title  Text         `json:"title"`
	Done   bool         `json:"done"`
	Steps  []StepReport `json:"steps"`
}

// Counts returns the steps done and the steps in all.
func (r *Report) Counts() (done, all int) {
	for _, s := range r.Steps {
		if s.State == StateDone {
			done++
		}
	}
	return done, len(r.Steps)
}

// Check runs every step of the lab against e. It fails only when the
// node cannot be reached or answers its status wrongly; a step that
// cannot be checked is reported as not done, with the reason.
func (l *Lab) Check(ctx context.Context, e *Env) (*Report, error) {
	if _, err := e.status(ctx); err != nil {
		return nil, err
	}
	r := &Report{Number: l.Number, Slug: l.Slug, Title: l.Title, Done: true, Steps: []StepReport{}}
	for _, s := range l.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res := s.Check(ctx, e)
		if res.State == StateLocal {
			res.Detail = say("checked on the student's machine by citychain lab check %d",
				"由学生在自己的电脑上运行 citychain lab check %d 检查", l.Number)
		}
		sr := StepReport{Name: s.Name, State: res.State, Detail: res.Detail}
		if res.State != StateDone {
			r.Done = false
			hint := s.Hint
			sr.Hint = &hint
		}
		r.Steps = append(r.Steps, sr)
	}
	return r, nil
}
