package host

// attackerEnv tells the test binary, re-executed as the attacker of the trust tests
// (trust_linux_test.go), what to do (see attackerMain).
const attackerEnv = "AST_HOST_TEST_ATTACK"
