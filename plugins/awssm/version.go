package awssm

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/ast-cli/ast/pluginsdk"
)

// ast chooses the version ID of every secret version it writes (the ClientRequestToken of
// CreateSecret and PutSecretValue, 32 to 64 characters):
//
//	ast-v{N}-{k}-{32 hex digits}
//
// N counts the writes of the entry (pluginsdk.Entry.Version), k is the kind of that value
// (s or p), and the hex digits are random for a create and, for an update, derived from
// the version being replaced. So
//   - the kind travels with the value it describes: a value written as a secret can never
//     be listed as plain, whatever happens to the ast:kind tag, and Get reports the kind
//     without another call;
//   - two updates that start from the same version with different values compute the same
//     version ID, and AWS refuses the second (ResourceExistsException): a lost update is
//     reported as ErrFailedPrecondition instead of passing unnoticed;
//   - ListSecrets (SecretVersionsToStages) and BatchGetSecretValue (VersionId) give the
//     version and the kind without extra calls.
//
// Versions written outside ast (the console, rotation) have UUIDs: they read as secrets,
// whatever the ast:kind tag says (anyone allowed TagResource can set a tag; only a writer
// of the value chooses its version ID), and count as version 1 until ast writes again.
const versionIDPrefix = "ast-v"

// stageCurrent is the staging label AWS gives the version a read returns.
const stageCurrent = "AWSCURRENT"

// versionID returns the version ID of write n of an entry of kind k, tagged with tag
// (32 hex digits).
func versionID(n int64, k pluginsdk.Kind, tag string) string {
	return fmt.Sprintf("%s%d-%c-%s", versionIDPrefix, n, kindLetter(k), tag)
}

// parseVersionID reads a version ID written by versionID. ok is false for any other ID.
func parseVersionID(id string) (n int64, k pluginsdk.Kind, ok bool) {
	rest, found := strings.CutPrefix(id, versionIDPrefix)
	if !found {
		return 0, "", false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 || len(parts[2]) != 32 {
		return 0, "", false
	}
	n, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || n < 1 {
		return 0, "", false
	}
	switch parts[1] {
	case "s":
		return n, pluginsdk.KindSecret, true
	case "p":
		return n, pluginsdk.KindPlain, true
	}
	return 0, "", false
}

func kindLetter(k pluginsdk.Kind) byte {
	if k == pluginsdk.KindPlain {
		return 'p'
	}
	return 's'
}

// randomTag returns 32 random hex digits, the tag of a created entry's first version.
func randomTag() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// derivedTag returns 32 hex digits derived from the ID of the version an update replaces,
// so that concurrent updates of the same version collide (see versionIDPrefix).
func derivedTag(replaced string) string {
	sum := sha256.Sum256([]byte(replaced))
	return hex.EncodeToString(sum[:16])
}

// versions describes a secret's labelled versions (VersionIdsToStages in DescribeSecret,
// SecretVersionsToStages in ListSecrets).
type versions struct {
	// current is the ID of the AWSCURRENT version ("" when there is none).
	current string
	// number is the entry's version: N of an ast-written current version, else 1.
	number int64
	// kind is the kind recorded in the current version's ID; "" when ast did not write it.
	kind pluginsdk.Kind
	// next is the N the next write gets: one more than the highest N among the labelled
	// versions, so a write after a foreign one does not reuse an ID.
	next int64
}

// readVersions reads the staging labels of a secret's versions.
func readVersions(stages map[string][]string) versions {
	v := versions{number: 1}
	var highest int64
	for id, labels := range stages {
		n, k, ours := parseVersionID(id)
		if ours {
			highest = max(highest, n)
		}
		for _, l := range labels {
			if l == stageCurrent {
				v.current = id
				if ours {
					v.number, v.kind = n, k
				}
			}
		}
	}
	v.next = max(highest, v.number) + 1
	return v
}
