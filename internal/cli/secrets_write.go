package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/pluginsdk"
)

// WriteOptions are the options of `secrets set`, `create` and `update`, which differ only
// by the Put mode: Upsert, Create, Update.
type WriteOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error) // backend and account name
	// AccountArg is " --account NAME" when hints must name the account (see Factory.AccountArg).
	AccountArg func() string
	// Open opens --value-file.
	Open func(string) (io.ReadCloser, error)

	Mode      pluginsdk.PutMode
	Name      string
	Value     string
	HasValue  bool
	ValueFile string
	Plain     bool
	Secret    bool
	Force     bool // overwrite an entry ast did not write (external)
}

// valueInputHelp is the part of each write command's help that says where the value
// comes from; README's command table says the same.
const valueInputHelp = `The value comes from --value, else --value-file FILE (byte for byte; - is standard
input), else a prompt on a terminal (hidden for a secret, visible for a plain variable; a
multi-line paste works where the terminal marks pastes, as common terminals do), else
standard input: one-line input loses its trailing newline ("echo v |" stores "v"), input of
several lines is kept byte for byte ("< key.pem" stores the file as it is).`

func newCmdWrite(f *Factory, mode pluginsdk.PutMode) *cobra.Command {
	opts := &WriteOptions{IO: f.IO, Mode: mode, Backend: f.activeBackend, AccountArg: f.AccountArg,
		Open: func(p string) (io.ReadCloser, error) { return os.Open(p) }}
	cmd := &cobra.Command{
		Args: nameArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.HasValue = args[0], cmd.Flags().Changed("value")
			return runWrite(cmd.Context(), opts)
		},
	}
	switch mode {
	case pluginsdk.Upsert:
		cmd.Use, cmd.Short = "set NAME [--value V | --value-file F] [--plain | --secret]", "Create or replace a secret or plain variable"
		cmd.Long = `Create NAME in the active account, or replace its value if it exists. An existing entry
keeps its kind unless --plain or --secret is given; a new one is a secret unless --plain.

` + valueInputHelp
		cmd.Example = `  ast secrets set ANTHROPIC_API_KEY
  ast secrets set REGION --value us-east-1 --plain
  ast secrets set SSH_KEY --value-file ~/.ssh/id_ed25519
  printf %s "$TOKEN" | ast secrets set GITHUB_TOKEN`
	case pluginsdk.Create:
		cmd.Use, cmd.Short = "create NAME [--value V | --value-file F] [--plain]", "Create a secret (or, with --plain, a plain variable); fails if NAME exists"
		cmd.Long = `Create a secret, or with --plain a plain variable, in the active account. Creating a name
that exists fails: use 'ast secrets set' (create or replace) or 'ast secrets update'.

` + valueInputHelp
		cmd.Example = `  ast secrets create ANTHROPIC_API_KEY
  ast secrets create REGION --value us-east-1 --plain
  ast secrets create TLS_KEY --value-file key.pem`
	case pluginsdk.Update:
		cmd.Use, cmd.Short = "update NAME [--value V | --value-file F] [--plain | --secret]", "Change an existing entry's value (and, with --plain or --secret, its kind)"
		cmd.Long = `Change the value of an existing entry of the active account. Its kind stays unless
--plain or --secret is given. Updating a name that does not exist fails.

` + valueInputHelp
		cmd.Example = `  ast secrets update ANTHROPIC_API_KEY
  ast secrets update REGION --value eu-west-1
  ast secrets update REGION --value eu-west-1 --secret`
	}
	cmd.Flags().StringVar(&opts.Value, "value", "", "the value (visible in your shell history and process list: prefer the prompt, --value-file or stdin for secrets)")
	cmd.Flags().StringVar(&opts.ValueFile, "value-file", "", "read the value from FILE, byte for byte (- for standard input)")
	cmd.Flags().BoolVar(&opts.Plain, "plain", false, "a plain (readable, not secret) variable")
	if mode != pluginsdk.Create {
		cmd.Flags().BoolVar(&opts.Secret, "secret", false, "a secret (write-only)")
		cmd.Flags().BoolVar(&opts.Force, "force", false, "also overwrite an entry ast did not write (external)")
	}
	return cmd
}

// nameArgs accepts exactly one NAME and points a second argument (a value) to --value.
func nameArgs(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 2:
		return usageErrorf("%s takes one NAME; give the value with --value VALUE, --value-file FILE or on standard input, not as a second argument", cmd.CommandPath())
	case len(args) != 1:
		return usageErrorf("%s takes one NAME (got %d %s); see '%s --help'", cmd.CommandPath(), len(args), plural(len(args), "argument", "arguments"), cmd.CommandPath())
	}
	return nil
}

func runWrite(ctx context.Context, opts *WriteOptions) error {
	if err := checkName(opts.Name); err != nil {
		return err
	}
	if opts.Plain && opts.Secret {
		return usageErrorf("--plain and --secret exclude each other")
	}
	if opts.HasValue && opts.ValueFile != "" {
		return usageErrorf("--value and --value-file exclude each other")
	}
	prompt := !opts.HasValue && opts.ValueFile == "" && opts.IO.InTTY
	var (
		value pluginsdk.Value
		err   error
	)
	if !prompt {
		// The value is read before the plugin starts: the plugin shares stdin.
		if value, err = readValue(ctx, opts); err != nil {
			return err
		}
	}
	b, account, err := opts.Backend(ctx)
	if err != nil {
		return err
	}
	kind, err := writeKind(ctx, opts, b, account)
	if err != nil {
		return err
	}
	if prompt {
		question := fmt.Sprintf("Value for %s (input hidden): ", opts.Name)
		if kind == pluginsdk.KindPlain {
			question = fmt.Sprintf("Value for %s: ", opts.Name)
		}
		raw, err := opts.IO.Prompt(ctx, question, kind == pluginsdk.KindPlain)
		if err != nil {
			return err
		}
		if value, err = checkValue(opts.Name, raw); err != nil {
			return err
		}
	}
	res, err := b.Put(ctx, []pluginsdk.Entry{{Name: opts.Name, Kind: kind, Value: value}}, opts.Mode)
	if err != nil {
		return err
	}
	if err := res[0].Err; err != nil {
		switch {
		case errors.Is(err, pluginsdk.ErrAlreadyExists):
			return fmt.Errorf("%s already exists in account %s; replace it with: ast secrets set %s%s", opts.Name, account, opts.Name, opts.AccountArg())
		case errors.Is(err, pluginsdk.ErrNotFound):
			return missingEntry(opts.Name, account, opts.AccountArg())
		}
		return fmt.Errorf("%s: %w", opts.Name, err)
	}
	verb := map[pluginsdk.PutMode]string{pluginsdk.Create: "Created", pluginsdk.Update: "Updated", pluginsdk.Upsert: "Saved"}[opts.Mode]
	fmt.Fprintf(opts.IO.ErrOut, "✓ %s %s %s in account %s\n", verb, kindWord(kind), opts.Name, account)
	return nil
}

// writeKind returns the kind to write: the flag's; else, for update and set, the
// existing entry's (one List); else secret. An update of a missing name fails here,
// before any prompt; so does an update or set of an external entry without --force.
func writeKind(ctx context.Context, opts *WriteOptions, b pluginsdk.Backend, account string) (pluginsdk.Kind, error) {
	if opts.Mode == pluginsdk.Create {
		if opts.Plain {
			return pluginsdk.KindPlain, nil
		}
		return pluginsdk.KindSecret, nil
	}
	kind, ok, external, err := lookupKind(ctx, b, opts.Name)
	switch {
	case err != nil:
		return "", err
	case external && !opts.Force:
		return "", refuseExternal("overwrite", []string{opts.Name})
	case opts.Plain:
		return pluginsdk.KindPlain, nil
	case opts.Secret:
		return pluginsdk.KindSecret, nil
	case ok:
		return kind, nil
	case opts.Mode == pluginsdk.Update:
		return "", missingEntry(opts.Name, account, opts.AccountArg())
	}
	return pluginsdk.KindSecret, nil
}

// readValue returns a value that is not prompted for: --value, --value-file (byte-exact;
// "-" is stdin), or stdin (see trimSingleLine). Reading gives up when ctx ends. The value
// is validated; errors never contain it.
func readValue(ctx context.Context, opts *WriteOptions) (pluginsdk.Value, error) {
	if opts.HasValue {
		return checkValue(opts.Name, []byte(opts.Value))
	}
	const limit = pluginsdk.MaxValueBytes + 2 // room for the line ending that stdin loses
	var (
		b   []byte
		err error
	)
	switch opts.ValueFile {
	case "":
		if b, err = readAllContext(ctx, opts.IO.In, limit); err != nil {
			return pluginsdk.Value{}, readError("standard input", err)
		}
		b = trimSingleLine(b)
		if len(b) == 0 && opts.Mode != pluginsdk.Create && (opts.Plain || opts.Secret) {
			return pluginsdk.Value{}, kindChangeNeedsValue(opts)
		}
	case "-":
		if b, err = readAllContext(ctx, opts.IO.In, limit); err != nil {
			return pluginsdk.Value{}, readError("standard input", err)
		}
	default:
		f, err := openContext(ctx, opts.Open, opts.ValueFile)
		if err != nil {
			return pluginsdk.Value{}, readError(opts.ValueFile, err)
		}
		defer f.Close()
		if b, err = readAllContext(ctx, f, limit); err != nil {
			return pluginsdk.Value{}, readError(opts.ValueFile, err)
		}
	}
	return checkValue(opts.Name, b)
}

// kindChangeNeedsValue is the error of `secrets update NAME --plain` (or --secret, or set)
// given no value: standard input is not a terminal and is empty. A kind change is a write
// of the value, in both directions, and ast never reads a value to write it back on its
// own: making a secret readable must be a deliberate write of the value by someone who
// has it (the same rule the backends keep: the kind is bound to the value's version, see
// README "hashicorp" and "awssm"), and a read and a write by ast would silently undo an
// update made between them. The error gives the command that does it: for a secret made
// plain, the value from a file or stdin; for a plain variable made secret, `secrets get`
// piped into the write, byte for byte.
func kindChangeNeedsValue(opts *WriteOptions) error {
	verb := map[pluginsdk.PutMode]string{pluginsdk.Update: "update", pluginsdk.Upsert: "set"}[opts.Mode]
	acct := opts.AccountArg()
	if opts.Plain {
		return usageErrorf("%[1]s: no value given (standard input is empty); --plain changes the kind by writing the value again\n"+
			"Making a secret readable must be a deliberate write of its value, so ast never does it on its own. Give the value:\n"+
			"  ast secrets %[2]s %[1]s --plain --value-file FILE%[3]s\n"+
			"  (or on standard input, or at the prompt on a terminal)",
			opts.Name, verb, acct)
	}
	return usageErrorf("%[1]s: no value given (standard input is empty); --secret changes the kind by writing the value again\n"+
		"A kind change is always a write of the value: ast does not read it and write it back on its own (an update made in between would be lost). For a plain variable:\n"+
		"  ast secrets get %[1]s%[3]s | ast secrets %[2]s %[1]s --secret --value-file -%[3]s",
		opts.Name, verb, acct)
}

// readError words a failed read of the value's source; a cancelled read stays a
// cancellation (exit 130/143).
func readError(source string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("reading the value from %s: %w", source, err)
}

// checkValue validates a value; the error names the entry, never the value.
func checkValue(name string, b []byte) (pluginsdk.Value, error) {
	v := pluginsdk.NewValue(string(b))
	if err := pluginsdk.ValidateValue(v); err != nil {
		return v, &usageError{fmt.Errorf("%s: %w", name, err)}
	}
	return v, nil
}
