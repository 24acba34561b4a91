package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTargets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("targets:\n  prod:\n    type: kubernetes\n    settings:\n      namespace: agents\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Target("prod")
	if err != nil || p.Type != "kubernetes" || p.Settings["namespace"] != "agents" || p.Name != "prod" {
		t.Fatalf("Target(prod) = %+v, %v", p, err)
	}
	if _, err := c.Target("nope"); err == nil || !strings.Contains(err.Error(), "targets: local, prod") {
		t.Errorf("unknown target: %v", err)
	}
	tests := []struct {
		target Target
		want   string
	}{
		{Target{Name: "dev", Type: "kubernetes"}, ""},
		{Target{Name: "prod", Type: "kubernetes"}, "already exists"},
		{Target{Name: "local", Type: "kubernetes"}, "built in"},
		{Target{Name: "Bad", Type: "kubernetes"}, "invalid target name"},
		{Target{Name: "x", Type: "k/8"}, "invalid target type"},
	}
	for _, tt := range tests {
		err := c.AddTarget(tt.target)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("AddTarget(%+v) = %v, want %q", tt.target, err, tt.want)
		}
	}
	if err := c.RemoveTarget("dev"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveTarget("dev"); err == nil {
		t.Error("removing a missing target succeeded")
	}
	if got := strings.Join(c.TargetNames(), ","); got != "prod" {
		t.Errorf("TargetNames = %s", got)
	}
}
