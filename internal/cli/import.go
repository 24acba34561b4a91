package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/dotenv"
	"github.com/ast-cli/ast/internal/importer"
	"github.com/ast-cli/ast/pluginsdk"
)

// Limits of what import accepts, checked before a backend starts (README "Limits").
// They come from what the default backend can write within the per-call timeout: a local
// store opens up to 64 MiB (plugins/local.MaxStoreBytes, about 6 s to rewrite on 2 busy
// cores), so a larger file could never be stored there, and the design's largest batch is
// 10,000 entries (one durable write on local; 10,000 requests, minutes, on Vault or AWS).
// A 1 GiB file once took 6.5 GB of memory and left an account every command of which took
// 31 s.
const (
	maxEnvFileBytes = 64 << 20
	maxEnvEntries   = 10000
)

// ImportOptions are the options of `secrets import`.
type ImportOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error)
	Open    func(string) (io.ReadCloser, error)

	File      string
	Plain     bool
	PlainKeys []string
	Overwrite bool
	Force     bool // overwrite entries ast did not write (external)
	DryRun    bool
	Output    string
}

// NewCmdImport is `ast secrets import --file F`.
func NewCmdImport(f *Factory) *cobra.Command {
	opts := &ImportOptions{IO: f.IO, Backend: f.activeBackend,
		Open: func(p string) (io.ReadCloser, error) { return os.Open(p) }}
	cmd := &cobra.Command{
		Use:   "import --file FILE",
		Short: "Import a .env file: each KEY=value becomes a secret",
		Long: `Import a .env file into the active account. Each KEY=value becomes a secret (plain
variables with --plain or --plain-keys). Blank values are skipped; names that exist are
skipped unless --overwrite. The whole file is parsed first: a malformed file imports
nothing and every bad line is named. Everything is written in one batch.

` + dotenv.HelpText,
		Example: `  ast secrets import --file .env
  ast secrets import --file .env --plain-keys REGION,LOG_LEVEL --dry-run
  cat prod.env | ast secrets import --file - --overwrite`,
		Args: exactArgs(0, "no arguments (give the file with --file)"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runImport(cmd.Context(), opts) },
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "the .env file to import; - reads standard input (required)")
	cmd.Flags().BoolVar(&opts.Plain, "plain", false, "import every key as a plain variable")
	cmd.Flags().StringSliceVar(&opts.PlainKeys, "plain-keys", nil, "import these keys (K1,K2) as plain variables")
	cmd.Flags().BoolVar(&opts.Overwrite, "overwrite", false, "replace entries that exist instead of skipping them")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "with --overwrite, also replace entries ast did not write (external)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the plan and write nothing")
	outputFlag(cmd, &opts.Output)
	return cmd
}

// importReport is `secrets import --output json`.
type importReport struct {
	File     string       `json:"file"`
	Account  string       `json:"account"`
	DryRun   bool         `json:"dry_run"`
	Entries  []importLine `json:"entries"`
	Warnings []string     `json:"warnings"`
}

type importLine struct {
	Name   string `json:"name"`
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Action string `json:"action"`
	// PreviousKind is set when an overwrite changes the entry's kind: the kind it had.
	PreviousKind string `json:"previous_kind,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Error        string `json:"error,omitempty"`
}

func runImport(ctx context.Context, opts *ImportOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	if opts.File == "" {
		return usageErrorf("secrets import needs --file FILE (or --file - for standard input)")
	}
	for _, k := range opts.PlainKeys {
		if err := pluginsdk.ValidateName(k); err != nil {
			return &usageError{fmt.Errorf("--plain-keys: %w", err)}
		}
	}
	// The file is read and parsed before the plugin starts: a bad file costs nothing, and
	// --file - must be read before the plugin shares stdin.
	src, name, err := readEnvFile(ctx, opts)
	if err != nil {
		return err
	}
	parsed, err := dotenv.Parse(src)
	var perr *dotenv.ParseError
	if errors.As(err, &perr) {
		// Invalid input, exit 2, as the same name or value given with --value or on stdin.
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "%s is not a valid .env file; nothing was imported:\n%s",
			name, strings.TrimRight(perr.Format(name), "\n"))
	} else if err != nil {
		return err
	}
	if n := len(parsed.Entries); n > maxEnvEntries {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"%s defines %d entries, more than the %d ast imports in one batch; nothing was imported: split it",
			name, n, maxEnvEntries)
	}
	var warnings []string
	for _, w := range parsed.Warnings {
		warnings = append(warnings, fmt.Sprintf("%s:%d: %s", name, w.Line, w.Message))
		warnf(opts.IO.ErrOut, "%s", warnings[len(warnings)-1])
	}

	b, account, err := opts.Backend(ctx)
	if err != nil {
		return err
	}
	existing := map[string]bool{}
	kinds := map[string]pluginsdk.Kind{}
	var listed []pluginsdk.Entry
	if hasValues(parsed) {
		if listed, err = b.List(ctx, pluginsdk.ListOptions{}); err != nil {
			return err
		}
		for _, e := range listed {
			existing[e.Name] = true
			kinds[e.Name] = e.Kind
		}
	}
	plan := importer.Build(parsed, existing, importer.Options{Plain: opts.Plain, PlainKeys: opts.PlainKeys, Overwrite: opts.Overwrite, Kinds: kinds})
	if opts.Overwrite && !opts.Force && !opts.DryRun {
		entries, _ := plan.Writes()
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = e.Name
		}
		ext, err := externalOf(ctx, b, listed, names)
		if err != nil {
			return err
		}
		if len(ext) > 0 {
			return refuseExternal("overwrite", ext)
		}
	}
	for _, w := range plan.Warnings {
		warnf(opts.IO.ErrOut, "%s", w)
	}
	// failures holds every name whose write did not succeed, with why; callErr is the
	// error of a Put that stopped midway (the plugin died or went silent, Ctrl-C), after
	// which the names it did not report are unknown.
	failures := map[string]error{}
	var callErr error
	if !opts.DryRun {
		entries, mode := plan.Writes()
		if len(entries) > 0 {
			pctx, stop := startProgress(ctx, opts.IO, opts.Output, "Importing", len(entries))
			res, err := b.Put(pctx, entries, mode)
			stop()
			callErr = err
			if err != nil && len(res) != len(entries) {
				// A Backend that does not keep partial results: nothing is known.
				res = make([]pluginsdk.Result, len(entries))
				for i, e := range entries {
					res[i] = pluginsdk.OutcomeUnknown(e.Name)
				}
			}
			for i, r := range res {
				if r.Err != nil {
					failures[entries[i].Name] = r.Err
				}
			}
		}
	}
	report := importReport{File: name, Account: account, DryRun: opts.DryRun,
		Warnings: append(append([]string{}, warnings...), plan.Warnings...)}
	for _, it := range plan.Items {
		l := importLine{Name: it.Name, Line: it.Line, Kind: string(it.Kind), Action: string(it.Action), Reason: it.Action.Reason(),
			PreviousKind: string(it.PreviousKind)}
		if err := failures[it.Name]; err != nil {
			switch {
			case errors.Is(err, pluginsdk.ErrAlreadyExists):
				l.Action, l.Reason = string(importer.SkipExists), "created by someone else during the import"
			case errors.Is(err, pluginsdk.ErrOutcomeUnknown):
				l.Action, l.Reason = actionUnknown, "the import stopped before the backend said whether it was written"
			case errors.Is(err, pluginsdk.ErrNotAttempted):
				l.Action, l.Reason = actionNotAttempted, "the import stopped before this entry"
			default:
				l.Action, l.Error = actionFailed, err.Error()
			}
		}
		report.Entries = append(report.Entries, l)
	}
	if opts.Output == "json" {
		if err := writeJSON(opts.IO.Out, report); err != nil {
			return err
		}
	} else {
		// A dry run's plan is the output asked for; after a real import it is a report.
		w := opts.IO.ErrOut
		if opts.DryRun {
			w = opts.IO.Out
		}
		printImportSummary(w, report)
	}
	if callErr != nil {
		// %w: a Ctrl-C still exits as cancelled.
		return fmt.Errorf("importing %s stopped: %w (the summary above says what was written)", name, callErr)
	}
	if n := countFailed(report); n > 0 {
		return fmt.Errorf("%d of the file's entries could not be imported (see above)", n)
	}
	return nil
}

// The actions of an import line besides the plan's (importer.Action): the write failed
// (Error says why), was not tried because the import stopped first, or it is not known
// whether it happened.
const (
	actionFailed       = "failed"
	actionNotAttempted = "not-attempted"
	actionUnknown      = "unknown"
)

func hasValues(f *dotenv.File) bool {
	for _, e := range f.Entries {
		if !e.Blank {
			return true
		}
	}
	return false
}

func readEnvFile(ctx context.Context, opts *ImportOptions) ([]byte, string, error) {
	var r io.ReadCloser
	name := opts.File
	if opts.File == "-" {
		r, name = io.NopCloser(opts.IO.In), "<stdin>"
	} else {
		var err error
		// A FIFO blocks open until a writer comes, an idle pipe blocks read: both give
		// up when ctx ends (Ctrl-C, SIGTERM), and nothing is imported.
		if r, err = openContext(ctx, opts.Open, opts.File); err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, "", err
			}
			return nil, "", fmt.Errorf("cannot read %s: %w", opts.File, errors.Unwrap(err))
		}
	}
	defer r.Close()
	src, err := readAllContext(ctx, r, maxEnvFileBytes)
	if errors.Is(err, context.Canceled) {
		return nil, "", err
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", name, err)
	}
	if len(src) > maxEnvFileBytes {
		return nil, "", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"%s is larger than %d MiB, the largest .env file ast imports (the largest local store is 64 MiB); nothing was imported: split it",
			name, maxEnvFileBytes>>20)
	}
	return src, name, nil
}

// abbreviate joins names for the summary. Skipped names are all listed (each is a
// surprise the user must see); created and overwritten ones stop after 20 (--output json
// has every one).
func abbreviate(names []string, action string) string {
	const max = 20
	if len(names) <= max || action == string(importer.SkipExists) || action == string(importer.SkipBlank) {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}

func countFailed(r importReport) int {
	n := 0
	for _, l := range r.Entries {
		if l.Action == actionFailed {
			n++
		}
	}
	return n
}

// printImportSummary names what was (or, in a dry run, would be) created, overwritten
// and skipped, and why.
func printImportSummary(w io.Writer, r importReport) {
	groups := []struct {
		action, done, planned string
	}{
		{string(importer.Create), "Created", "Would create"},
		{string(importer.Overwrite), "Overwrote", "Would overwrite"},
		{string(importer.SkipExists), "Skipped (already exists; --overwrite replaces)", "Would skip (already exists; --overwrite replaces)"},
		{string(importer.SkipBlank), "Skipped (blank value)", "Would skip (blank value)"},
	}
	for _, g := range groups {
		var names []string
		for _, l := range r.Entries {
			if l.Action == g.action {
				names = append(names, l.Name)
			}
		}
		if len(names) == 0 {
			continue
		}
		label := g.done
		if r.DryRun {
			label = g.planned
		}
		fmt.Fprintf(w, "%s %d: %s\n", label, len(names), abbreviate(names, g.action))
	}
	// Every kind an overwrite changes is named: a secret that becomes plain is listed
	// with its value from then on, a plain variable that becomes secret is hidden.
	var changes []string
	for _, l := range r.Entries {
		if l.Action == string(importer.Overwrite) && l.PreviousKind != "" && l.PreviousKind != l.Kind {
			changes = append(changes, l.Name+": "+l.PreviousKind+" → "+l.Kind)
		}
	}
	if len(changes) > 0 {
		label := "Changed kind"
		if r.DryRun {
			label = "Would change kind"
		}
		printf(w, "%s %d: %s\n", label, len(changes), strings.Join(changes, ", "))
	}
	for _, l := range r.Entries {
		if l.Action == actionFailed {
			printf(w, "Failed %s (line %d): %s\n", l.Name, l.Line, l.Error)
		}
	}
	var unknown, notAttempted []string
	for _, l := range r.Entries {
		switch l.Action {
		case actionUnknown:
			unknown = append(unknown, l.Name)
		case actionNotAttempted:
			notAttempted = append(notAttempted, l.Name)
		}
	}
	if len(notAttempted) > 0 {
		printf(w, "Not written %d (the import stopped before them): %s\n", len(notAttempted), strings.Join(notAttempted, ", "))
	}
	if len(unknown) > 0 {
		printf(w, "Not known whether written %d (the import stopped first; ast secrets list shows what is there): %s\n",
			len(unknown), strings.Join(unknown, ", "))
	}
	if r.DryRun {
		fmt.Fprintf(w, "Dry run: nothing was written to account %s.\n", r.Account)
	} else if len(r.Entries) == 0 {
		fmt.Fprintf(w, "%s defines no entries; nothing was imported.\n", r.File)
	}
}
