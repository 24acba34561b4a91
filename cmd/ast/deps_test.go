package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreLinksNoPluginSDK holds the boundary of DESIGN.md "Layout": the core binary links
// no backend SDK and no orchestrator client; those live in the plugins.
func TestCoreLinksNoPluginSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, forbidden := range []string{"k8s.io/", "github.com/aws/aws-sdk-go-v2/service/secretsmanager", "github.com/hashicorp/vault/api"} {
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, forbidden) {
				t.Errorf("ast links %s", dep)
				break
			}
		}
	}
}
