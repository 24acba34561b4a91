package kubernetes

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ast-cli/ast/pluginsdk"
)

// saltKey is the Secret key that holds the random salt of the template hash (see
// templateHash); it is not an environment variable name, so it never reaches the env.
const saltKey = ".ast-salt"

// Spec is the blueprint's kubernetes: block.
type Spec struct {
	Replicas         *int32                       `json:"replicas"`
	ServiceAccount   string                       `json:"service_account"`
	Resources        map[string]map[string]string `json:"resources"` // requests/limits: cpu, memory, ...
	Labels           map[string]string            `json:"labels"`
	ImagePullSecrets []string                     `json:"image_pull_secrets"`
}

// source is one variable's entry in the sources annotation: where it came from, never a
// value.
type source struct {
	Key       string `json:"key"`
	Source    string `json:"source"` // "reference" or "literal"
	Entry     string `json:"entry,omitempty"`
	Field     string `json:"field,omitempty"`
	EntryKind string `json:"entry_kind,omitempty"`
	Version   int64  `json:"version,omitempty"`
	Origin    string `json:"origin"`
	Via       string `json:"via"` // "secretKeyRef" or "value"
}

func secretName(agent string) string { return "ast-" + agent }

func (v source) text() string {
	if v.Source != "reference" {
		return fmt.Sprintf("<literal from %s>", v.Origin)
	}
	s := "<entry " + v.Entry
	if v.Field != "" {
		s += " field " + v.Field
	}
	if v.EntryKind != "" || v.Version > 0 {
		s += fmt.Sprintf(" (%s, version %d)", v.EntryKind, v.Version)
	}
	return s + ">"
}

// plan is what one deploy writes.
type plan struct {
	secret     *corev1ac.SecretApplyConfiguration
	deployment *appsv1ac.DeploymentApplyConfiguration
}

// build returns the Secret and Deployment for w. salt keys the template hash; dryRun
// puts each sensitive variable's source where its value would be.
func (t *Target) build(w pluginsdk.Workload, salt []byte, dryRun bool) (*plan, error) {
	var spec Spec
	if len(w.Spec) > 0 {
		if err := json.Unmarshal(w.Spec, &spec); err != nil {
			return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "the blueprint's kubernetes block: %v", err)
		}
	}
	labels := map[string]string{LabelName: w.Agent, LabelManagedBy: ManagedByAST}
	podLabels := map[string]string{}
	for k, v := range spec.Labels {
		podLabels[k] = v
	}
	for k, v := range labels {
		podLabels[k] = v
	}
	var sources []source
	var env []*corev1ac.EnvVarApplyConfiguration
	data := map[string][]byte{}
	shown := map[string]string{}
	for _, v := range w.Env {
		s := source{Key: v.Key, Source: v.SourceKind, Entry: v.Entry, Field: v.Field, EntryKind: string(v.EntryKind), Version: v.Version, Origin: v.Origin, Via: "value"}
		if v.Sensitive {
			s.Via = "secretKeyRef"
			env = append(env, corev1ac.EnvVar().WithName(v.Key).WithValueFrom(corev1ac.EnvVarSource().
				WithSecretKeyRef(corev1ac.SecretKeySelector().WithName(secretName(w.Agent)).WithKey(v.Key))))
			data[v.Key] = []byte(v.Value.Reveal())
			shown[v.Key] = s.text()
		} else {
			env = append(env, corev1ac.EnvVar().WithName(v.Key).WithValue(v.Value.Reveal()))
		}
		sources = append(sources, s)
	}
	srcJSON, _ := json.Marshal(sources)

	secret := corev1ac.Secret(secretName(w.Agent), t.namespace).WithType(corev1.SecretTypeOpaque).WithLabels(labels)
	if dryRun {
		shown[saltKey] = "<random, keys the template hash>"
		secret = secret.WithStringData(shown)
	} else {
		data[saltKey] = salt
		secret = secret.WithData(data)
	}

	container := corev1ac.Container().WithName(w.Agent).WithImage(w.Image).WithEnv(env...)
	if len(w.Command) > 0 {
		container = container.WithCommand(w.Command...)
	}
	if len(spec.Resources) > 0 {
		rr := corev1ac.ResourceRequirements()
		for kind, list := range spec.Resources {
			rl := corev1.ResourceList{}
			for name, q := range list {
				qty, err := resource.ParseQuantity(q)
				if err != nil {
					return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "the blueprint's kubernetes.resources.%s.%s: %v", kind, name, err)
				}
				rl[corev1.ResourceName(name)] = qty
			}
			switch kind {
			case "requests":
				rr = rr.WithRequests(rl)
			case "limits":
				rr = rr.WithLimits(rl)
			default:
				return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "the blueprint's kubernetes.resources has %q: it takes requests and limits", kind)
			}
		}
		container = container.WithResources(rr)
	}
	pod := corev1ac.PodSpec().WithContainers(container)
	if spec.ServiceAccount != "" {
		pod = pod.WithServiceAccountName(spec.ServiceAccount)
	}
	for _, s := range spec.ImagePullSecrets {
		pod = pod.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(s))
	}
	replicas := int32(1)
	if spec.Replicas != nil {
		replicas = *spec.Replicas
	}
	hash := templateHash(w, spec, salt)
	if dryRun {
		hash = "<hash of the sources, values and blueprint>"
	}
	dep := appsv1ac.Deployment(w.Agent, t.namespace).WithLabels(labels).
		WithAnnotations(map[string]string{AnnotationSources: string(srcJSON), AnnotationBlueprint: w.BlueprintDigest}).
		WithSpec(appsv1ac.DeploymentSpec().WithReplicas(replicas).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{LabelName: w.Agent})).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(podLabels).
				WithAnnotations(map[string]string{AnnotationTemplate: hash}).WithSpec(pod)))
	return &plan{secret: secret, deployment: dep}, nil
}

// templateHash is the pod template's annotation: an HMAC-SHA256, keyed by the salt kept
// in the agent's Secret, of the image, command, spec, blueprint digest, and every
// variable's key, source and value. It changes when any of them does (an entry's new
// version, a new literal, an edited blueprint), so pods roll then and only then; keyed by
// a random salt, it cannot be used to test guesses of a value.
func templateHash(w pluginsdk.Workload, spec Spec, salt []byte) string {
	m := hmac.New(sha256.New, salt)
	enc := json.NewEncoder(m)
	_ = enc.Encode([]any{w.Image, w.Command, spec, w.BlueprintDigest})
	for _, v := range w.Env {
		_ = enc.Encode([]any{v.Key, v.Sensitive, v.SourceKind, v.Entry, v.EntryKind, v.Version, v.Value.Reveal()})
	}
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// Deploy implements pluginsdk.Target.
func (t *Target) Deploy(ctx context.Context, w pluginsdk.Workload, opts pluginsdk.DeployOptions) (pluginsdk.DeployResult, error) {
	if err := checkAgent(w.Agent); err != nil {
		return pluginsdk.DeployResult{}, err
	}
	sname, dname := secretName(w.Agent), w.Agent
	// Every request of the deploy, not only the Secret's apply: a server's error or warning
	// to any of them may quote a value it holds (apiError, serverWarnings).
	var sensitive []string
	for _, v := range w.Env {
		if v.Sensitive {
			sensitive = append(sensitive, v.Value.Reveal())
		}
	}
	ctx = withSecrets(ctx, sensitive)
	objects := []string{fmt.Sprintf("Secret %s/%s", t.namespace, sname), fmt.Sprintf("Deployment %s/%s", t.namespace, dname)}
	if opts.DryRun {
		p, err := t.build(w, nil, true)
		if err != nil {
			return pluginsdk.DeployResult{}, err
		}
		var b strings.Builder
		for _, obj := range []any{p.secret, p.deployment} {
			y, err := yaml.Marshal(obj)
			if err != nil {
				return pluginsdk.DeployResult{}, pluginsdk.Errorf(pluginsdk.ErrInternal, "rendering the manifests: %v", err)
			}
			b.WriteString("---\n")
			b.Write(y)
		}
		return pluginsdk.DeployResult{Objects: objects, Manifests: b.String()}, nil
	}

	oldSecret, err := t.client.CoreV1().Secrets(t.namespace).Get(ctx, sname, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return pluginsdk.DeployResult{}, nothingWritten(t.apiError("get", "Secret "+sname, err, sensitive...))
	}
	if err != nil {
		oldSecret = nil
	}
	oldDep, err := t.client.AppsV1().Deployments(t.namespace).Get(ctx, dname, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return pluginsdk.DeployResult{}, nothingWritten(t.apiError("get", "Deployment "+dname, err, sensitive...))
	}
	if err != nil {
		oldDep = nil
	}
	if !opts.Adopt {
		for _, o := range []struct {
			obj  metav1.Object
			what string
		}{{oldSecret, "Secret " + sname}, {oldDep, "Deployment " + dname}} {
			if o.obj != nil && !isNil(o.obj) && !managed(o.obj) {
				return pluginsdk.DeployResult{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
					"%s: %s exists and is not managed by ast (no label %s=%s); refusing to overwrite it (deploy with --adopt to take it over)",
					t.where(), o.what, LabelManagedBy, ManagedByAST)
			}
		}
	}
	salt := []byte(nil)
	if oldSecret != nil {
		salt = oldSecret.Data[saltKey]
	}
	if len(salt) == 0 {
		salt = make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return pluginsdk.DeployResult{}, pluginsdk.Errorf(pluginsdk.ErrInternal, "generating a salt: %v", err)
		}
	}
	p, err := t.build(w, salt, false)
	if err != nil {
		return pluginsdk.DeployResult{}, err
	}
	apply := metav1.ApplyOptions{FieldManager: FieldManager, Force: opts.Adopt}
	res := pluginsdk.DeployResult{}
	// The Secret first: the Deployment's pods refer to it.
	s, err := t.client.CoreV1().Secrets(t.namespace).Apply(ctx, p.secret, apply)
	if err != nil {
		return res, nothingWritten(t.apiError("apply", "Secret "+sname, err, secretValues(p.secret.Data)...))
	}
	secretChanged := oldSecret == nil || s.ResourceVersion != oldSecret.ResourceVersion
	if secretChanged {
		res.Objects = append(res.Objects, objects[0])
	}
	d, err := t.client.AppsV1().Deployments(t.namespace).Apply(ctx, p.deployment, apply)
	if err != nil {
		return res, fmt.Errorf("%w; %s", t.apiError("apply", "Deployment "+dname, err, sensitive...), t.halfWritten(w.Agent, oldSecret == nil, secretChanged, oldDep != nil))
	}
	depChanged := oldDep == nil || d.ResourceVersion != oldDep.ResourceVersion
	if depChanged {
		res.Objects = append(res.Objects, objects[1])
	}
	res.Changed = secretChanged || depChanged
	res.Status = t.status(d)
	if !opts.Wait {
		return res, nil
	}
	d, err = t.waitRollout(ctx, d, opts.Timeout)
	if d != nil {
		res.Status = t.status(d)
	}
	return res, err
}

// secretValues returns a Secret's values, which its apply's error must not quote.
func secretValues(data map[string][]byte) []string {
	out := make([]string, 0, len(data))
	for _, v := range data {
		out = append(out, string(v))
	}
	return out
}

// nothingWritten adds to the error of a deploy that failed before its first write that
// nothing was written.
func nothingWritten(err error) error { return fmt.Errorf("%w; nothing was written", err) }

// halfWritten says what a deploy whose Deployment was refused left behind: nothing, or
// the Secret it created or updated (and what that means for the pods).
func (t *Target) halfWritten(agent string, created, changed, depExists bool) string {
	sname := secretName(agent)
	switch {
	case !changed:
		return "nothing was written (Secret " + sname + " was already as asked)"
	case created && !depExists:
		return fmt.Sprintf("Secret %s was created and nothing uses it yet (ast blueprint stop %s --target %s removes it)", sname, agent, t.name)
	}
	return fmt.Sprintf("Secret %s was updated with the new values but the Deployment was not: running pods keep their values, and pods that start from now on read the new ones", sname)
}

// isNil reports whether a metav1.Object interface holds a nil pointer.
func isNil(o metav1.Object) bool {
	switch v := o.(type) {
	case *corev1.Secret:
		return v == nil
	case *appsv1.Deployment:
		return v == nil
	}
	return false
}

// status summarises a Deployment.
func (t *Target) status(d *appsv1.Deployment) pluginsdk.AgentStatus {
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	st := pluginsdk.AgentStatus{Agent: d.Name, Where: "namespace " + d.Namespace, Desired: int(desired),
		Ready: int(d.Status.ReadyReplicas), Updated: int(d.Status.UpdatedReplicas), Available: int(d.Status.AvailableReplicas)}
	if len(d.Spec.Template.Spec.Containers) > 0 {
		st.Image = d.Spec.Template.Spec.Containers[0].Image
	}
	switch {
	case desired == 0:
		st.State = "stopped"
	case rolledOut(d):
		st.State = "available"
	default:
		st.State = "progressing"
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse {
				st.State, st.Message = "failed", cutText(oneLine(c.Reason+": "+c.Message), maxReasonBytes)
			}
		}
	}
	return st
}

// rolledOut reports whether d's latest generation is observed and every replica is
// updated and available (what kubectl rollout status waits for).
func rolledOut(d *appsv1.Deployment) bool {
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == desired &&
		s.Replicas == desired && s.AvailableReplicas == desired
}

// waitRollout polls d until it is rolled out, or timeout passes: then the error names
// the counts and each unready pod's reason (its unmet conditions, its containers' waiting
// reasons), as the scheduler and kubelet wrote them.
func (t *Target) waitRollout(ctx context.Context, d *appsv1.Deployment, timeout time.Duration) (*appsv1.Deployment, error) {
	deadline := time.Now().Add(timeout)
	var last pluginsdk.AgentStatus
	var reasons []string
	for polls := 0; ; polls++ {
		if rolledOut(d) {
			return d, nil
		}
		// Progress: the counts on every change, and the pods' reasons every few polls
		// once the rollout takes a while (one List of pods per reasonEvery polls).
		if polls > 0 && polls%reasonEvery == 0 {
			reasons = t.podReasons(ctx, d.Name)
		}
		st := t.status(d)
		st.Message = strings.Join(reasons, "; ")
		if st != last {
			pluginsdk.ReportProgress(ctx, st)
			last = st
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-time.After(t.poll):
		}
		nd, err := t.client.AppsV1().Deployments(t.namespace).Get(ctx, d.Name, metav1.GetOptions{})
		if err != nil {
			return d, t.apiError("get", "Deployment "+d.Name, err, sentSecretsOf(ctx)...)
		}
		d = nd
	}
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	reasons = t.podReasons(ctx, d.Name)
	msg := fmt.Sprintf("%s: the rollout of deployment %s did not complete within %s: %d of %d replicas updated, %d available",
		t.where(), d.Name, timeout, d.Status.UpdatedReplicas, desired, d.Status.AvailableReplicas)
	if len(reasons) > 0 {
		msg += "; " + strings.Join(reasons, "; ")
	}
	return d, pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s (the objects stay; fix and deploy again, or ast blueprint stop %s)", msg, d.Name)
}

// reasonEvery is how many polls of a rollout pass between two reads of its pods' reasons.
const reasonEvery = 4

// maxReasonBytes bounds one pod reason (the cluster's text: a condition message may be
// as long as an object): a rollout's progress line and error stay readable.
const maxReasonBytes = 300

// cutText cuts s to at most n bytes at a rune boundary, marking the cut with "...".
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// podReasons lists why the agent's pods are not ready, one line per distinct reason.
func (t *Target) podReasons(ctx context.Context, agent string) []string {
	pods, err := t.client.CoreV1().Pods(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelName + "=" + agent})
	if err != nil {
		return []string{fmt.Sprintf("the pods' reasons cannot be read (%v)", t.apiError("list", "pods", err, sentSecretsOf(ctx)...))}
	}
	seen := map[string]bool{}
	var out []string
	add := func(pod, s string) {
		s = cutText(oneLine(s), maxReasonBytes)
		if !seen[s] {
			seen[s] = true
			out = append(out, fmt.Sprintf("pod %s: %s", pod, s))
		}
	}
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Status != corev1.ConditionTrue && c.Reason != "" {
				add(p.Name, strings.TrimSpace(fmt.Sprintf("%s %s: %s", c.Type, c.Reason, c.Message)))
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				add(p.Name, strings.TrimSpace(fmt.Sprintf("container %s %s: %s", cs.Name, w.Reason, w.Message)))
			}
			if tm := cs.State.Terminated; tm != nil {
				add(p.Name, fmt.Sprintf("container %s terminated: %s (exit %d)", cs.Name, tm.Reason, tm.ExitCode))
			}
		}
	}
	sort.Strings(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("and %d more", len(out)-5))
	}
	return out
}
