// Command hostileplugin is an ast backend plugin named "hostile" whose every piece of text
// is full of terminal controls, for the output-sanitizer test of internal/faults: entry
// names and plain values, its version and capabilities, its error messages and its log
// warnings all carry Dirty. It keeps entries in memory. It is not shipped.
//
// Its one entry is the plain variable PLAIN, whose value is Dirty. List also reports an
// entry whose name is Dirty (a server can answer with any name). Put and Delete fail with
// an error whose text holds Dirty; Get answers PLAIN and fails for every other name with
// such an error.
package main

import (
	"context"

	"github.com/ast-cli/ast/pluginsdk"
)

// dirty is every character class the sanitizer escapes, each between two middle dots so
// that a test can tell a tab or newline from the data from one of the layout:
// C0 controls, DEL, C1 controls, bidi and separator characters, and the OSC 52 clipboard
// write and carriage-return row forgery of issue 13. Keep it in step with the copy in
// internal/faults/output_test.go.
func dirty() string {
	s := "·"
	for r := rune(1); r < 0x20; r++ {
		s += string(r) + "·"
	}
	for _, r := range []rune{0x7f, 0x85, 0x9b, 0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c,
		0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029} {
		s += string(r) + "·"
	}
	return s + "\x1b]52;c;ZWNobyBwd25lZA==\a\x1b[2J\x1b[H\rFAKE\tsecret\t1\t(hidden)·"
}

func main() {
	pluginsdk.Serve(&backend{log: pluginsdk.NewLogger("hostile")})
}

type backend struct {
	log interface{ Warn(string, ...any) }
}

func (b *backend) warn() { b.log.Warn("server says "+dirty(), "detail", dirty()) }

func (b *backend) fail() error {
	return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "the server says: %s", dirty())
}

func (b *backend) Configure(context.Context, string, map[string]string) error { return nil }

func (b *backend) Info(context.Context) (pluginsdk.Info, error) {
	return pluginsdk.Info{Name: "hostile", Version: "1.0" + dirty(), Protocol: pluginsdk.ProtocolVersion,
		Capabilities: []string{"versions", dirty()}}, nil
}

func (b *backend) List(_ context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	b.warn()
	plain := pluginsdk.Entry{Name: "PLAIN", Kind: pluginsdk.KindPlain, Version: 1}
	if opts.Values {
		plain.Value = pluginsdk.NewValue(dirty())
	}
	return []pluginsdk.Entry{plain, {Name: "X" + dirty(), Kind: pluginsdk.KindSecret, Version: 1}}, nil
}

func (b *backend) Get(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	b.warn()
	out := make([]pluginsdk.Result, len(names))
	for i, n := range names {
		if n == "PLAIN" {
			out[i].Entry = pluginsdk.Entry{Name: n, Kind: pluginsdk.KindPlain, Version: 1, Value: pluginsdk.NewValue(dirty())}
		} else {
			out[i].Err = b.fail()
		}
	}
	return out, nil
}

func (b *backend) Put(_ context.Context, entries []pluginsdk.Entry, _ pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	b.warn()
	out := make([]pluginsdk.Result, len(entries))
	for i := range out {
		out[i].Err = b.fail()
	}
	return out, nil
}

func (b *backend) Delete(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	b.warn()
	return nil, b.fail()
}
