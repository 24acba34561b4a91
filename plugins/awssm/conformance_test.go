package awssm

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/hashicorp/go-hclog"

	"github.com/ast-cli/ast/pluginsdk"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// TestConformance runs the backend contract's conformance suite against moto_server.
// Entries ast did not write are created through the AWS SDK, as aws secretsmanager
// create-secret creates them: a JSON SecretString (or a SecretBinary), no ast version ID.
func TestConformance(t *testing.T) {
	ep := motoEndpoint(t)
	outside := configured(t, ep, uniqueAccount(t), nil).c.api
	create := func(st sdktest.T, in *secretsmanager.CreateSecretInput) {
		if _, err := outside.CreateSecret(context.Background(), in); err != nil {
			st.Fatalf("aws secretsmanager create-secret %s: %v", aws.ToString(in.Name), err)
		}
	}
	sdktest.Run(t, sdktest.Config{
		New:      func(sdktest.T) pluginsdk.Backend { return newBackend(withLogger(hclog.NewNullLogger())) },
		Settings: map[string]string{settingEndpoint: ep, settingRegion: "us-east-1"},
		External: func(st sdktest.T, account, name string, fields map[string]string) string {
			b, _ := json.Marshal(fields)
			create(st, &secretsmanager.CreateSecretInput{Name: aws.String(defaultPrefix + "/" + account + "/" + name), SecretString: aws.String(string(b))})
			return string(b)
		},
		ExternalBinary: func(st sdktest.T, account, name string) {
			create(st, &secretsmanager.CreateSecretInput{Name: aws.String(defaultPrefix + "/" + account + "/" + name), SecretBinary: []byte{0, 1, 2, 0xff}})
		},
	})
}
