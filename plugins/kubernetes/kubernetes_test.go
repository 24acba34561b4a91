package kubernetes

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

func workloadFor(value, literal string, version int64) pluginsdk.Workload {
	return pluginsdk.Workload{Agent: "web", Image: "img:1", BlueprintDigest: "sha256:ab",
		Env: []pluginsdk.TargetVariable{
			{Key: "API_KEY", Value: pluginsdk.NewValue(value), Sensitive: true, SourceKind: "reference", Entry: "API_KEY", EntryKind: pluginsdk.KindSecret, Version: version, Origin: "blueprint"},
			{Key: "LOG_LEVEL", Value: pluginsdk.NewValue(literal), SourceKind: "literal", Origin: "blueprint"},
			{Key: "DB_PASSWORD", Value: pluginsdk.NewValue(value + "-db"), Sensitive: true, SourceKind: "reference", Entry: "db", Field: "password", EntryKind: pluginsdk.KindSecret, Version: 2, Origin: "blueprint"},
		}}
}

func TestTemplateHashChangesWithEverySource(t *testing.T) {
	salt := []byte("salt")
	base := templateHash(workloadFor("v1", "info", 1), Spec{}, salt)
	tests := []struct {
		name string
		w    pluginsdk.Workload
		salt []byte
		same bool
	}{
		{"unchanged", workloadFor("v1", "info", 1), salt, true},
		{"new value, same version", workloadFor("v2", "info", 1), salt, false},
		{"new version", workloadFor("v1", "info", 2), salt, false},
		{"new literal", workloadFor("v1", "debug", 1), salt, false},
		{"other salt", workloadFor("v1", "info", 1), []byte("other"), false},
	}
	for _, tt := range tests {
		if got := templateHash(tt.w, Spec{}, tt.salt); (got == base) != tt.same {
			t.Errorf("%s: hash %s vs %s, want same=%v", tt.name, got, base, tt.same)
		}
	}
}

func TestBuildKeepsValuesInTheSecretOnly(t *testing.T) {
	tg := &Target{namespace: "ns"}
	const canary = "CANARY-value-7f3"
	w := workloadFor(canary, "info", 4)
	p, err := tg.build(w, []byte("salt"), false)
	if err != nil {
		t.Fatal(err)
	}
	dep, _ := json.Marshal(p.deployment)
	if strings.Contains(string(dep), canary) {
		t.Errorf("the Deployment holds the value")
	}
	for _, want := range []string{`"secretKeyRef":{"name":"ast-web","key":"API_KEY"}`, `"value":"info"`, `\"entry\":\"API_KEY\"`, `\"version\":4`, `\"entry\":\"db\",\"field\":\"password\"`} {
		if !strings.Contains(string(dep), want) {
			t.Errorf("the Deployment has no %s: %s", want, dep)
		}
	}
	if string(p.secret.Data["API_KEY"]) != canary || p.secret.Data["LOG_LEVEL"] != nil {
		t.Errorf("the Secret does not hold exactly the sensitive values")
	}
	dry, err := tg.build(w, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal([]any{dry.secret, dry.deployment})
	if strings.Contains(string(all), canary) || !strings.Contains(string(all), "entry API_KEY (secret, version 4)") ||
		!strings.Contains(string(all), "entry db field password (secret, version 2)") {
		t.Errorf("dry-run manifests: %s", all)
	}
}

func TestCheckAgent(t *testing.T) {
	for name, ok := range map[string]bool{"web": true, "a-1": true, "my_agent": false, "trailing-": false, strings.Repeat("a", 64): false, strings.Repeat("a", 63): true} {
		if err := checkAgent(name); (err == nil) != ok {
			t.Errorf("checkAgent(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestCheckKubeconfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "config")
	if err := os.WriteFile(good, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose")
	if err := os.WriteFile(loose, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(loose, 0o666)
	tests := []struct{ path, want string }{
		{good, ""},
		{"config", "not an absolute path"},
		{loose, "chmod go-w"},
		{filepath.Join(dir, "missing"), "does not exist (give the target the absolute path of yours with --set kubeconfig=PATH"},
	}
	for _, tt := range tests {
		err := checkKubeconfig(tt.path)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("checkKubeconfig(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
}

func TestConfigureNamesTheContextsOfTheKubeconfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	const kc = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: prod-eu, context: {cluster: c, user: u}}, {name: dev, context: {cluster: c, user: u}}]
current-context: dev
`
	if err := os.WriteFile(cfg, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ context, want string }{
		{"prod-us", `has no context "prod-us" (its contexts: "dev", "prod-eu"; set context= to one of them)`},
		{"dev", ""},
	}
	for _, tt := range tests {
		err := New().Configure(context.Background(), "k", map[string]string{"kubeconfig": cfg, "context": tt.context})
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Configure(context=%s) = %v, want %q", tt.context, err, tt.want)
		}
	}
}
