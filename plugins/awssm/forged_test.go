package awssm

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/ast-cli/ast/pluginsdk"
)

// outsideWriter writes to moto the way another tool would: with the aws CLI when it is on
// PATH, else with the SDK's own calls (not ast's).
type outsideWriter struct {
	t   *testing.T
	ep  string
	cli string
	api *secretsmanager.Client
}

func newOutsideWriter(t *testing.T, ep string, b *Backend) outsideWriter {
	cli, _ := exec.LookPath("aws")
	return outsideWriter{t: t, ep: ep, cli: cli, api: b.c.api}
}

func (w outsideWriter) aws(args ...string) {
	w.t.Helper()
	cmd := exec.Command(w.cli, append(args, "--endpoint-url", w.ep, "--region", "us-east-1")...)
	for _, kv := range os.Environ() {
		if !strings.HasSuffix(kv, "=") { // the CLI takes AWS_PROFILE= for a profile named ""
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("aws %s: %v\n%s", strings.Join(args[:2], " "), err, out)
	}
}

// putValue writes a new current version with an ID the writer chose (a UUID, as rotation).
func (w outsideWriter) putValue(id, value string) {
	w.t.Helper()
	if w.cli != "" {
		w.aws("secretsmanager", "put-secret-value", "--secret-id", id, "--secret-string", value)
		return
	}
	if _, err := w.api.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), SecretString: aws.String(value)}); err != nil {
		w.t.Fatalf("PutSecretValue: %v", err)
	}
}

func (w outsideWriter) create(id, value string) {
	w.t.Helper()
	if w.cli != "" {
		w.aws("secretsmanager", "create-secret", "--name", id, "--secret-string", value)
		return
	}
	if _, err := w.api.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(id), SecretString: aws.String(value)}); err != nil {
		w.t.Fatalf("CreateSecret: %v", err)
	}
}

func (w outsideWriter) tag(id, key, value string) {
	w.t.Helper()
	if w.cli != "" {
		w.aws("secretsmanager", "tag-resource", "--secret-id", id, "--tags", "Key="+key+",Value="+value)
		return
	}
	if _, err := w.api.TagResource(context.Background(), &secretsmanager.TagResourceInput{
		SecretId: aws.String(id), Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}}); err != nil {
		w.t.Fatalf("TagResource: %v", err)
	}
}

// TestForgedKind (issue 13): after a version written outside ast (a rotation), an
// identity that may only tag sets ast:kind=plain; a secret created outside ast gets the
// same tags. Neither may list its value: the kind is bound to a version ID only a writer
// of the value chooses.
func TestForgedKind(t *testing.T) {
	ep := motoEndpoint(t)
	acct := uniqueAccount(t)
	b := configured(t, ep, acct, nil)
	w := newOutsideWriter(t, ep, b)
	const rotated, foreign = "rotated-value-never-listed", "foreign-value-never-listed"

	mustPut(t, b, entry("ROTATED", plain, "before-rotation"), pluginsdk.Create)
	mustPut(t, b, entry("S", secret, "s-value"), pluginsdk.Create)
	mustPut(t, b, entry("P", plain, "p-value"), pluginsdk.Create)
	w.putValue("ast/"+acct+"/ROTATED", rotated)
	w.create("ast/"+acct+"/FOREIGN", foreign)
	for _, name := range []string{"ROTATED", "S", "FOREIGN"} {
		w.tag("ast/"+acct+"/"+name, tagKind, "plain")
		w.tag("ast/"+acct+"/"+name, tagAccount, acct)
	}

	for _, values := range []bool{false, true} {
		list, err := b.List(context.Background(), pluginsdk.ListOptions{Values: values})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			if e.Name == "P" {
				if e.Kind != plain {
					t.Errorf("List(values %v): P is %s", values, e.Kind)
				}
				continue
			}
			if e.Kind != secret || !e.Value.IsZero() {
				t.Errorf("List(values %v) after forged tags: %s is %s with a %d-byte value, want a secret without value",
					values, e.Name, e.Kind, e.Value.Len())
			}
		}
	}
	res, err := b.Get(context.Background(), []string{"ROTATED", "S", "FOREIGN", "P"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		want := secret
		if r.Entry.Name == "P" {
			want = plain
		}
		if r.Err != nil || r.Entry.Kind != want {
			t.Errorf("Get %s: kind %s, %v; want %s", r.Entry.Name, r.Entry.Kind, r.Err, want)
		}
	}
}
