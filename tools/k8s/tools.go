//go:build tools

// Package tools pins the Kubernetes control plane and etcd that scripts/with-servers runs for
// the Kubernetes target's tests (make dev-k8s builds them); nothing here is part of ast.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
