package importer

import (
	"testing"

	"github.com/ast-cli/ast/internal/dotenv"
	"github.com/ast-cli/ast/pluginsdk"
)

func TestKindChanges(t *testing.T) {
	f, err := dotenv.Parse([]byte("REGION=eu\nTOKEN=t\nSAME=s\nNEW=n\nKEPT=k\n"))
	if err != nil {
		t.Fatal(err)
	}
	existing := map[string]bool{"REGION": true, "TOKEN": true, "SAME": true, "KEPT": true}
	kinds := map[string]pluginsdk.Kind{"REGION": pluginsdk.KindPlain, "TOKEN": pluginsdk.KindSecret,
		"SAME": pluginsdk.KindSecret, "KEPT": pluginsdk.KindPlain}
	cases := []struct {
		name string
		opts Options
		want map[string]string
	}{
		{"overwrite as secrets", Options{Overwrite: true, Kinds: kinds},
			map[string]string{"REGION": "plain → secret", "KEPT": "plain → secret"}},
		{"overwrite with --plain-keys", Options{Overwrite: true, PlainKeys: []string{"REGION", "TOKEN", "KEPT"}, Kinds: kinds},
			map[string]string{"TOKEN": "secret → plain"}},
		{"no overwrite: nothing changes", Options{Kinds: kinds}, map[string]string{}},
		{"kinds unknown", Options{Overwrite: true}, map[string]string{}},
	}
	for _, c := range cases {
		p := Build(f, existing, c.opts)
		got := map[string]string{}
		for _, it := range p.Items {
			if ch := it.KindChange(); ch != "" {
				got[it.Name] = ch
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: changes %v, want %v", c.name, got, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %s: %q, want %q", c.name, k, got[k], v)
			}
		}
	}
}
