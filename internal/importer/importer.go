// Package importer turns a parsed .env file into an import plan: which names are
// created, which overwritten, which skipped and why. It is pure: the caller lists the
// account's existing names, and writes the plan's entries in one batched Put.
package importer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ast-cli/ast/internal/dotenv"
	"github.com/ast-cli/ast/pluginsdk"
)

// Action is what the import does with one key of the file.
type Action string

const (
	Create     Action = "create"      // the name is new
	Overwrite  Action = "overwrite"   // the name exists and --overwrite was given
	SkipBlank  Action = "skip-blank"  // KEY=, KEY="" or KEY='': nothing to store
	SkipExists Action = "skip-exists" // the name exists and --overwrite was not given
)

// Reason says why an action was chosen, in words for the summary.
func (a Action) Reason() string {
	switch a {
	case SkipBlank:
		return "blank value"
	case SkipExists:
		return "already exists (use --overwrite to replace it)"
	}
	return ""
}

// Item is the plan for one key of the file.
type Item struct {
	Name   string
	Line   int
	Kind   pluginsdk.Kind
	Action Action
	Value  pluginsdk.Value
	// PreviousKind is the kind the entry had, set only when an Overwrite changes it
	// (plain → secret, or back with --plain-keys).
	PreviousKind pluginsdk.Kind
}

// KindChange says how an overwrite changes the entry's kind ("plain → secret"), or "".
func (it Item) KindChange() string {
	if it.PreviousKind == "" || it.PreviousKind == it.Kind {
		return ""
	}
	return string(it.PreviousKind) + " → " + string(it.Kind)
}

// Options are the import flags.
type Options struct {
	Plain     bool     // every key is a plain variable
	PlainKeys []string // these keys are plain variables
	Overwrite bool     // existing names are overwritten instead of skipped
	// Kinds holds the listed kind of existing names, so that the plan names every kind an
	// overwrite changes; a name missing from it is not compared.
	Kinds map[string]pluginsdk.Kind
}

// Plan is the whole import, in file order.
type Plan struct {
	Items []Item
	// Warnings are for the user: a --plain-keys name the file does not define.
	Warnings []string
}

// Build plans the import of f into an account whose existing names are existing.
// Product rules (DESIGN.md): blank values are skipped; existing names are skipped unless
// opts.Overwrite; everything else is written as a secret, or as a plain variable with
// opts.Plain or when listed in opts.PlainKeys.
func Build(f *dotenv.File, existing map[string]bool, opts Options) Plan {
	plainKeys := map[string]bool{}
	for _, k := range opts.PlainKeys {
		plainKeys[k] = true
	}
	var p Plan
	defined := map[string]bool{}
	for _, e := range f.Entries {
		defined[e.Key] = true
		it := Item{Name: e.Key, Line: e.Line, Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(e.Value)}
		if opts.Plain || plainKeys[e.Key] {
			it.Kind = pluginsdk.KindPlain
		}
		switch {
		case e.Blank:
			it.Action, it.Value = SkipBlank, pluginsdk.Value{}
		case existing[e.Key] && opts.Overwrite:
			it.Action = Overwrite
			if k := opts.Kinds[e.Key]; k != "" && k != it.Kind {
				it.PreviousKind = k
			}
		case existing[e.Key]:
			it.Action = SkipExists
		default:
			it.Action = Create
		}
		p.Items = append(p.Items, it)
	}
	var unknown []string
	for k := range plainKeys {
		if !defined[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("--plain-keys names keys the file does not define: %s", strings.Join(unknown, ", ")))
	}
	return p
}

// Writes returns the entries to Put, in file order, and the Put mode: Upsert when the
// plan overwrites, else Create (so that a name created meanwhile by someone else is
// reported, not overwritten).
func (p Plan) Writes() ([]pluginsdk.Entry, pluginsdk.PutMode) {
	var es []pluginsdk.Entry
	mode := pluginsdk.Create
	for _, it := range p.Items {
		switch it.Action {
		case Overwrite:
			mode = pluginsdk.Upsert
			fallthrough
		case Create:
			es = append(es, pluginsdk.Entry{Name: it.Name, Kind: it.Kind, Value: it.Value})
		}
	}
	return es, mode
}

// Count returns how many items have action a.
func (p Plan) Count(a Action) int {
	n := 0
	for _, it := range p.Items {
		if it.Action == a {
			n++
		}
	}
	return n
}
