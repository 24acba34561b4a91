//go:build tools

// Package tools pins kwok, the node simulator that makes pods "run" on the test cluster of
// scripts/with-servers (make dev-k8s builds it); nothing here is part of ast.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
