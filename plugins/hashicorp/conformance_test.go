package hashicorp

import (
	"encoding/json"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// TestConformance runs pluginsdk's conformance suite against the real Vault dev server.
// Entries ast did not write are written with the root token through Vault's API, as
// vault kv put writes them: data keys of their own, no kind key, no label.
func TestConformance(t *testing.T) {
	v := requireVault(t)
	sdktest.Run(t, sdktest.Config{
		New: func(sdktest.T) pluginsdk.Backend {
			return newWithEnv(map[string]string{"VAULT_TOKEN": v.token, "HOME": t.TempDir()})
		},
		Settings: map[string]string{SettingAddress: v.addr},
		External: func(st sdktest.T, account, name string, fields map[string]string) string {
			data := map[string]any{}
			for k, x := range fields {
				data[k] = x
			}
			if _, err := v.admin.Logical().Write(defaultMount+"/data/"+defaultPrefix+"/"+account+"/"+name,
				map[string]any{"data": data}); err != nil {
				st.Fatalf("vault kv put %s: %v", name, err)
			}
			if x, ok := fields[valueKey]; ok {
				return x
			}
			b, _ := json.Marshal(fields)
			return string(b)
		},
	})
}
