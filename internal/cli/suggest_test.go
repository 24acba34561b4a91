package cli

import (
	"slices"
	"testing"
)

// TestNearestNames: a mistyped backend or target type gets the "did you mean" of a
// mistyped command, and the other words people use for it.
func TestNearestNames(t *testing.T) {
	backends := []string{"local", "hashicorp", "awssm", "local"} // a plugin found twice counts once
	types := []string{"kubernetes"}
	cases := []struct {
		typed string
		names []string
		want  []string
	}{
		{"lokal", backends, []string{"local"}},
		{"locl", backends, []string{"local"}},
		{"hashicrop", backends, []string{"hashicorp"}},
		{"vault", backends, []string{"hashicorp"}},
		{"aws", backends, []string{"awssm"}},
		{"loc", backends, []string{"local"}},
		{"zzzzzz", backends, nil},
		{"local", backends, nil},
		{"kubernets", types, []string{"kubernetes"}},
		{"k8s", types, []string{"kubernetes"}},
		{"k8s", nil, nil},
		{"helm", types, nil},
	}
	for _, tc := range cases {
		if got := nearestNames(tc.typed, tc.names); !slices.Equal(got, tc.want) {
			t.Errorf("nearestNames(%q, %v) = %v, want %v", tc.typed, tc.names, got, tc.want)
		}
	}
	if got, want := didYouMean("lokal", backends), " (did you mean local?)"; got != want {
		t.Errorf("didYouMean = %q, want %q", got, want)
	}
	if got := didYouMean("zzzzzz", backends); got != "" {
		t.Errorf("didYouMean = %q, want nothing", got)
	}
}
