package faults

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// backendDownBound is how long a command may take to report a backend that is down.
const backendDownBound = 30 * time.Second

// TestBackendDown points accounts at backends that are down, sealed, refuse the token,
// hang, or do not exist, and runs the commands that reach them. Each must fail with exit
// 1 and an error that names the backend and its address, within 30 s, and leave every
// local file as it was.
func TestBackendDown(t *testing.T) {
	type downCase struct {
		name string
		// setup configures the sandbox and returns the strings the error must contain
		// (each item: any of its alternatives, case-insensitive).
		setup func(t *testing.T, s *sandbox) [][]string
		// hang: the backend accepts and never answers; only the first command or two are
		// run (each waits for a timeout), and not with -short.
		hang bool
		// bound replaces backendDownBound.
		bound time.Duration
	}
	vaultNames := []string{"vault", "hashicorp"}
	awsNames := []string{"secrets manager", "awssm", "aws"}
	cases := []downCase{
		{name: "vault stopped (closed port)", setup: func(t *testing.T, s *sandbox) [][]string {
			vaultServer(t)
			addr := "http://" + closedPort(t)
			s.env["VAULT_TOKEN"] = "hvs.whatever"
			s.addAccounts(account{name: "team", backend: "hashicorp", settings: map[string]string{"address": addr}})
			return [][]string{vaultNames, {hostOf(addr)}}
		}},
		{name: "vault sealed", setup: func(t *testing.T, s *sandbox) [][]string {
			addr, token := ownVault(t)
			vaultCLI(t, addr, token, "operator", "seal")
			s.env["VAULT_TOKEN"] = token
			s.addAccounts(account{name: "team", backend: "hashicorp", settings: map[string]string{"address": addr}})
			return [][]string{vaultNames, {hostOf(addr)}, {"sealed"}}
		}},
		{name: "vault bad token", setup: func(t *testing.T, s *sandbox) [][]string {
			addr, _ := vaultServer(t)
			s.env["VAULT_TOKEN"] = "hvs.not-a-token-" + randHex(8)
			s.addAccounts(account{name: "team", backend: "hashicorp", settings: map[string]string{"address": addr}})
			return [][]string{vaultNames, {hostOf(addr)}, {"token", "permission denied"}}
		}},
		{name: "vault hangs", hang: true, setup: func(t *testing.T, s *sandbox) [][]string {
			vaultServer(t)
			addr := "http://" + blackhole(t)
			s.env["VAULT_TOKEN"] = "hvs.whatever"
			s.addAccounts(account{name: "team", backend: "hashicorp", settings: map[string]string{"address": addr}})
			return [][]string{vaultNames, {hostOf(addr)}}
		}},
		{name: "moto stopped (closed port)", setup: func(t *testing.T, s *sandbox) [][]string {
			awsEndpoint(t)
			ep := "http://" + closedPort(t)
			s.setAWSCredentials()
			s.addAccounts(account{name: "team", backend: "awssm", settings: map[string]string{"endpoint": ep, "region": "us-east-1"}})
			return [][]string{awsNames, {hostOf(ep)}}
		}},
		{name: "aws unknown region", setup: func(t *testing.T, s *sandbox) [][]string {
			awsEndpoint(t)
			s.setAWSCredentials()
			s.addAccounts(account{name: "team", backend: "awssm", settings: map[string]string{"region": "xx-nowhere-9"}})
			return [][]string{awsNames, {"secretsmanager.xx-nowhere-9.amazonaws.com"}}
		}},
		// The awssm plugin waits 10 s for a response header and does not retry a timeout,
		// so its own error, which names the endpoint, comes well before the host's 60 s.
		{name: "moto hangs", hang: true, bound: 30 * time.Second, setup: func(t *testing.T, s *sandbox) [][]string {
			awsEndpoint(t)
			ep := "http://" + blackhole(t)
			s.setAWSCredentials()
			s.addAccounts(account{name: "team", backend: "awssm", settings: map[string]string{"endpoint": ep, "region": "us-east-1"}})
			return [][]string{awsNames, {hostOf(ep)}}
		}},
	}
	// Parallel with TestConcurrentWriters: these cases mostly wait (on timeouts), and
	// take turns so as to take one slot of -parallel.
	t.Parallel()
	var mu sync.Mutex
	var summary []string
	t.Cleanup(func() {
		for _, line := range summary {
			t.Log(line)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hang && testing.Short() {
				t.Skip("-short: no hanging backends")
			}
			bound := backendDownBound
			if tc.bound != 0 {
				bound = tc.bound
			}
			s := newSandbox(t)
			want := tc.setup(t, s)
			env := s.writeInput("in.env", []byte("A=1\nB=2\n"))
			before := snapshot(t, s.root, s.tmp)
			commands := [][]string{
				{"secrets", "list"},
				{"secrets", "create", "NEW", "--value", "v"},
				{"secrets", "import", "--file", env},
				{"secrets", "update", "NEW", "--value", "w"},
				{"secrets", "delete", "NEW"},
				{"run", "--var", "A=@NEW", "--", "true"},
			}
			if tc.hang {
				commands = commands[:2]
				if tc.bound > backendDownBound {
					commands = commands[:1]
				}
			}
			var slowest time.Duration
			var sample string
			for i, args := range commands {
				r := s.runWith(runOpts{timeout: 2 * bound}, args...)
				slowest = max(slowest, r.duration)
				if i == 0 {
					sample = strings.TrimSpace(r.stderr)
				}
				if r.code != 1 {
					t.Errorf("want exit 1:\n%s", r)
				}
				low := strings.ToLower(r.stderr)
				for _, alts := range want {
					found := false
					for _, a := range alts {
						found = found || strings.Contains(low, strings.ToLower(a))
					}
					if !found {
						t.Errorf("the error should contain %s:\n%s", strings.Join(quoteEach(alts), " or "), r)
					}
				}
				if r.duration > bound {
					t.Errorf("took %s, more than %s:\n%s", r.duration.Round(time.Millisecond), bound, r)
				}
				if diff := diffSnapshots(before, snapshot(t, s.root, s.tmp)); diff != "" {
					t.Errorf("%s changed local files: %s", strings.Join(args, " "), diff)
				}
			}
			s.assertNoStrays(tc.name)
			mu.Lock()
			summary = append(summary, fmt.Sprintf("backend-down summary: case=%q commands=%d slowest=%s bound=%s\n    secrets list said: %s",
				tc.name, len(commands), slowest.Round(time.Millisecond), bound, sample))
			mu.Unlock()
		})
	}
}

func quoteEach(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
