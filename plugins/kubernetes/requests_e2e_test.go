package kubernetes_test

// The requests a deploy makes, counted from outside ast: the API server's audit log (level
// Metadata, scripts/k8s-cluster) for the Kubernetes API, and the plugins' debug lines
// (pluginsdk.CallLogMessage, AST_LOG=debug) for the backend. ISSUE 17: "a fixed number of
// API writes however many references", "at most one batched resolve".

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// auditEvent is what the test reads of an audit.k8s.io/v1 Event.
type auditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// auditLog reads the requests of one identity from the API server's audit log.
type auditLog struct {
	path, user string
}

func testAuditLog(t *testing.T) auditLog {
	t.Helper()
	a := auditLog{path: os.Getenv("AST_TEST_K8S_AUDIT_LOG"), user: os.Getenv("AST_TEST_K8S_DEPLOYER_USER")}
	if a.path == "" || a.user == "" {
		t.Skip("the test cluster has no audit log (scripts/k8s-cluster exports AST_TEST_K8S_AUDIT_LOG)")
	}
	return a
}

// offset is the log's current size: requests made after it are read from there.
func (a auditLog) offset(t *testing.T) int64 {
	t.Helper()
	st, err := os.Stat(a.path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// since returns the identity's requests logged after off on objects of agent (its
// Deployment and Secret, and lists in the namespace), as "verb resource" → count. The
// audit event of a request is written when its handler returns, which may be a moment
// after the client has its answer: since waits until the count has stayed the same for
// 300 ms.
func (a auditLog) since(t *testing.T, off int64, ns, agent string) map[string]int {
	t.Helper()
	var last map[string]int
	stable := time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got := a.read(t, off, ns, agent)
		if fmt.Sprint(got) != fmt.Sprint(last) {
			last, stable = got, time.Now()
		} else if time.Since(stable) >= 300*time.Millisecond {
			break
		}
	}
	return last
}

func (a auditLog) read(t *testing.T, off int64, ns, agent string) map[string]int {
	t.Helper()
	f, err := os.Open(a.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(off, 0); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.User.Username != a.user || e.ObjectRef == nil {
			continue
		}
		o := e.ObjectRef
		if o.Namespace != ns || (o.Name != "" && o.Name != agent && o.Name != "ast-"+agent) {
			continue
		}
		r := o.Resource
		if o.Subresource != "" {
			r += "/" + o.Subresource
		}
		out[e.Verb+" "+r]++
	}
	return out
}

// writes counts the requests that may change what the server holds.
func writes(reqs map[string]int) int {
	n := 0
	for k, c := range reqs {
		switch strings.Fields(k)[0] {
		case "create", "update", "patch", "delete", "deletecollection":
			n += c
		}
	}
	return n
}

func total(reqs map[string]int) int {
	n := 0
	for _, c := range reqs {
		n += c
	}
	return n
}

func show(reqs map[string]int) string {
	var parts []string
	for k, c := range reqs {
		parts = append(parts, fmt.Sprintf("%d %s", c, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

var callLine = regexp.MustCompile(`plugin call: .*`)

// pluginCalls counts the calls the plugins logged they served (AST_LOG=debug) by method
// (the last element of the gRPC name, with its service: "Backend/Get"; go-plugin's own
// services left out), and the items of each Backend/Get.
func pluginCalls(stderr string) (map[string]int, []int) {
	calls := map[string]int{}
	var getItems []int
	for _, line := range callLine.FindAllString(stderr, -1) {
		var method string
		items := -1
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "method="); ok {
				parts := strings.Split(v, "/")
				svc := parts[len(parts)-2]
				method = svc[strings.LastIndex(svc, ".")+1:] + "/" + parts[len(parts)-1]
			}
			if v, ok := strings.CutPrefix(f, "items="); ok {
				items, _ = strconv.Atoi(v)
			}
		}
		if strings.HasPrefix(method, "GRPC") { // go-plugin's own services (broker, stdio, shutdown)
			continue
		}
		calls[method]++
		if method == "Backend/Get" {
			getItems = append(getItems, items)
		}
	}
	return calls, getItems
}

// debugRun runs ast with AST_LOG=debug.
func (s *sandbox) debugRun(args ...string) result {
	s.t.Helper()
	env := s.env
	s.env = append(env[:len(env):len(env)], "AST_LOG=debug")
	defer func() { s.env = env }()
	return s.must("", args...)
}

func TestDeployRequestsDoNotGrowWithReferences(t *testing.T) {
	s := newSandbox(t)
	audit := testAuditLog(t)
	ctx := context.Background()
	const n = 100
	canary := fmt.Sprintf("CANARY-req-%d", time.Now().UnixNano())
	var env bytes.Buffer
	var plain []string
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&env, "REF_%03d=%s-%03d\n", i, canary, i)
		if i%2 == 0 {
			plain = append(plain, fmt.Sprintf("REF_%03d", i))
		}
	}
	envFile := filepath.Join(s.root, "refs.env")
	if err := os.WriteFile(envFile, env.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	s.must("", "secrets", "import", "--file", envFile, "--plain-keys", strings.Join(plain, ","))
	if err := os.Remove(envFile); err != nil {
		t.Fatal(err)
	}
	var bp strings.Builder
	bp.WriteString("image: " + pause + "\nenv:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&bp, "  REF_%03d: \"@\"\n", i)
	}
	s.blueprint("refs-one", "image: "+pause+"\nenv:\n  REF_001: \"@\"\n")
	s.blueprint("refs-hundred", bp.String())
	s.stopAfter("refs-one")
	s.stopAfter("refs-hundred")
	var outputs bytes.Buffer

	// deploy runs one deploy with AST_LOG=debug and returns its API requests and backend Gets.
	deploy := func(agent string, args ...string) (map[string]int, []int) {
		t.Helper()
		off := audit.offset(t)
		r := s.debugRun(append([]string{"blueprint", "deploy", agent, "--target", "k"}, args...)...)
		outputs.WriteString(r.out + r.errOut)
		reqs := audit.since(t, off, s.c.ns, agent)
		calls, gets := pluginCalls(r.errOut)
		// Deploy, or its streaming form (capability deploy-progress) that ast uses.
		if n := calls["Target/Deploy"] + calls["Target/DeployStream"]; n != 1 {
			t.Errorf("%s: the target plugin served %d Deploy calls, want 1 (calls: %v)", agent, n, calls)
		}
		t.Logf("deploy %s %s: API requests: %s; backend calls: %v, Get items %v", agent, strings.Join(args, " "), show(reqs), calls, gets)
		return reqs, gets
	}

	one, gets1 := deploy("refs-one", "--wait=false")
	hundred, gets100 := deploy("refs-hundred", "--wait=false")
	if len(gets1) != 1 || gets1[0] != 1 {
		t.Errorf("1 reference: backend Gets with items %v, want one Get of 1", gets1)
	}
	if len(gets100) != 1 || gets100[0] != n {
		t.Errorf("%d references: backend Gets with items %v, want one batched Get of %d", n, gets100, n)
	}
	if writes(one) == 0 || writes(one) != writes(hundred) {
		t.Errorf("API writes: %d for 1 reference (%s), %d for %d (%s): want the same, and some", writes(one), show(one), writes(hundred), n, show(hundred))
	}
	if total(one) != total(hundred) {
		t.Errorf("API requests: %d for 1 reference (%s), %d for %d (%s): want the same", total(one), show(one), total(hundred), n, show(hundred))
	}
	sec, err := s.c.admin.CoreV1().Secrets(s.c.ns).Get(ctx, "ast-refs-hundred", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sec.Data) < n || !strings.HasPrefix(string(sec.Data["REF_100"]), canary) {
		t.Fatalf("the Secret does not hold the %d resolved values (%d keys)", n, len(sec.Data))
	}
	dep, err := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "refs-hundred", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Unchanged redeploy: nothing stored changes (server-side apply of identical objects
	// is a no-op: the resourceVersions stay), and it is still one Get.
	again, gets := deploy("refs-hundred", "--wait=false")
	if len(gets) != 1 {
		t.Errorf("unchanged redeploy: backend Gets %v, want one", gets)
	}
	for k, c := range again {
		if v := strings.Fields(k)[0]; v != "get" && v != "patch" && v != "list" && v != "watch" {
			t.Errorf("unchanged redeploy: %d %s requests", c, k)
		}
	}
	sec2, _ := s.c.admin.CoreV1().Secrets(s.c.ns).Get(ctx, "ast-refs-hundred", metav1.GetOptions{})
	dep2, _ := s.c.admin.AppsV1().Deployments(s.c.ns).Get(ctx, "refs-hundred", metav1.GetOptions{})
	// The Deployment's resourceVersion also moves when the controller writes its status
	// (the rollout goes on after --wait=false): what ast writes is its spec and metadata,
	// whose generation and ast's managedFields time stay.
	if sec2.ResourceVersion != sec.ResourceVersion || dep2.Generation != dep.Generation || astApplied(dep2) != astApplied(dep) {
		t.Errorf("an unchanged redeploy wrote: Secret %s → %s, Deployment generation %d → %d, applied %s → %s",
			sec.ResourceVersion, sec2.ResourceVersion, dep.Generation, dep2.Generation, astApplied(dep), astApplied(dep2))
	}

	// Neither the audit log (level Metadata: no bodies) nor ast's output, debug lines
	// included, holds a value.
	if where := sweepFiles(audit.path, canary); where != "" {
		t.Errorf("a value appears in %s: the audit policy must stay at level Metadata", where)
	}
	if strings.Contains(outputs.String(), canary) {
		t.Errorf("a value appears in ast's output (AST_LOG=debug)")
	}
}

// astApplied is when field manager ast last changed d (its managedFields entry), or "".
func astApplied(d *appsv1.Deployment) string {
	for _, m := range d.ManagedFields {
		if m.Manager == "ast" && m.Operation == metav1.ManagedFieldsOperationApply && m.Time != nil {
			return m.Time.UTC().Format(time.RFC3339)
		}
	}
	return ""
}
