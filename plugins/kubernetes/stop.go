package kubernetes

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ast-cli/ast/pluginsdk"
)

// Stop implements pluginsdk.Target: it deletes the Deployment and the Secret (only if ast
// manages them) and waits until both are gone.
func (t *Target) Stop(ctx context.Context, agent string, timeout time.Duration) (bool, error) {
	if err := checkAgent(agent); err != nil {
		return false, err
	}
	found := false
	dep, err := t.client.AppsV1().Deployments(t.namespace).Get(ctx, agent, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return false, t.apiError("get", "Deployment "+agent, err)
	case !managed(dep):
		return false, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "%s: Deployment %s is not managed by ast; not deleting it", t.where(), agent)
	default:
		found = true
		if err := t.client.AppsV1().Deployments(t.namespace).Delete(ctx, agent, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return true, t.apiError("delete", "Deployment "+agent, err)
		}
	}
	sname := secretName(agent)
	sec, err := t.client.CoreV1().Secrets(t.namespace).Get(ctx, sname, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return found, t.apiError("get", "Secret "+sname, err)
	case !managed(sec):
		return found, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "%s: Secret %s is not managed by ast; not deleting it", t.where(), sname)
	default:
		found = true
		if err := t.client.CoreV1().Secrets(t.namespace).Delete(ctx, sname, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return true, t.apiError("delete", "Secret "+sname, err)
		}
	}
	deadline := time.Now().Add(timeout)
	for found {
		_, derr := t.client.AppsV1().Deployments(t.namespace).Get(ctx, agent, metav1.GetOptions{})
		_, serr := t.client.CoreV1().Secrets(t.namespace).Get(ctx, sname, metav1.GetOptions{})
		if apierrors.IsNotFound(derr) && apierrors.IsNotFound(serr) {
			break
		}
		if time.Now().After(deadline) {
			return true, pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: Deployment %s or Secret %s is still there %s after its deletion", t.where(), agent, sname, timeout)
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(t.poll):
		}
	}
	return found, nil
}

// Logs implements pluginsdk.Target: the logs of every pod of the agent through the API
// (pods/log), each line prefixed with its pod's name when there are several.
func (t *Target) Logs(ctx context.Context, agent string, opts pluginsdk.LogOptions, w io.Writer) error {
	if err := checkAgent(agent); err != nil {
		return err
	}
	pods, err := t.client.CoreV1().Pods(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelName + "=" + agent + "," + LabelManagedBy + "=" + ManagedByAST})
	if err != nil {
		return t.apiError("list", "pods", err)
	}
	if len(pods.Items) == 0 {
		return pluginsdk.Errorf(pluginsdk.ErrNotFound, "%s: agent %s has no pods", t.where(), agent)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(pods.Items))
	for i, p := range pods.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo := &corev1.PodLogOptions{Follow: opts.Follow}
			if opts.TailLines > 0 {
				lo.TailLines = &opts.TailLines
			}
			rc, err := t.client.CoreV1().Pods(t.namespace).GetLogs(p.Name, lo).Stream(ctx)
			if err != nil {
				errs[i] = fmt.Errorf("pod %s: %w", p.Name, t.apiError("get", "pods/log of "+p.Name, err))
				return
			}
			defer rc.Close()
			sc := bufio.NewScanner(rc)
			sc.Buffer(make([]byte, 64*1024), 1<<20)
			for sc.Scan() {
				mu.Lock()
				if len(pods.Items) > 1 {
					fmt.Fprintf(w, "[%s] ", p.Name)
				}
				_, werr := fmt.Fprintln(w, sc.Text())
				mu.Unlock()
				if werr != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
