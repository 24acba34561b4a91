package kubernetes_test

// End-to-end tests of the Kubernetes target against the real control plane that
// scripts/with-servers starts (etcd, kube-apiserver with RBAC and Secrets encrypted at
// rest, kube-controller-manager, kube-scheduler, kwok): they build ast, the local backend
// and ast-target-kubernetes, and drive ast in a temporary HOME with the least-privilege
// kubeconfig; an admin client checks what is in the cluster. Containers never run on this
// cluster (kwok simulates nodes), so logs are tested only as far as the request goes.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func buildBinaries() error {
	dir, err := os.MkdirTemp("", "ast-k8s-e2e-")
	if err != nil {
		return err
	}
	binDir = dir
	for _, b := range []struct{ dir, out, pkg string }{
		{"../..", "ast", "./cmd/ast"},
		{"../..", "ast-plugin-local", "./plugins/local/cmd/ast-plugin-local"},
		{".", "ast-target-kubernetes", "./cmd/ast-target-kubernetes"},
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", b.pkg, err, out)
		}
	}
	return nil
}

// cluster is the test cluster of scripts/with-servers.
type cluster struct {
	admin     k8s.Interface
	kubecfg   string // least privilege, namespace ns
	ns        string
	etcdDir   string
	adminFile string
}

func testCluster(t *testing.T) *cluster {
	t.Helper()
	admin := os.Getenv("AST_TEST_K8S_ADMIN_KUBECONFIG")
	if admin == "" {
		t.Skip("no test cluster: run under scripts/with-servers after make dev-k8s (make test does both)")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", admin)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := k8s.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{admin: cs, kubecfg: os.Getenv("AST_TEST_K8S_KUBECONFIG"), ns: os.Getenv("AST_TEST_K8S_NAMESPACE"),
		etcdDir: os.Getenv("AST_TEST_K8S_ETCD_DIR"), adminFile: admin}
}

// sandbox is a fresh HOME with ast's config, a target "k" on the least-privilege
// identity, and a working directory with blueprints/.
type sandbox struct {
	t    *testing.T
	c    *cluster
	root string
	cwd  string
	env  []string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	c := testCluster(t)
	buildOnce.Do(func() { buildErr = buildBinaries() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	root := t.TempDir()
	s := &sandbox{t: t, c: c, root: root, cwd: filepath.Join(root, "work")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AST_") || strings.HasPrefix(k, "XDG_") || k == "HOME" || k == "KUBECONFIG" {
			continue
		}
		s.env = append(s.env, kv)
	}
	for _, d := range []struct{ env, sub string }{
		{"HOME", "home"}, {"XDG_CONFIG_HOME", "config"}, {"XDG_DATA_HOME", "data"}, {"XDG_STATE_HOME", "state"},
	} {
		p := filepath.Join(root, d.sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		s.env = append(s.env, d.env+"="+p)
	}
	if err := os.MkdirAll(filepath.Join(s.cwd, "blueprints"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.must("", "target", "add", "k", "--type", "kubernetes", "--set", "kubeconfig="+c.kubecfg)
	return s
}

type result struct {
	code        int
	out, errOut string
}

func (s *sandbox) run(stdin string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "ast"), args...)
	cmd.Dir, cmd.Env, cmd.Stdin = s.cwd, s.env, strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{out: out.String(), errOut: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("ast %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func (s *sandbox) must(stdin string, args ...string) result {
	s.t.Helper()
	r := s.run(stdin, args...)
	if r.code != 0 {
		s.t.Fatalf("ast %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	return r
}

func (s *sandbox) blueprint(agent, content string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.cwd, "blueprints", agent+".yaml"), []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// stopAfter removes the agent's objects when the test ends, whatever happened.
func (s *sandbox) stopAfter(agent string) {
	s.t.Cleanup(func() {
		ctx := context.Background()
		_ = s.c.admin.AppsV1().Deployments(s.c.ns).Delete(ctx, agent, metav1.DeleteOptions{})
		_ = s.c.admin.CoreV1().Secrets(s.c.ns).Delete(ctx, "ast-"+agent, metav1.DeleteOptions{})
	})
}

const pause = "registry.k8s.io/pause:3.10"

func TestDeployLifecycle(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	canary1 := fmt.Sprintf("CANARY-one-%d", time.Now().UnixNano())
	canary2 := fmt.Sprintf("CANARY-two-%d", time.Now().UnixNano())
	canaryFlag := fmt.Sprintf("CANARY-flag-%d", time.Now().UnixNano())
	s.must(canary1, "secrets", "create", "API_KEY")
	s.blueprint("web", "image: "+pause+"\nenv:\n  API_KEY: \"@\"\n  LOG_LEVEL: info\nkubernetes:\n  replicas: 2\n")
	s.stopAfter("web")
	var outputs bytes.Buffer
	record := func(r result) result { outputs.WriteString(r.out + r.errOut); return r }

	// Dry run: manifests with sources, no value, nothing written.
	r := record(s.must("", "blueprint", "deploy", "web", "--target", "k", "--dry-run", "--var", "TOKEN="+canaryFlag))
	for _, want := range []string{"kind: Secret", "kind: Deployment", "secretKeyRef", "<entry API_KEY>", "value: info"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("dry run: no %q in the manifests:\n%s", want, r.out)
		}
	}
	if _, err := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry run wrote the Deployment (get: %v)", err)
	}

	// First deploy, waiting for the rollout.
	start := time.Now()
	record(s.must("", "blueprint", "deploy", "web", "--timeout", "90s", "--var", "TOKEN="+canaryFlag, "--target", "k"))
	t.Logf("deploy --wait of 2 replicas: %s", time.Since(start).Round(time.Millisecond))
	dep, err := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if dep.Status.AvailableReplicas != 2 {
		t.Errorf("available replicas = %d after deploy --wait, want 2", dep.Status.AvailableReplicas)
	}
	if dep.Labels["app.kubernetes.io/managed-by"] != "ast" || dep.Labels["app.kubernetes.io/name"] != "web" {
		t.Errorf("labels = %v", dep.Labels)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e
	}
	if e := env["LOG_LEVEL"]; e.Value != "info" {
		t.Errorf("LOG_LEVEL is not the literal value info")
	}
	for _, k := range []string{"API_KEY", "TOKEN"} {
		if e := env[k]; e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "ast-web" {
			t.Errorf("%s is not a secretKeyRef into ast-web", k)
		}
	}
	sec, err := s.c.admin.CoreV1().Secrets(s.c.ns).Get(ctx, "ast-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["API_KEY"]) != canary1 || string(sec.Data["TOKEN"]) != canaryFlag {
		t.Errorf("the Secret does not hold the resolved values")
	}
	if _, ok := sec.Data["LOG_LEVEL"]; ok {
		t.Errorf("the Secret holds the blueprint literal LOG_LEVEL")
	}

	// Unchanged redeploy: nothing written.
	r = record(s.must("", "blueprint", "deploy", "web", "--var", "TOKEN="+canaryFlag, "--target", "k"))
	dep2, _ := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "web", metav1.GetOptions{})
	sec2, _ := s.c.admin.CoreV1().Secrets(s.c.ns).Get(ctx, "ast-web", metav1.GetOptions{})
	if dep2.ResourceVersion != dep.ResourceVersion || sec2.ResourceVersion != sec.ResourceVersion {
		t.Errorf("an unchanged redeploy wrote: resourceVersions %s->%s, %s->%s", dep.ResourceVersion, dep2.ResourceVersion, sec.ResourceVersion, sec2.ResourceVersion)
	}
	if !strings.Contains(r.errOut, "Unchanged") {
		t.Errorf("an unchanged redeploy does not say so: %s", r.errOut)
	}

	// Updated entry: Secret updated, pod template changed, pods rolled.
	s.must(canary2, "secrets", "update", "API_KEY")
	record(s.must("", "blueprint", "deploy", "web", "--timeout", "90s", "--var", "TOKEN="+canaryFlag, "--target", "k"))
	dep3, _ := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "web", metav1.GetOptions{})
	sec3, _ := s.c.admin.CoreV1().Secrets(s.c.ns).Get(ctx, "ast-web", metav1.GetOptions{})
	if string(sec3.Data["API_KEY"]) != canary2 {
		t.Errorf("the Secret was not updated with the entry's new value")
	}
	h1, h3 := dep.Spec.Template.Annotations["ast.dev/template-hash"], dep3.Spec.Template.Annotations["ast.dev/template-hash"]
	if h1 == "" || h1 == h3 {
		t.Errorf("the pod template hash did not change (%q -> %q)", h1, h3)
	}
	if dep3.Generation <= dep.Generation || dep3.Status.UpdatedReplicas != 2 || dep3.Status.AvailableReplicas != 2 {
		t.Errorf("no completed roll: generation %d->%d, updated %d, available %d", dep.Generation, dep3.Generation, dep3.Status.UpdatedReplicas, dep3.Status.AvailableReplicas)
	}

	// blueprint list shows it, from the target.
	r = record(s.must("", "blueprint", "list", "--output", "json"))
	var listed []map[string]any
	if err := json.Unmarshal([]byte(r.out), &listed); err != nil {
		t.Fatalf("blueprint list: %v\n%s", err, r.out)
	}
	found := false
	for _, a := range listed {
		if a["agent"] == "web" && a["target"] == "k" && a["image"] == pause && a["desired"] == float64(2) {
			found = true
		}
	}
	if !found {
		t.Errorf("blueprint list does not show web on target k with its image and replicas:\n%s", r.out)
	}

	// Logs: containers never start here, so only the request and its error are tested.
	r = record(s.run("", "blueprint", "logs", "web"))
	if r.code == 0 && r.out != "" {
		t.Logf("logs unexpectedly answered: %q", r.out)
	}

	// Positive controls of the etcd sweep: a ConfigMap (never encrypted) holding a canary
	// is found in etcd's files, so a sweep that finds no Secret value is not blind; and
	// the Secrets there carry the envelope of the README's secretbox provider.
	if s.c.etcdDir != "" {
		plain := fmt.Sprintf("CANARY-configmap-%d", time.Now().UnixNano())
		if _, err := s.c.admin.CoreV1().ConfigMaps(s.c.ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "sweep-control"},
			Data: map[string]string{"v": plain}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.c.admin.CoreV1().ConfigMaps(s.c.ns).Delete(ctx, "sweep-control", metav1.DeleteOptions{}) })
		if where := sweepFiles(s.c.etcdDir, plain); where == "" {
			t.Errorf("the sweep of etcd's files does not find a ConfigMap's plain value: it would not find a Secret's either")
		} else {
			t.Logf("positive control: the ConfigMap's value is in %s", where)
		}
		if where := sweepFiles(s.c.etcdDir, "k8s:enc:secretbox:v1:key1:"); where == "" {
			t.Errorf("no secretbox-encrypted object in etcd's files: the encryption configuration is not in effect")
		}
	}

	// Canary sweep: every object the API server holds in the namespace except the Secret,
	// with managedFields; ast's output; ast's files.
	for name, c := range map[string]string{"entry": canary1, "updated entry": canary2, "--var literal": canaryFlag} {
		if where := sweepAPI(t, s.c, c); where != "" {
			t.Errorf("the %s value appears in %s", name, where)
		}
		if strings.Contains(outputs.String(), c) {
			t.Errorf("the %s value appears in ast's output", name)
		}
		if where := sweepFiles(filepath.Join(s.root, "state"), c); where != "" {
			t.Errorf("the %s value appears in ast's state file %s", name, where)
		}
		if s.c.etcdDir != "" {
			if where := sweepFiles(s.c.etcdDir, c); where != "" {
				t.Errorf("the %s value appears in etcd's files (%s): encryption at rest is not in effect", name, where)
			}
		}
	}

	// Stop: both objects gone.
	s.must("", "blueprint", "stop", "web")
	if _, err := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Deployment is still there after stop (%v)", err)
	}
	if _, err := s.c.admin.CoreV1().Secrets(s.c.ns).Get(ctx, "ast-web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Secret is still there after stop (%v)", err)
	}
	if r := s.run("", "target", "remove", "k"); r.code != 0 {
		t.Errorf("target remove after stop: exit %d: %s", r.code, r.errOut)
	}
}

// sweepAPI GETs every kind of object in the namespace (as JSON, with managedFields) and
// returns where canary appears, or "". The agents' Secrets are the only place it may be.
func sweepAPI(t *testing.T, c *cluster, canary string) string {
	t.Helper()
	ctx := context.Background()
	rest := c.admin.Discovery().RESTClient()
	lists, err := c.admin.Discovery().ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		t.Fatalf("discovery: %v", err)
	}
	for _, l := range lists {
		for _, r := range l.APIResources {
			if !strings.Contains(strings.Join(r.Verbs, ","), "list") || strings.Contains(r.Name, "/") {
				continue
			}
			prefix := "/apis/" + l.GroupVersion
			if l.GroupVersion == "v1" {
				prefix = "/api/v1"
			}
			raw, err := rest.Get().AbsPath(prefix, "namespaces", c.ns, r.Name).DoRaw(ctx)
			if err != nil {
				continue
			}
			var list struct {
				Items []json.RawMessage `json:"items"`
			}
			_ = json.Unmarshal(raw, &list)
			for _, item := range list.Items {
				var meta struct {
					Metadata struct {
						Name string `json:"name"`
					} `json:"metadata"`
				}
				_ = json.Unmarshal(item, &meta)
				if r.Name == "secrets" && strings.HasPrefix(meta.Metadata.Name, "ast-") {
					continue
				}
				if bytes.Contains(item, []byte(canary)) {
					return r.Name + "/" + meta.Metadata.Name
				}
			}
		}
	}
	return ""
}

// sweepFiles returns the first file under dir whose bytes hold canary, or "".
func sweepFiles(dir, canary string) string {
	found := ""
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(canary)) {
			found = p
		}
		return nil
	})
	return found
}

func TestUnschedulableRolloutReportsReason(t *testing.T) {
	s := newSandbox(t)
	s.blueprint("huge", "image: "+pause+"\nkubernetes:\n  resources:\n    requests: {cpu: \"1000\"}\n")
	s.stopAfter("huge")
	start := time.Now()
	r := s.run("", "blueprint", "deploy", "huge", "--target", "k", "--timeout", "8s")
	took := time.Since(start)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.errOut)
	}
	for _, want := range []string{"did not complete within 8s", "Unschedulable", "Insufficient cpu", "namespace " + s.c.ns} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("the error does not say %q:\n%s", want, r.errOut)
		}
	}
	if took > 40*time.Second {
		t.Errorf("the failed rollout took %s to report (timeout 8s)", took)
	}
	// Progress on a stderr that is not a terminal: a line per change, no more.
	var progress []string
	for _, l := range strings.Split(r.errOut, "\n") {
		if strings.HasPrefix(l, "rollout: huge: ") {
			progress = append(progress, l)
		}
	}
	if len(progress) == 0 || len(progress) > 6 || strings.Contains(r.errOut, "\r") {
		t.Errorf("%d progress lines, want 1 to 6 (one per change), no carriage return:\n%s", len(progress), r.errOut)
	}
	if p := strings.Join(progress, "\n"); !strings.Contains(p, "1/1 updated, 0 available") || !strings.Contains(p, "Unschedulable") {
		t.Errorf("the progress lines do not show the counts and the reason:\n%s", p)
	}
	t.Logf("progress lines:\n%s", strings.Join(progress, "\n"))
	// On a terminal (script(1) gives ast a pty): one line rewritten in place, erased
	// before the error.
	if script, err := exec.LookPath("script"); err == nil {
		q := func(a string) string { return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'" }
		line := q(filepath.Join(binDir, "ast"))
		for _, a := range []string{"blueprint", "deploy", "huge", "--target", "k", "--timeout", "3s"} {
			line += " " + q(a)
		}
		cmd := exec.Command(script, "-q", "-e", "-c", line, "/dev/null")
		cmd.Dir, cmd.Env = s.cwd, append(s.env, "TERM=xterm")
		out, err := cmd.CombinedOutput()
		tty := string(out)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("deploy on a terminal: %v, want exit 1\n%q", err, tty)
		}
		if !strings.Contains(tty, "\r\x1b[Khuge: 1/1 updated, 0 available") || !strings.Contains(tty, "\r\x1b[Kast: deploying huge") || strings.Contains(tty, "rollout: ") {
			t.Errorf("deploy on a terminal: no progress line rewritten in place and erased before the error:\n%q", tty)
		}
	} else {
		t.Log("no script(1): the terminal progress line is tested in internal/cli only")
	}
	// The objects stay and are recorded: stop finds them without --target.
	s.must("", "blueprint", "stop", "huge")
}

func TestLeastPrivilegeRefusedOutsideItsNamespace(t *testing.T) {
	s := newSandbox(t)
	s.must("", "target", "add", "elsewhere", "--type", "kubernetes", "--set", "kubeconfig="+s.c.kubecfg, "--set", "namespace=other-ns")
	s.blueprint("outside", "image: "+pause+"\n")
	r := s.run("", "blueprint", "deploy", "outside", "--target", "elsewhere")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.errOut)
	}
	for _, want := range []string{"namespace other-ns", "may not get Secret ast-outside", `cannot get resource "secrets"`, "Role"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, r.errOut)
		}
	}
}

func TestRefusals(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	// An object of the agent's name that ast does not manage.
	if _, err := s.c.admin.CoreV1().Secrets(s.c.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ast-theirs"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.stopAfter("theirs")
	s.blueprint("theirs", "image: "+pause+"\n")
	if r := s.run("", "blueprint", "deploy", "theirs", "--target", "k", "--wait=false"); r.code != 1 || !strings.Contains(r.errOut, "not managed by ast") || !strings.Contains(r.errOut, "--adopt") {
		t.Errorf("an unmanaged Secret: exit %d: %s", r.code, r.errOut)
	}
	s.must("", "blueprint", "deploy", "theirs", "--target", "k", "--wait=false", "--adopt")

	tests := []struct {
		name, agent, blueprint, want string
	}{
		{"underscore in the agent name", "my_agent", "image: x\n", "cannot be a Kubernetes object name"},
		{"workdir", "wd", "image: x\nworkdir: ..\n", ":2: workdir: has no meaning on kubernetes"},
		{"no image", "noimage", "command: [x]\n", "image: missing field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.blueprint(tt.agent, tt.blueprint)
			r := s.run("", "blueprint", "deploy", tt.agent, "--target", "k")
			if r.code == 0 || !strings.Contains(r.errOut, tt.want) {
				t.Errorf("exit %d, want an error saying %q: %s", r.code, tt.want, r.errOut)
			}
		})
	}

	// A kubeconfig others can write is refused.
	loose := filepath.Join(s.root, "loose.kubeconfig")
	b, _ := os.ReadFile(s.c.kubecfg)
	if err := os.WriteFile(loose, b, 0o666); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(loose, 0o666)
	if r := s.run("", "target", "add", "loose", "--type", "kubernetes", "--set", "kubeconfig="+loose); r.code == 0 || !strings.Contains(r.errOut, "chmod go-w") {
		t.Errorf("a group/world-writable kubeconfig: exit %d: %s", r.code, r.errOut)
	}
	if r := s.run("", "target", "add", "rel", "--type", "kubernetes", "--set", "kubeconfig=kube.yaml"); r.code == 0 || !strings.Contains(r.errOut, "not an absolute path") {
		t.Errorf("a relative kubeconfig: exit %d: %s", r.code, r.errOut)
	}
	// Removing a target while an agent runs there.
	if r := s.run("", "target", "remove", "k"); r.code == 0 || !strings.Contains(r.errOut, "theirs") {
		t.Errorf("target remove with an agent on it: exit %d: %s", r.code, r.errOut)
	}
	s.must("", "blueprint", "stop", "theirs")
}

// deadKubeconfig writes a copy of the least-privilege kubeconfig whose server is a
// loopback port nothing listens on, and returns its path and that server's address.
func (s *sandbox) deadKubeconfig() (string, string) {
	s.t.Helper()
	b, err := os.ReadFile(s.c.kubecfg)
	if err != nil {
		s.t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	dead := "https://" + l.Addr().String()
	l.Close()
	re := regexp.MustCompile(`server: "?https://127\.0\.0\.1:[0-9]+"?`)
	if !re.Match(b) {
		s.t.Fatalf("no server in the kubeconfig %s", s.c.kubecfg)
	}
	p := filepath.Join(s.root, "dead.kubeconfig")
	if err := os.WriteFile(p, re.ReplaceAll(b, []byte(`server: "`+dead+`"`)), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p, dead
}

// TestFailureModes: each failure is exit 1 with an error naming the cluster (its server),
// the namespace and the object, and saying what was written.
func TestFailureModes(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	s.blueprint("fm", "image: "+pause+"\nenv:\n  MODE: one\n")
	s.stopAfter("fm")

	t.Run("unreachable API server", func(t *testing.T) {
		kc, server := s.deadKubeconfig()
		s.must("", "target", "add", "dead", "--type", "kubernetes", "--set", "kubeconfig="+kc)
		start := time.Now()
		r := s.run("", "blueprint", "deploy", "fm", "--target", "dead")
		took := time.Since(start)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r.errOut)
		}
		for _, want := range []string{server, "namespace " + s.c.ns, "cannot reach the API server", "Secret ast-fm", "connection refused"} {
			if !strings.Contains(r.errOut, want) {
				t.Errorf("the error does not say %q:\n%s", want, r.errOut)
			}
		}
		if took > 20*time.Second {
			t.Errorf("an unreachable API server took %s to report", took)
		}
		if r := s.run("", "blueprint", "stop", "fm", "--target", "dead"); r.code != 1 || !strings.Contains(r.errOut, server) {
			t.Errorf("stop on an unreachable API server: exit %d: %s", r.code, r.errOut)
		}
		s.must("", "target", "remove", "dead", "--force")
	})

	t.Run("API server that accepts and never answers", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var held []net.Conn
		var mu sync.Mutex
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				held = append(held, c) // read nothing, answer nothing
				mu.Unlock()
			}
		}()
		defer func() {
			mu.Lock()
			for _, c := range held {
				c.Close()
			}
			mu.Unlock()
		}()
		b, _ := os.ReadFile(s.c.kubecfg)
		kc := filepath.Join(s.root, "silent.kubeconfig")
		silent := "https://" + l.Addr().String()
		if err := os.WriteFile(kc, regexp.MustCompile(`server: "?https://127\.0\.0\.1:[0-9]+"?`).ReplaceAll(b, []byte(`server: "`+silent+`"`)), 0o600); err != nil {
			t.Fatal(err)
		}
		s.must("", "target", "add", "silent", "--type", "kubernetes", "--set", "kubeconfig="+kc)
		defer s.run("", "target", "remove", "silent", "--force")
		for _, args := range [][]string{{"blueprint", "deploy", "fm", "--target", "silent"}, {"blueprint", "list"}} {
			start := time.Now()
			r := s.run("", args...)
			took := time.Since(start)
			t.Logf("%v: exit %d in %s: %s", args, r.code, took.Round(time.Millisecond), r.errOut)
			if r.code != 1 || !strings.Contains(r.errOut, silent) {
				t.Errorf("%v: exit %d, want 1 and an error naming %s:\n%s", args, r.code, silent, r.errOut)
			}
			if took > 40*time.Second { // 10 s of TLS handshake timeout, and a loaded machine
				t.Errorf("%v took %s against an API server that never answers", args, took)
			}
		}
	})

	t.Run("namespace missing", func(t *testing.T) {
		s.must("", "target", "add", "nons", "--type", "kubernetes", "--set", "kubeconfig="+s.c.adminFile, "--set", "namespace=no-such-ns")
		r := s.run("", "blueprint", "deploy", "fm", "--target", "nons")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r.errOut)
		}
		for _, want := range []string{"namespace no-such-ns does not exist", "Secret ast-fm", "https://127.0.0.1:"} {
			if !strings.Contains(r.errOut, want) {
				t.Errorf("the error does not say %q:\n%s", want, r.errOut)
			}
		}
		s.must("", "target", "remove", "nons", "--force")
	})

	t.Run("conflict with another field manager", func(t *testing.T) {
		s.must("", "blueprint", "deploy", "fm", "--target", "k", "--wait=false")
		// Someone scales the Deployment by hand (kubectl edit): their manager owns replicas.
		if _, err := s.c.admin.AppsV1().Deployments(s.c.ns).Patch(ctx, "fm", types.MergePatchType,
			[]byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
		before, _ := s.c.admin.CoreV1().Secrets(s.c.ns).Get(ctx, "ast-fm", metav1.GetOptions{})
		r := s.run("", "blueprint", "deploy", "fm", "--target", "k", "--wait=false")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r.errOut)
		}
		for _, want := range []string{"Deployment fm", "namespace " + s.c.ns, "field .spec.replicas is managed by \"kubectl-edit\"", "--adopt", "--force-conflicts", "nothing was written"} {
			if !strings.Contains(r.errOut, want) {
				t.Errorf("the error does not say %q:\n%s", want, r.errOut)
			}
		}
		after, _ := s.c.admin.CoreV1().Secrets(s.c.ns).Get(ctx, "ast-fm", metav1.GetOptions{})
		if before.ResourceVersion != after.ResourceVersion {
			t.Errorf("the refused deploy wrote the Secret")
		}

		// A changed value: the Secret is written, the Deployment refused; the error says so.
		r = s.run("", "blueprint", "deploy", "fm", "--target", "k", "--wait=false", "--var", "EXTRA=x")
		if r.code != 1 || !strings.Contains(r.errOut, "Secret ast-fm was updated with the new values but the Deployment was not") {
			t.Errorf("a refused Deployment after its Secret was written: exit %d:\n%s", r.code, r.errOut)
		}

		// --adopt takes the field over, as --force-conflicts would.
		s.must("", "blueprint", "deploy", "fm", "--target", "k", "--wait=false", "--adopt")
		dep, err := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "fm", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *dep.Spec.Replicas != 1 {
			t.Errorf("replicas = %d after --adopt, want the blueprint's 1", *dep.Spec.Replicas)
		}
		s.must("", "blueprint", "stop", "fm", "--target", "k")
	})
}

// TestListStopLogsAcrossTargets: blueprint list asks every target, shows an unreachable
// one as such (and exits 1) while listing the rest; stop and logs need --target only for
// an agent deployed on two targets; logs reach the API (containers never start here).
func TestListStopLogsAcrossTargets(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	s.blueprint("dup", "image: "+pause+"\n")
	s.blueprint("loc", "command: [sleep, \"1\"]\n")
	s.stopAfter("dup")
	t.Cleanup(func() {
		_ = s.c.admin.AppsV1().Deployments("other-ns").Delete(ctx, "dup", metav1.DeleteOptions{})
		_ = s.c.admin.CoreV1().Secrets("other-ns").Delete(ctx, "ast-dup", metav1.DeleteOptions{})
	})
	s.must("", "target", "add", "k2", "--type", "kubernetes", "--set", "kubeconfig="+s.c.adminFile, "--set", "namespace=other-ns")
	kc, server := s.deadKubeconfig()
	s.must("", "target", "add", "dead", "--type", "kubernetes", "--set", "kubeconfig="+kc)
	s.must("", "blueprint", "deploy", "dup", "--target", "k", "--timeout", "60s")
	s.must("", "blueprint", "deploy", "dup", "--target", "k2", "--timeout", "60s")

	// Shell completion of target names.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"blueprint", "deploy", "dup", "--target", ""}, "dead k k2 local"},
		{[]string{"blueprint", "stop", "dup", "--target", "k"}, "k k2"},
		{[]string{"blueprint", "logs", "dup", "--target", ""}, "dead k k2 local"},
		{[]string{"target", "show", ""}, "dead k k2"},
		{[]string{"target", "remove", "d"}, "dead"},
	} {
		r := s.must("", append([]string{"__complete"}, tt.args...)...)
		var got []string
		for _, l := range strings.Split(r.out, "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				got = append(got, l)
			}
		}
		sort.Strings(got)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("completion of %v: %q, want %q", tt.args, got, tt.want)
		}
	}

	start := time.Now()
	r := s.run("", "blueprint", "list", "--output", "json")
	took := time.Since(start)
	if r.code != 1 {
		t.Errorf("list with an unreachable target: exit %d, want 1\n%s", r.code, r.errOut)
	}
	if took > 30*time.Second {
		t.Errorf("list with an unreachable target took %s", took)
	}
	if !strings.Contains(r.errOut, "cannot list the agents of target dead") || !strings.Contains(r.errOut, server) {
		t.Errorf("stderr does not say which target did not answer and why:\n%s", r.errOut)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(r.out), &listed); err != nil {
		t.Fatalf("list: %v\n%s", err, r.out)
	}
	rows := map[string]map[string]any{}
	for _, a := range listed {
		rows[fmt.Sprint(a["agent"], "@", a["target"])] = a
	}
	for key, status := range map[string]string{"dup@k": "available 1/1", "dup@k2": "available 1/1", "-@dead": "unreachable", "loc@local": "not deployed"} {
		if a, ok := rows[key]; !ok || a["status"] != status {
			t.Errorf("list: %s is %v, want status %q\n%s", key, a, status, r.out)
		}
	}
	if e, _ := rows["-@dead"]["error"].(string); !strings.Contains(e, server) {
		t.Errorf("the unreachable row's error does not name the server: %q", e)
	}
	r = s.run("", "blueprint", "list")
	if r.code != 1 || !strings.Contains(r.out, "-\tunreachable") || !strings.Contains(r.out, "dup\tavailable 1/1") {
		t.Errorf("list, piped: exit %d:\n%s\n%s", r.code, r.out, r.errOut)
	}

	// One agent on two targets: stop and logs ask which.
	for _, args := range [][]string{{"stop", "dup"}, {"logs", "dup"}, {"logs", "-f", "dup"}} {
		r := s.run("", append([]string{"blueprint"}, args...)...)
		if r.code != 2 || !strings.Contains(r.errOut, "deployed on k and k2: say which with --target") {
			t.Errorf("%v on two targets: exit %d: %s", args, r.code, r.errOut)
		}
	}
	// Logs, as far as this cluster allows: the request reaches the API server, which
	// cannot reach a kubelet (kwok's nodes have none): the error names the pod.
	for _, args := range [][]string{{"logs", "dup", "--target", "k"}, {"logs", "-f", "dup", "--target", "k"}} {
		r := s.run("", append([]string{"blueprint"}, args...)...)
		t.Logf("%v: exit %d\nstdout: %q\nstderr: %s", args, r.code, r.out, r.errOut)
		if r.code != 1 {
			t.Errorf("%v: exit %d, want 1 (no kubelet serves logs here)", args, r.code)
		}
		for _, want := range []string{"logs of dup on target k", "namespace " + s.c.ns, "pods/log of dup-"} {
			if !strings.Contains(r.errOut, want) {
				t.Errorf("%v: the error does not say %q:\n%s", args, want, r.errOut)
			}
		}
	}
	s.must("", "blueprint", "stop", "dup", "--target", "k2")
	// Now on one target: no --target needed.
	s.must("", "blueprint", "stop", "dup")
	if _, err := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "dup", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dup is still on target k after stop (%v)", err)
	}
}

// TestHostileServerText: text from the cluster (a pod condition's reason and message,
// which anyone who can update pods/status writes) reaches stderr inert: no escape
// sequence, no carriage return, no bidi override, no line of its own.
func TestHostileServerText(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	s.blueprint("hostile", "image: "+pause+"\nkubernetes:\n  resources:\n    requests: {cpu: \"1000\"}\n")
	s.stopAfter("hostile")
	s.must("", "blueprint", "deploy", "hostile", "--target", "k", "--wait=false")
	var pod *corev1.Pod
	for deadline := time.Now().Add(30 * time.Second); pod == nil && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		pods, err := s.c.admin.CoreV1().Pods(s.c.ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=hostile"})
		if err == nil && len(pods.Items) > 0 {
			pod = &pods.Items[0]
		}
	}
	if pod == nil {
		t.Fatal("no pod of the Deployment within 30s")
	}
	evil := "pwn\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[1;1H\r\nast: forged line\u202edesrever\x9b31m"
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{{Type: "example.com/Hostile",
		Status: corev1.ConditionFalse, Reason: "Evil", Message: evil}}}})
	if _, err := s.c.admin.CoreV1().Pods(s.c.ns).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"blueprint", "deploy", "hostile", "--target", "k", "--timeout", "3s"},
		{"blueprint", "list"},
		{"blueprint", "list", "--output", "json"},
	} {
		r := s.run("", args...)
		all := r.out + r.errOut
		for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e", "\x9b", "\u009b", "\nast: forged"} {
			if strings.Contains(all, bad) {
				t.Errorf("%v: the cluster's %q reached the output raw:\n%q", args, bad, all)
			}
		}
		if args[1] == "deploy" {
			if r.code != 1 || !strings.Contains(r.errOut, `Evil: pwn\x1b]52;c;cHduZWQ=\x07\x1b[2J`) {
				t.Errorf("the failed rollout does not show the hostile reason escaped: exit %d\n%s", r.code, r.errOut)
			}
		}
	}
	s.must("", "blueprint", "stop", "hostile")
}
