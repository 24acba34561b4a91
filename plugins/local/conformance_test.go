package local

import (
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// TestConformance runs the backend contract's suite, directly and over gRPC. Every client
// of the run shares one data directory (one key, one vaults directory), as every plugin
// process of one user does; the suite gives each check accounts of its own.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Config{
		New:        func(sdktest.T) pluginsdk.Backend { return New() },
		Settings:   map[string]string{SettingDir: t.TempDir()},
		FreshStore: func(sdktest.T) map[string]string { return map[string]string{SettingDir: t.TempDir()} },
	})
}
