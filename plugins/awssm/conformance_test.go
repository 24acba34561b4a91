package awssm

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/ast-cli/ast/pluginsdk"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// TestConformance runs the backend contract's conformance suite against moto_server.
func TestConformance(t *testing.T) {
	ep := motoEndpoint(t)
	sdktest.Run(t, sdktest.Config{
		New:      func(sdktest.T) pluginsdk.Backend { return newBackend(withLogger(hclog.NewNullLogger())) },
		Settings: map[string]string{settingEndpoint: ep, settingRegion: "us-east-1"},
	})
}
