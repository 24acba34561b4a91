// Package kubernetes is ast's Kubernetes deploy target (the plugin ast-target-kubernetes).
// A deploy writes, by server-side apply with field manager "ast", a Secret ast-AGENT
// holding the resolved values of the sensitive variables only, and a Deployment AGENT whose
// container env has blueprint literals as value and everything else as secretKeyRef into
// that Secret. Both carry app.kubernetes.io/name=AGENT and app.kubernetes.io/managed-by=ast;
// the Deployment's annotation ast.dev/sources lists each variable's source (never a
// value), and its pod template's annotation ast.dev/template-hash changes exactly when
// a source, a value or the blueprint does, so pods roll only then.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ast-cli/ast/pluginsdk"
)

// Version is the plugin's version, set at build time.
var Version = "dev"

// FieldManager is the server-side apply field manager of everything ast writes.
const FieldManager = "ast"

// Labels and annotations ast puts on what it writes.
const (
	LabelName           = "app.kubernetes.io/name"
	LabelManagedBy      = "app.kubernetes.io/managed-by"
	ManagedByAST        = "ast"
	AnnotationSources   = "ast.dev/sources"
	AnnotationTemplate  = "ast.dev/template-hash"
	AnnotationBlueprint = "ast.dev/blueprint-digest"
)

// Target implements pluginsdk.Target on a Kubernetes cluster.
type Target struct {
	name      string
	context   string // the kubeconfig context used
	server    string
	namespace string
	client    k8s.Interface
	// poll is how often waits look again.
	poll time.Duration
}

// New returns an unconfigured target.
func New() *Target { return &Target{poll: 500 * time.Millisecond} }

// DialTimeout bounds one TCP connection attempt to the API server.
const DialTimeout = 10 * time.Second

// Settings are the target's settings.
var Settings = []string{"kubeconfig", "context", "namespace"}

// Info implements pluginsdk.Target.
func (t *Target) Info(context.Context) (pluginsdk.Info, error) {
	return pluginsdk.Info{Name: "kubernetes", Version: Version, Protocol: pluginsdk.TargetProtocolVersion}, nil
}

// Configure implements pluginsdk.Target: settings kubeconfig (absolute; default
// $KUBECONFIG, else ~/.kube/config), context (default the current one), namespace (default
// the context's, else default). Each kubeconfig file passes checkKubeconfig. The cluster
// is not contacted.
func (t *Target) Configure(_ context.Context, target string, settings map[string]string) error {
	for k := range settings {
		if !contains(Settings, k) {
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "unknown setting %q (kubernetes targets take %s)", k, strings.Join(Settings, ", "))
		}
	}
	var files []string
	switch {
	case settings["kubeconfig"] != "":
		files = []string{settings["kubeconfig"]}
	case os.Getenv("KUBECONFIG") != "":
		for _, f := range filepath.SplitList(os.Getenv("KUBECONFIG")) {
			if f != "" {
				files = append(files, f)
			}
		}
	default:
		home, err := os.UserHomeDir()
		if err != nil {
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "no kubeconfig setting, no $KUBECONFIG and no home directory")
		}
		files = []string{filepath.Join(home, ".kube", "config")}
	}
	for _, f := range files {
		if err := checkKubeconfig(f); err != nil {
			return err
		}
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: files}
	if len(files) == 1 {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: files[0]}
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: settings["context"]}
	if ns := settings["namespace"]; ns != "" {
		overrides.Context.Namespace = ns
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := cc.RawConfig()
	if err != nil {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "reading the kubeconfig: %s", kubeconfigError(err))
	}
	t.context = settings["context"]
	if t.context == "" {
		t.context = raw.CurrentContext
	}
	if _, ok := raw.Contexts[t.context]; !ok {
		names := make([]string, 0, len(raw.Contexts))
		for n := range raw.Contexts {
			names = append(names, strconv.Quote(n))
		}
		sort.Strings(names)
		have := "it has none"
		if len(names) > 0 {
			have = "its contexts: " + strings.Join(names, ", ")
		}
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "the kubeconfig (%s) has no context %q (%s; set context= to one of them)", strings.Join(files, ":"), t.context, have)
	}
	rc, err := cc.ClientConfig()
	if err != nil {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "kubeconfig context %s: %v", t.context, err)
	}
	rc.UserAgent = "ast-target-kubernetes/" + Version
	// client-go prints an API server's Warning headers (an admission webhook's warnings)
	// as they are; serverWarnings withholds one that quotes a value the request sent.
	rc.WarningHandlerWithContext = serverWarnings{}
	// A connection that cannot be made fails in seconds, not after the system's TCP
	// timeout (minutes): DialTimeout per attempt; TLS handshakes have client-go's 10 s.
	rc.Dial = (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	if t.namespace, _, err = cc.Namespace(); err != nil {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "kubeconfig context %s: %v", t.context, err)
	}
	if t.client, err = k8s.NewForConfig(rc); err != nil {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "kubeconfig context %s: %v", t.context, err)
	}
	t.name, t.server = target, rc.Host
	return nil
}

// sentSecrets is the context key of the values a request carries (withSecrets).
type sentSecrets struct{}

// withSecrets returns ctx for the requests of a deploy, whose workload carries secrets:
// their warnings pass pluginsdk.Scrub against them.
func withSecrets(ctx context.Context, secrets []string) context.Context {
	return context.WithValue(ctx, sentSecrets{}, secrets)
}

// sentSecretsOf returns the values withSecrets put in ctx (none outside a deploy).
func sentSecretsOf(ctx context.Context) []string {
	secrets, _ := ctx.Value(sentSecrets{}).([]string)
	return secrets
}

// serverWarnings prints each Warning header of the API server on the plugin's stderr
// (which ast shows, sanitized) as "warning from the API server: TEXT", on one line (oneLine)
// and cut to pluginsdk.MaxServerText; a warning to a request of a deploy (withSecrets) in
// which pluginsdk.Scrub finds one of its values is replaced by a fixed text.
type serverWarnings struct{}

func (serverWarnings) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	if clean, ok := pluginsdk.Scrub(text, sentSecretsOf(ctx)...); ok {
		fmt.Fprintf(os.Stderr, "warning from the API server: %s\n", oneLine(clean))
		return
	}
	fmt.Fprintln(os.Stderr, "a warning from the API server is not shown because it may contain the value sent")
}

var (
	yamlAnchorRE = regexp.MustCompile(`unknown anchor '[^']*' referenced`)
	yamlQuotedRE = regexp.MustCompile("`[^`]*`")
)

// kubeconfigError is the text of a kubeconfig's parse error without the values the YAML
// parser quotes in two of its errors ("unknown anchor 'TOKEN' referenced" for a value
// starting with '*', "cannot decode !!str `TOKEN` as a !!int" for a tagged one): a
// kubeconfig holds tokens and keys.
func kubeconfigError(err error) string {
	s := yamlAnchorRE.ReplaceAllString(err.Error(), "a value starting with '*' (a YAML alias of no anchor; put the value in quotes)")
	return yamlQuotedRE.ReplaceAllString(s, "(a value, not shown)")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var objectNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// ObjectNameRule is the rule an agent name must follow on this target (a DNS-1123 label:
// the Deployment is named after the agent, and labels carry it).
const ObjectNameRule = "on kubernetes an agent name is 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit (no '_')"

func checkAgent(agent string) error {
	if len(agent) > 63 || !objectNameRE.MatchString(agent) {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "agent name %q cannot be a Kubernetes object name: %s", agent, ObjectNameRule)
	}
	return nil
}

// where says where the agent's objects are, for messages.
func (t *Target) where() string {
	return fmt.Sprintf("cluster %s (%s), namespace %s", t.context, t.server, t.namespace)
}

// apiError turns an API error into a pluginsdk error that names the cluster, namespace,
// object and what was refused. The API server's own text is kept (it names the verb,
// resource and identity) on one line (oneLine), unless the request carried secrets (the
// values of a Secret ast applies) and pluginsdk.Scrub finds one of them in it: an
// admission webhook may quote the object it refuses, and the server's text is not
// trusted (DESIGN.md, trust model). Then the HTTP status and pluginsdk.Withheld stand in
// for it.
func (t *Target) apiError(verb, object string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	msg := err.Error()
	code := 0
	if errors.As(err, &status) {
		msg, code = status.Status().Message, int(status.Status().Code)
	}
	text := func(s string) string {
		if clean, ok := pluginsdk.Scrub(s, secrets...); ok {
			return oneLine(clean)
		}
		if code != 0 {
			return fmt.Sprintf("HTTP %d: %s", code, pluginsdk.Withheld)
		}
		return pluginsdk.Withheld
	}
	raw := msg // for telling the cases apart; only msg is quoted
	msg = text(msg)
	where := t.where()
	switch {
	case apierrors.IsForbidden(err):
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "%s: may not %s %s: %s (the identity needs the Role of README \"Deploy to Kubernetes\" in namespace %s; "+
			"the API server answers the same when namespace %s does not exist)", where, verb, object, msg, t.namespace, t.namespace)
	case apierrors.IsUnauthorized(err):
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "%s: the API server refused the credentials of context %s (%s)", where, t.context, msg)
	case apierrors.IsNotFound(err) && strings.Contains(raw, "namespaces"):
		return pluginsdk.Errorf(pluginsdk.ErrNotFound, "%s: cannot %s %s: namespace %s does not exist (create it, or set the target's namespace)", where, verb, object, t.namespace)
	case apierrors.IsNotFound(err):
		return pluginsdk.Errorf(pluginsdk.ErrNotFound, "%s: %s not found", where, object)
	case apierrors.IsConflict(err):
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "%s: %s: %s (another field manager owns fields ast sets; "+
			"deploy with --adopt to take them over, as kubectl apply --server-side --force-conflicts does, "+
			"or make the other manager stop setting them)", where, object, text(conflicts(err, msg)))
	case apierrors.IsInvalid(err):
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "%s: %s is invalid: %s", where, object, msg)
	}
	var uerr *url.Error
	var nerr net.Error
	if errors.As(err, &uerr) || errors.As(err, &nerr) {
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: cannot reach the API server to %s %s: %s", where, verb, object, text(err.Error()))
	}
	return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: %s %s: %s", where, verb, object, msg)
}

// conflicts describes a server-side apply conflict: each field and the manager that owns
// it, from the status causes ("field .spec.replicas is managed by \"kubectl-edit\""), else the
// API server's message.
func conflicts(err error, msg string) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return msg
	}
	var out []string
	for _, c := range status.Status().Details.Causes {
		if c.Type != metav1.CauseTypeFieldManagerConflict {
			continue
		}
		// c.Message is `conflict with "MANAGER" using apps/v1` or `conflict with "MANAGER"`.
		mgr := strings.TrimPrefix(c.Message, "conflict with ")
		if i := strings.Index(mgr, " using "); i >= 0 {
			mgr = mgr[:i]
		}
		out = append(out, fmt.Sprintf("field %s is managed by %s", c.Field, mgr))
	}
	if len(out) == 0 {
		return msg
	}
	return "conflict: " + strings.Join(out, ", ")
}

// oneLine folds every run of white space (newlines, tabs, carriage returns, Unicode
// separators) in server text into one space, so that a message from the cluster stays on
// its line of ast's output and cannot forge one. Other control characters are left to the
// host, which passes everything a plugin says through its terminal sanitizer.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// managed reports whether an object's labels say ast manages it.
func managed(m metav1.Object) bool { return m.GetLabels()[LabelManagedBy] == ManagedByAST }

// Status implements pluginsdk.Target: one List of the namespace's Deployments labelled
// managed-by=ast.
func (t *Target) Status(ctx context.Context, agents []string) ([]pluginsdk.AgentStatus, error) {
	list, err := t.client.AppsV1().Deployments(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + ManagedByAST})
	if err != nil {
		return nil, t.apiError("list", "deployments", err)
	}
	var out []pluginsdk.AgentStatus
	for i := range list.Items {
		d := &list.Items[i]
		if len(agents) > 0 && !contains(agents, d.Name) {
			continue
		}
		out = append(out, t.status(d))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Agent < out[j].Agent })
	return out, nil
}
