// Package faults is ast's reliability and security suite; it has no code of its own, only
// tests. TestMain builds the real binaries (ast and the built-in plugins) and every test
// drives them as a user would, each in its own temporary HOME and XDG directories:
//
//   - crash consistency: local writes killed with SIGKILL at random moments;
//   - concurrent writers on the local, Vault and AWS backends;
//   - a damaged local store or key file;
//   - a backend that is down, sealed, or refuses the credentials;
//   - plugins that are missing or not executable;
//   - a canary sweep: secret values never in output, files, argv or a plugin's environment;
//   - file modes, core dumps; hostile names, values, --var arguments and config files.
//
// The Vault and AWS parts use the servers of scripts/with-servers (AST_TEST_VAULT_ADDR,
// AST_TEST_VAULT_TOKEN, AST_TEST_AWS_ENDPOINT, VAULT_BIN) and are skipped without them.
// -short shrinks the iteration counts. RELIABILITY.md reports the figures of a full run.
package faults
