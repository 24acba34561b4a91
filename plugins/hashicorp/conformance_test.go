package hashicorp

import (
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// TestConformance runs pluginsdk's conformance suite against the real Vault dev server.
func TestConformance(t *testing.T) {
	v := requireVault(t)
	sdktest.Run(t, sdktest.Config{
		New: func(sdktest.T) pluginsdk.Backend {
			return newWithEnv(map[string]string{"VAULT_TOKEN": v.token, "HOME": t.TempDir()})
		},
		Settings: map[string]string{SettingAddress: v.addr},
	})
}
