package kubernetes

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/ast-cli/ast/pluginsdk"
)

// hostileCluster is an API server that answers a deploy's reads with 404 and every write
// with the status code and message of say (the request's body, to echo from).
func hostileCluster(t *testing.T, say func(body string) (int, string)) *Target {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			w.WriteHeader(404)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"not found","details":{"name":"x","kind":"secrets"}}`)
			return
		}
		code, msg := say(string(body))
		reason := map[int]string{403: "Forbidden", 422: "Invalid", 500: "InternalError", 409: "Conflict"}[code]
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":%q,"code":%d,"message":%q}`, reason, code, msg)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]
current-context: x
`, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := New()
	tg.poll = 10 * time.Millisecond
	if err := tg.Configure(context.Background(), "k", map[string]string{"kubeconfig": cfg}); err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestServerErrorsNeverQuoteValues: an API server (an admission webhook) that quotes the
// Secret's values in its refusal, raw or base64, in any status, has its message withheld;
// one that quotes nothing of them is quoted, on one line (a newline in it cannot forge a
// line of ast's output).
func TestServerErrorsNeverQuoteValues(t *testing.T) {
	const canary = "CANARY-k8s-v4lue-91c"
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	tests := []struct {
		name  string
		code  int
		msg   string
		quote string // a text the error must contain ("" for none)
	}{
		{"raw in 403", 403, `admission webhook "deny.example" denied the request: API_KEY=` + canary, ""},
		{"base64 in 422", 422, `Secret "ast-web" is invalid: data[API_KEY]: Invalid value: "` + b64 + `"`, ""},
		{"echo of the body in 500", 500, "", ""},
		{"part of the value in 409", 409, "conflict on " + canary[3:15], ""},
		{"harmless, quoted", 403, `admission webhook "deny.example" denied the request: no`, "denied the request: no"},
		{"newline", 403, "denied\n✓ Deployed web on target k", `denied ✓ Deployed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := hostileCluster(t, func(body string) (int, string) {
				if tt.msg == "" {
					return tt.code, body
				}
				return tt.code, tt.msg
			})
			_, err := tg.Deploy(context.Background(), workloadFor(canary, "info", 1), pluginsdk.DeployOptions{})
			if err == nil {
				t.Fatal("deploy against a refusing server: no error")
			}
			msg := err.Error()
			for _, bad := range []string{canary, b64, canary[3:15]} {
				if strings.Contains(msg, bad) {
					t.Fatalf("the error quotes the value (%d bytes of it)", len(bad))
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("the error has a newline from the server: %q", msg)
			}
			if tt.quote != "" && !strings.Contains(msg, tt.quote) {
				t.Errorf("the error does not quote the harmless message %q: %s", tt.quote, msg)
			}
			if tt.quote == "" && !strings.Contains(msg, pluginsdk.Withheld) {
				t.Errorf("the error does not say the message is withheld: %s", msg)
			}
		})
	}
}

// TestPodReasonsStayOnOneLine: a pod's condition or container message with a newline (the
// cluster's text) cannot start a line of ast's output in a rollout's progress or error.
func TestPodReasonsStayOnOneLine(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "ns", Labels: map[string]string{LabelName: "web"}},
		Status: corev1.PodStatus{
			Conditions:        []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "no\n✓ Deployed web"}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "c\r", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "Bad\n", Message: "x\ny"}}}},
		}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Generation: 1},
		Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "R\n", Message: "m\n✓ forged"}}}}
	tg := &Target{namespace: "ns", client: fake.NewSimpleClientset(pod, dep)}
	reasons := tg.podReasons(context.Background(), "web")
	if len(reasons) != 2 {
		t.Fatalf("reasons %q, want 2", reasons)
	}
	long := pod.DeepCopy()
	long.Name, long.Status.ContainerStatuses = "web-2", nil
	long.Status.Conditions[0].Message = strings.Repeat("é", 1<<19) // 1 MiB
	tg = &Target{namespace: "ns", client: fake.NewSimpleClientset(long)}
	if r := tg.podReasons(context.Background(), "web"); len(r) != 1 || len(r[0]) > maxReasonBytes+50 || !utf8.ValidString(r[0]) {
		t.Errorf("a 1 MiB condition message: %d reasons, the first of %d bytes", len(r), len(r[0]))
	}
	for _, r := range append(reasons, tg.status(dep).Message) {
		if strings.ContainsAny(r, "\n\r") {
			t.Errorf("a reason with a line break: %q", r)
		}
	}
}

// TestKubeconfigErrorQuotesNoValue: a kubeconfig the YAML parser refuses is reported
// without the token the parser's error would quote.
func TestKubeconfigErrorQuotesNoValue(t *testing.T) {
	const canary = "CANARYtok3n"
	for _, token := range []string{"*" + canary, "!!int " + canary, "!!bool x" + canary} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "kubeconfig")
		body := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n" +
			"users:\n- name: u\n  user:\n    token: " + token + "\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		err := New().Configure(context.Background(), "k", map[string]string{"kubeconfig": cfg})
		if err == nil {
			t.Fatalf("token %d bytes: no error", len(token))
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("the error quotes the token: %d bytes of it", len(canary))
		}
		if !strings.Contains(err.Error(), "reading the kubeconfig") {
			t.Errorf("error: %v", err)
		}
	}
}

// TestServerWarningsNeverQuoteValues: a Warning header of the API server (an admission
// webhook's warnings) on the Secret's apply that quotes one of its values is not printed;
// one that quotes none is, on one line.
func TestServerWarningsNeverQuoteValues(t *testing.T) {
	const canary = "CANARY-w4rn-v4lue-3d"
	tests := []struct{ name, warning, want string }{
		{"quotes the value", `299 - "API_KEY is ` + canary + `"`, "warning from the API server is not shown"},
		{"harmless", `299 - "policy: prefer fewer keys"`, "policy: prefer fewer keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Warning", tt.warning)
				if r.Method == http.MethodGet {
					w.WriteHeader(404)
					fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
					return
				}
				w.WriteHeader(403)
				fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"no"}`)
			}))
			defer srv.Close()
			cfg := filepath.Join(t.TempDir(), "kubeconfig")
			if err := os.WriteFile(cfg, []byte(fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: %q}}]\n"+
				"users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]\ncurrent-context: x\n", srv.URL)), 0o600); err != nil {
				t.Fatal(err)
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			saved := os.Stderr
			os.Stderr = w
			tg := New()
			if err := tg.Configure(context.Background(), "k", map[string]string{"kubeconfig": cfg}); err != nil {
				os.Stderr = saved
				t.Fatal(err)
			}
			_, derr := tg.Deploy(context.Background(), workloadFor(canary, "info", 1), pluginsdk.DeployOptions{})
			time.Sleep(100 * time.Millisecond) // klog flushes asynchronously at most this late
			os.Stderr = saved
			w.Close()
			out, _ := io.ReadAll(r)
			if derr == nil {
				t.Fatal("no error from a refusing server")
			}
			if strings.Contains(string(out), canary) {
				t.Fatalf("stderr quotes the value")
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("stderr %q, want %q", out, tt.want)
			}
		})
	}
}

// TestReadErrorsOfADeployNeverQuoteValues: the server's error to a deploy's reads (the
// Secret and Deployment it finds) is withheld too when it quotes a value of the deploy
// (a server holds the values of the last deploy, which are mostly the same).
func TestReadErrorsOfADeployNeverQuoteValues(t *testing.T) {
	const canary = "CANARY-r34d-v4lue-77"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"InternalError","code":500,"message":"stored API_KEY=%s"}`, canary)
	}))
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: %q}}]\n"+
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]\ncurrent-context: x\n", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := New()
	if err := tg.Configure(context.Background(), "k", map[string]string{"kubeconfig": cfg}); err != nil {
		t.Fatal(err)
	}
	_, err := tg.Deploy(context.Background(), workloadFor(canary, "info", 1), pluginsdk.DeployOptions{})
	if err == nil || strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), pluginsdk.Withheld) {
		t.Errorf("a read's error quoting the value: %v", err != nil && strings.Contains(err.Error(), canary))
	}
}

// TestMissingNamespaceWithAShortValue: a value short enough to be found in the server's
// message (which is then withheld) does not hide that the namespace is missing.
func TestMissingNamespaceWithAShortValue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"namespaces \"ns\" not found","details":{"name":"ns","kind":"namespaces"}}`)
	}))
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: %q}}]\n"+
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]\ncurrent-context: x\n", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := New()
	if err := tg.Configure(context.Background(), "k", map[string]string{"kubeconfig": cfg}); err != nil {
		t.Fatal(err)
	}
	_, err := tg.Deploy(context.Background(), workloadFor("ns", "info", 1), pluginsdk.DeployOptions{})
	if err == nil || !strings.Contains(err.Error(), "namespace ns does not exist") {
		t.Errorf("deploy into a missing namespace with the value \"ns\": %v", err)
	}
}
