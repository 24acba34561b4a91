package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestAccountAddRemoveConcurrent: 16 concurrent `account add`, then 16 concurrent
// `account remove` of every other one while 8 more are added, leave exactly the accounts
// expected in the config file (the file is changed under its lock, never lost).
func TestAccountAddRemoveConcurrent(t *testing.T) {
	root := t.TempDir()
	env := realEnv(root)
	run := func(argsList [][]string) {
		var wg sync.WaitGroup
		for _, args := range argsList {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if out, err := astCmd(env, args...).CombinedOutput(); err != nil {
					t.Errorf("ast %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}()
		}
		wg.Wait()
	}
	var adds [][]string
	for i := range 16 {
		adds = append(adds, []string{"account", "add", fmt.Sprintf("a%02d", i), "--backend", "local"})
	}
	run(adds)
	var mixed [][]string
	want := []string{}
	for i := range 16 {
		if i%2 == 0 {
			mixed = append(mixed, []string{"account", "remove", fmt.Sprintf("a%02d", i)})
		} else {
			want = append(want, fmt.Sprintf("a%02d", i))
		}
	}
	for i := 16; i < 24; i++ {
		mixed = append(mixed, []string{"account", "add", fmt.Sprintf("a%02d", i), "--backend", "local"})
		want = append(want, fmt.Sprintf("a%02d", i))
	}
	run(mixed)

	raw, err := os.ReadFile(filepath.Join(root, "home", ".config", "ast", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Accounts map[string]any `yaml:"accounts"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	var got []string
	for name := range cfg.Accounts {
		got = append(got, name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("accounts in the config: %v\nwant %v", got, want)
	}
}
