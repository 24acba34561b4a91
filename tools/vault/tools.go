//go:build tools

// Package tools pins the HashiCorp Vault server used by ast's integration tests.
// Vault v1.13.2 is the last MPL-2.0 line that builds against published api/sdk modules;
// see ../../README.md ("Testing against a real Vault").
package tools

import _ "github.com/hashicorp/vault"
