package sdktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/ast-cli/ast/pluginsdk"
)

var checks = []Check{
	{"info", checkInfo},
	{"unconfigured", checkUnconfigured},
	{"unknown_setting", checkUnknownSetting},
	{"empty_account", checkEmptyAccount},
	{"create", checkCreate},
	{"update", checkUpdate},
	{"upsert", checkUpsert},
	{"delete_and_recreate", checkDeleteAndRecreate},
	{"versions", checkVersions},
	{"list_sorted", checkListSorted},
	{"batch_results", checkBatchResults},
	{"values", checkValues},
	{"names", checkNames},
	{"invalid_names", checkInvalidNames},
	{"invalid_values", checkInvalidValues},
	{"accounts_isolated", checkAccountsIsolated},
	{"batch_of_50", checkBatchOf50},
	{"concurrent_writers", checkConcurrentWriters},
	{"create_contention", checkCreateContention},
	{"first_configure", checkFirstConfigure},
	{"external", checkExternal},
}

const (
	secret = pluginsdk.KindSecret
	plain  = pluginsdk.KindPlain
)

// checkInfo: Info works before and after Configure and reports the SDK's protocol and a
// name.
func checkInfo(h *harness) {
	b := h.open()
	before, err := b.Info(h.ctx)
	if err != nil {
		h.t.Fatalf("Info before Configure (it may be called before Configure): %s", h.errText(err))
	}
	checkInfoFields(h, "Info before Configure", before)
	c := h.connectWith(b, h.account(""))
	checkInfoFields(h, "Info after Configure", c.info)
	if c.info.Name != before.Name {
		h.t.Errorf("Info: the name changed from %q to %q with Configure", before.Name, c.info.Name)
	}
}

func checkInfoFields(h *harness, op string, info pluginsdk.Info) {
	h.t.Helper()
	if info.Protocol != pluginsdk.ProtocolVersion {
		h.t.Errorf("%s: Protocol is %d, want pluginsdk.ProtocolVersion (%d)", op, info.Protocol, pluginsdk.ProtocolVersion)
	}
	if info.Name == "" {
		h.t.Errorf("%s: Name is empty: it is the backend's name, as accounts refer to it", op)
	}
	if info.MaxBatch < 0 {
		h.t.Errorf("%s: MaxBatch is %d: it is 0 (no limit) or the largest batch taken", op, info.MaxBatch)
	}
	seen := map[string]bool{}
	for _, c := range info.Capabilities {
		if c == "" || seen[c] {
			h.t.Errorf("%s: capabilities %q have an empty or repeated entry", op, info.Capabilities)
		}
		seen[c] = true
	}
}

// checkUnconfigured: an instance that was never configured refuses to serve with
// ErrFailedPrecondition and writes nothing anywhere.
func checkUnconfigured(h *harness) {
	b := h.open()
	_, err := b.List(h.ctx, pluginsdk.ListOptions{})
	if !errors.Is(err, pluginsdk.ErrFailedPrecondition) {
		h.t.Errorf("List before Configure: got %s, want failed precondition (not configured)", h.errText(err))
	}
	v := token("unconfigured")
	h.remember(v)
	res, err := b.Put(h.ctx, []pluginsdk.Entry{entry("UNCONFIGURED", secret, v)}, pluginsdk.Create)
	h.noLeak("Put before Configure", err)
	if err == nil && (len(res) != 1 || !errors.Is(res[0].Err, pluginsdk.ErrFailedPrecondition)) {
		h.t.Errorf("Put before Configure: got %d results (first error: %s), want failed precondition for the call or the name",
			len(res), firstErr(h, res))
	} else if err != nil && !errors.Is(err, pluginsdk.ErrFailedPrecondition) {
		h.t.Errorf("Put before Configure: got %s, want failed precondition (not configured)", h.errText(err))
	}
}

func firstErr(h *harness, res []pluginsdk.Result) string {
	if len(res) == 0 {
		return "none"
	}
	return h.errText(res[0].Err)
}

// checkUnknownSetting: Configure refuses a setting the backend does not know with
// ErrInvalidArgument, so that a typo in the configuration is not silently ignored.
func checkUnknownSetting(h *harness) {
	b := h.open()
	err := b.Configure(h.ctx, h.account(""), h.settings(map[string]string{"sdktest_no_such_setting": "1"}))
	if !errors.Is(err, pluginsdk.ErrInvalidArgument) {
		h.t.Errorf("Configure with the unknown setting %q: got %s, want invalid argument", "sdktest_no_such_setting", h.errText(err))
	}
}

// checkEmptyAccount: a new account is empty; reads and writes of missing names answer
// ErrNotFound per name; empty batches answer no results.
func checkEmptyAccount(h *harness) {
	c := h.connect(h.account(""))
	c.expect(state{})
	c.wantCode(`Get of missing "MISSING"`, c.get([]string{"MISSING"})[0].Err, pluginsdk.ErrNotFound)
	c.wantCode(`Delete of missing "MISSING"`, c.del([]string{"MISSING"})[0].Err, pluginsdk.ErrNotFound)
	res := c.put([]pluginsdk.Entry{entry("MISSING", secret, token("update-missing"))}, pluginsdk.Update)
	c.wantCode(`Put update of missing "MISSING"`, res[0].Err, pluginsdk.ErrNotFound)
	c.expect(state{})

	if res, err := c.b.Get(h.ctx, []string{}); err != nil || len(res) != 0 {
		h.t.Errorf("Get of no names: got %d results and %s, want none and no error", len(res), h.errText(err))
	}
	if res, err := c.b.Put(h.ctx, []pluginsdk.Entry{}, pluginsdk.Create); err != nil || len(res) != 0 {
		h.t.Errorf("Put of no entries: got %d results and %s, want none and no error", len(res), h.errText(err))
	}
	if res, err := c.b.Delete(h.ctx, []string{}); err != nil || len(res) != 0 {
		h.t.Errorf("Delete of no names: got %d results and %s, want none and no error", len(res), h.errText(err))
	}
}

// checkCreate: Create writes new entries of both kinds; a second Create of the same name
// fails with ErrAlreadyExists and changes nothing, not even the kind.
func checkCreate(h *harness) {
	c := h.connect(h.account(""))
	st := state{"SECRET_ONE": {secret, token("create-secret")}, "plain_one": {plain, token("create-plain")}}
	c.mustPut([]pluginsdk.Entry{entry("SECRET_ONE", secret, st["SECRET_ONE"].value), entry("plain_one", plain, st["plain_one"].value)},
		pluginsdk.Create)
	c.expect(st)

	res := c.put([]pluginsdk.Entry{entry("SECRET_ONE", plain, token("create-again")), entry("plain_one", secret, token("create-again"))},
		pluginsdk.Create)
	c.wantCode(`Put create of existing "SECRET_ONE"`, res[0].Err, pluginsdk.ErrAlreadyExists)
	c.wantCode(`Put create of existing "plain_one"`, res[1].Err, pluginsdk.ErrAlreadyExists)
	c.expect(st)
}

// checkUpdate: Update replaces the value and takes the kind given (the core passes the
// existing kind when a user updates a value); Update of a missing name is ErrNotFound and
// creates nothing.
func checkUpdate(h *harness) {
	c := h.connect(h.account(""))
	c.mustPut([]pluginsdk.Entry{entry("A", secret, token("update-a1")), entry("B", plain, token("update-b1"))}, pluginsdk.Create)

	st := state{"A": {plain, token("update-a2")}, "B": {secret, token("update-b2")}}
	c.mustPut([]pluginsdk.Entry{entry("A", plain, st["A"].value), entry("B", secret, st["B"].value)}, pluginsdk.Update)
	c.expect(st)

	st["A"] = want{plain, token("update-a3")}
	c.mustPut([]pluginsdk.Entry{entry("A", plain, st["A"].value)}, pluginsdk.Update)
	c.expect(st)

	res := c.put([]pluginsdk.Entry{entry("MISSING", plain, token("update-missing"))}, pluginsdk.Update)
	c.wantCode(`Put update of missing "MISSING"`, res[0].Err, pluginsdk.ErrNotFound)
	c.expect(st)
}

// checkUpsert: Upsert creates a missing name and replaces an existing one with the kind
// given, in one batch too.
func checkUpsert(h *harness) {
	c := h.connect(h.account(""))
	st := state{"UP": {secret, token("upsert-1")}}
	c.mustPut([]pluginsdk.Entry{entry("UP", secret, st["UP"].value)}, pluginsdk.Upsert)
	c.expect(st)

	st["UP"] = want{plain, token("upsert-2")}
	st["UP_NEW"] = want{secret, token("upsert-new")}
	c.mustPut([]pluginsdk.Entry{entry("UP", plain, st["UP"].value), entry("UP_NEW", secret, st["UP_NEW"].value)}, pluginsdk.Upsert)
	c.expect(st)
}

// checkDeleteAndRecreate: Delete removes the entry from every read; a second Delete, a
// Get and an Update of it are ErrNotFound; the name is then free for Create, with any
// kind.
func checkDeleteAndRecreate(h *harness) {
	c := h.connect(h.account(""))
	st := state{"KEPT": {plain, token("delete-kept")}}
	c.mustPut([]pluginsdk.Entry{entry("GONE", secret, token("delete-gone")), entry("KEPT", plain, st["KEPT"].value)}, pluginsdk.Create)

	c.mustDelete("GONE")
	c.expect(st)
	c.wantCode(`Delete of deleted "GONE"`, c.del([]string{"GONE"})[0].Err, pluginsdk.ErrNotFound)
	c.wantCode(`Get of deleted "GONE"`, c.get([]string{"GONE"})[0].Err, pluginsdk.ErrNotFound)
	res := c.put([]pluginsdk.Entry{entry("GONE", secret, token("delete-update"))}, pluginsdk.Update)
	c.wantCode(`Put update of deleted "GONE"`, res[0].Err, pluginsdk.ErrNotFound)
	c.expect(st)

	st["GONE"] = want{plain, token("delete-recreated")}
	c.mustPut([]pluginsdk.Entry{entry("GONE", plain, st["GONE"].value)}, pluginsdk.Create)
	c.expect(st)

	c.mustDelete("GONE", "KEPT")
	c.expect(state{})
	st = state{"GONE": {secret, token("delete-recreated-again")}}
	c.mustPut([]pluginsdk.Entry{entry("GONE", secret, st["GONE"].value)}, pluginsdk.Create)
	c.expect(st)
}

// checkVersions: every write has a version of at least 1 and versions never go down; with
// the versions capability, a name's first write is version 1 and each write adds 1. With
// the timestamps capability, an update keeps the created time and does not move the
// updated time back.
func checkVersions(h *harness) {
	c := h.connect(h.account(""))
	writes := []struct {
		mode pluginsdk.PutMode
		kind pluginsdk.Kind
	}{{pluginsdk.Create, secret}, {pluginsdk.Update, secret}, {pluginsdk.Update, plain}, {pluginsdk.Upsert, plain}}
	var prev pluginsdk.Entry
	for i, w := range writes {
		v := token(fmt.Sprintf("version-%d", i+1))
		r := c.mustPut([]pluginsdk.Entry{entry("V", w.kind, v)}, w.mode)[0]
		listed := c.expect(state{"V": {w.kind, v}})["V"]
		op := fmt.Sprintf("write %d (Put %s)", i+1, w.mode)
		switch {
		case c.hasCap(pluginsdk.CapVersions) && r.Entry.Version != int64(i+1):
			h.t.Errorf("%s of \"V\": the result has version %d, want %d: with %q, versions count writes from 1",
				op, r.Entry.Version, i+1, pluginsdk.CapVersions)
		case c.hasCap(pluginsdk.CapVersions) && listed.Version != r.Entry.Version:
			h.t.Errorf("%s of \"V\": List has version %d, the Put result %d", op, listed.Version, r.Entry.Version)
		case i > 0 && listed.Version < prev.Version:
			h.t.Errorf("%s of \"V\": List has version %d, before it had %d: versions never go down", op, listed.Version, prev.Version)
		}
		if c.hasCap(pluginsdk.CapTimestamps) && i > 0 {
			if !listed.CreatedAt.Equal(prev.CreatedAt) {
				h.t.Errorf("%s of \"V\": the created time moved from %s to %s", op, prev.CreatedAt, listed.CreatedAt)
			}
			if listed.UpdatedAt.Before(prev.UpdatedAt) {
				h.t.Errorf("%s of \"V\": the updated time went back from %s to %s", op, prev.UpdatedAt, listed.UpdatedAt)
			}
		}
		prev = listed
	}
}

// checkListSorted: List orders names by bytes (as Go compares strings), so upper case
// sorts before underscore and lower case; names differing only in case are distinct
// entries.
func checkListSorted(h *harness) {
	c := h.connect(h.account(""))
	names := []string{"b", "B", "a_1", "A", "_z", "Z9", "a", "aa", "A_", "key", "KEY", "Key"}
	st := state{}
	var entries []pluginsdk.Entry
	for i, n := range names {
		kind := secret
		if i%2 == 1 {
			kind = plain
		}
		st[n] = want{kind, token("list-" + n)}
		entries = append(entries, entry(n, kind, st[n].value))
	}
	c.mustPut(entries, pluginsdk.Create)
	c.expect(st)
}

// perName checks the results of a batch in which the names at wantErr fail with those
// codes and every other name succeeds: results are per name, so a name that fails never
// fails its neighbours (with CapAtomicBatch too: it makes the successful names land in
// one step, not the batch succeed or fail as one). It returns which names succeeded.
func (c *client) perName(op string, names []string, res []pluginsdk.Result, wantErr map[int]*pluginsdk.Error) []bool {
	c.h.t.Helper()
	applied := make([]bool, len(names))
	for i, r := range res {
		if sentinel := wantErr[i]; sentinel != nil {
			c.wantCode(fmt.Sprintf("%s: names[%d] %q", op, i, names[i]), r.Err, sentinel)
			continue
		}
		if r.Err != nil {
			c.h.t.Errorf("%s: names[%d] %q failed with %s beside a name that had to fail: results are per name, "+
				"the other names of a batch must succeed", op, i, names[i], c.h.errText(r.Err))
		}
		applied[i] = r.Err == nil
	}
	return applied
}

// checkBatchResults: in batches that mix names that succeed and names that fail, results
// come in input order and only the right names fail.
func checkBatchResults(h *harness) {
	c := h.connect(h.account(""))
	st := state{"EXISTING": {secret, token("batch-existing")}}
	c.mustPut([]pluginsdk.Entry{entry("EXISTING", secret, st["EXISTING"].value)}, pluginsdk.Create)

	batch := []pluginsdk.Entry{
		entry("NEW_1", plain, token("batch-new-1")),
		entry("EXISTING", plain, token("batch-existing-again")),
		entry("NEW_2", secret, token("batch-new-2")),
	}
	res := c.put(batch, pluginsdk.Create)
	applied := c.perName("Put create", []string{"NEW_1", "EXISTING", "NEW_2"}, res,
		map[int]*pluginsdk.Error{1: pluginsdk.ErrAlreadyExists})
	for _, i := range []int{0, 2} {
		if applied[i] {
			c.checkPutResult(pluginsdk.Create, batch[i], res[i])
		}
	}
	c.expect(withApplied(st, batch, applied))
	if h.t.Failed() {
		h.t.FailNow() // what follows builds on this batch
	}
	st["NEW_1"] = want{plain, batch[0].Value.Reveal()}
	st["NEW_2"] = want{secret, batch[2].Value.Reveal()}

	names := []string{"NEW_2", "MISSING", "EXISTING", "NEW_1"}
	got := c.get(names)
	c.wantCode(`Get: names[1] "MISSING"`, got[1].Err, pluginsdk.ErrNotFound)
	for _, i := range []int{0, 2, 3} {
		if got[i].Err != nil {
			h.t.Errorf("Get: names[%d] %q failed with %s while only \"MISSING\" is missing", i, names[i], h.errText(got[i].Err))
			continue
		}
		c.checkGetResult(names[i], st[names[i]], got[i])
	}

	update := []pluginsdk.Entry{entry("MISSING", secret, token("batch-missing")), entry("NEW_1", plain, token("batch-new-1b"))}
	res = c.put(update, pluginsdk.Update)
	if c.perName("Put update", []string{"MISSING", "NEW_1"}, res, map[int]*pluginsdk.Error{0: pluginsdk.ErrNotFound})[1] {
		st["NEW_1"] = want{plain, update[1].Value.Reveal()}
	}
	c.expect(st)

	names = []string{"NEW_1", "MISSING", "NEW_2"}
	applied = c.perName("Delete", names, c.del(names), map[int]*pluginsdk.Error{1: pluginsdk.ErrNotFound})
	for i, n := range names {
		if applied[i] {
			delete(st, n)
		}
	}
	c.expect(st)
}

// withApplied returns st plus the entries of batch that were applied.
func withApplied(st state, batch []pluginsdk.Entry, applied []bool) state {
	out := maps.Clone(st)
	for i, e := range batch {
		if applied[i] {
			out[e.Name] = want{e.Kind, e.Value.Reveal()}
		}
	}
	return out
}

// exactValue returns a value of exactly n bytes made of unit repeated (unit's length must
// divide n).
func exactValue(unit string, n int) string { return strings.Repeat(unit, n/len(unit)) }

// storedValues are values every backend must store and return byte for byte: the limits,
// the characters shells, JSON, .env files and format strings treat specially.
var storedValues = []struct{ label, value string }{
	{"one_byte", "x"},
	{"one_space", " "},
	{"max_ascii", exactValue("0123456789abcdef", pluginsdk.MaxValueBytes)},
	{"max_multibyte", exactValue("🔑", pluginsdk.MaxValueBytes)},
	{"multi_line", "line one\nline two\n\nline four\n"},
	{"crlf", "first\r\nsecond\r\n"},
	{"pem", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"},
	{"unicode", "pässwörd ✓ 日本語 🔑 e\u0301 \u200b"},
	{"dollar", "pa$$word $HOME ${HOME} $(id) `id` $1"},
	{"quotes", `it's "double" 'single' ` + "`back`"},
	{"backslashes", `C:\path\to\file \n \t \\ \" \u0000 \`},
	{"json", `{"key": "value", "n": [1, 2], "nested": {"a": null}}`},
	{"json_null", "null"},
	{"number", "0123"},
	{"whitespace", "  padded\t \n"},
	{"control", "bell\a esc\x1b[0m del\x7f"},
	{"env_syntax", "KEY=value # not a comment"},
	{"reference", "@OTHER"},
	{"format_verbs", "100% %s %v %d %!"},
}

// checkValues: every stored value comes back byte for byte, as a secret through Get and
// as a plain variable through Get and List.
func checkValues(h *harness) {
	c := h.connect(h.account(""))
	st := state{}
	var entries []pluginsdk.Entry
	for _, v := range storedValues {
		for _, kind := range []pluginsdk.Kind{secret, plain} {
			name := strings.ToUpper(string(kind[0])) + "_" + v.label
			st[name] = want{kind, v.value}
			entries = append(entries, entry(name, kind, v.value))
		}
	}
	c.mustPut(entries, pluginsdk.Create)
	c.expect(st)
}

// checkNames: names at the limits work: 128 bytes, one character, a leading underscore,
// names that differ only in case or only in their last byte.
func checkNames(h *harness) {
	c := h.connect(h.account(""))
	long := "N" + strings.Repeat("a", pluginsdk.MaxNameBytes-2)
	names := []string{long + "1", long + "2", "_", "A", "z", "_1", "A1B2", "__", "Key", "KEY", "key"}
	st := state{}
	var entries []pluginsdk.Entry
	for i, n := range names {
		st[n] = want{[]pluginsdk.Kind{secret, plain}[i%2], token(fmt.Sprintf("name-%d", i))}
		entries = append(entries, entry(n, st[n].kind, st[n].value))
	}
	c.mustPut(entries, pluginsdk.Create)
	c.expect(st)
	c.mustDelete(long + "1")
	delete(st, long+"1")
	c.expect(st)
}

// invalidNames are names every backend must refuse per name with ErrInvalidArgument,
// whatever the call. Some would escape the account's space on a store with paths.
func invalidNames(otherAccount string) []struct{ label, name string } {
	return []struct{ label, name string }{
		{"empty", ""},
		{"129_bytes", "N" + strings.Repeat("a", pluginsdk.MaxNameBytes)},
		{"dash", "a-b"},
		{"parent", "../x"},
		{"other_account", "../" + otherAccount + "/ESCAPED"},
		{"slash", "a/b"},
		{"dot", "a.b"},
		{"dots", ".."},
		{"unicode", "naïve"},
		{"leading_digit", "1A"},
		{"nul", "A\x00B"},
		{"space", "A B"},
		{"newline", "A\nB"},
		{"percent", "a%2Fb"},
		{"star", "*"},
	}
}

// checkInvalidNames: every call refuses each invalid name with a per-name
// ErrInvalidArgument, serves the valid name beside it, and stores nothing for the
// invalid ones, neither in the account nor in another.
func checkInvalidNames(h *harness) {
	c := h.connect(h.account(""))
	other := h.connect(h.account("b"))
	bad := invalidNames(other.account)
	names := []string{"VALID"}
	wantErr := map[int]*pluginsdk.Error{}
	for i, b := range bad {
		names = append(names, b.name)
		wantErr[i+1] = pluginsdk.ErrInvalidArgument
	}
	st := state{}
	for i, mode := range []pluginsdk.PutMode{pluginsdk.Create, pluginsdk.Upsert, pluginsdk.Update} {
		entries := make([]pluginsdk.Entry, len(names))
		for j, n := range names {
			entries[j] = entry(n, secret, token(fmt.Sprintf("invalid-name-%d", i)))
		}
		applied := c.perName("Put "+mode.String(), names, c.put(entries, mode), wantErr)
		if applied[0] {
			st["VALID"] = want{secret, entries[0].Value.Reveal()}
		}
		c.expect(st)
		if h.t.Failed() {
			h.t.FailNow() // the next mode builds on this one
		}
	}
	res := c.get(names)
	c.perName("Get", names, res, wantErr)
	if res[0].Err == nil {
		c.checkGetResult("VALID", st["VALID"], res[0])
	}
	if c.perName("Delete", names, c.del(names), wantErr)[0] {
		delete(st, "VALID")
	}
	c.expect(st)
	other.expect(state{})
}

// invalidValue is a value Put must refuse.
type invalidValue struct {
	label, value string
	utf8         bool // valid UTF-8: it can cross the gRPC protocol
}

// invalidValues are values every backend must refuse per name with ErrInvalidArgument.
// The invalid UTF-8 ones cannot cross the gRPC protocol (protobuf strings are UTF-8), so
// over gRPC the call fails as a whole; they are checked alone.
func invalidValues() []invalidValue {
	return []invalidValue{
		{"empty", "", true},
		{"over_64KiB", exactValue("0123456789abcdef", pluginsdk.MaxValueBytes) + "x", true},
		{"nul", token("before-nul") + "\x00after", true},
		{"invalid_utf8", token("before") + "\xff\xfe", false},
		{"surrogate", token("before") + "\xed\xa0\x80", false},
		{"truncated_utf8", token("before") + "\xe2\x82", false},
	}
}

// checkInvalidValues: Put refuses invalid values, kinds and modes with ErrInvalidArgument,
// per name (the valid entry beside them is written), in every mode, and leaves the
// existing value alone.
func checkInvalidValues(h *harness) {
	c := h.connect(h.account(""))
	st := state{"EXISTING": {secret, token("invalid-existing")}}
	c.mustPut([]pluginsdk.Entry{entry("EXISTING", secret, st["EXISTING"].value)}, pluginsdk.Create)

	for _, v := range invalidValues() {
		for _, mode := range []pluginsdk.PutMode{pluginsdk.Create, pluginsdk.Upsert, pluginsdk.Update} {
			op := fmt.Sprintf("Put %s of a value %s (%d bytes)", mode, v.label, len(v.value))
			name := "BAD_" + v.label
			if mode == pluginsdk.Update {
				name = "EXISTING"
			}
			batch := []pluginsdk.Entry{entry(name, secret, v.value)}
			if v.utf8 && mode != pluginsdk.Update {
				batch = append(batch, entry("GOOD_"+v.label, plain, token("good")))
			}
			res, err := c.tryPut(batch, mode)
			switch {
			case err != nil && !v.utf8 && h.transport == "grpc":
				// protobuf cannot carry it: the call fails as a whole, which is all a host sees.
			case err != nil:
				h.t.Errorf("%s: the call failed as a whole (%s): want a per-name invalid argument", op, h.errText(err))
			default:
				names := []string{name, "GOOD_" + v.label}[:len(batch)]
				applied := c.perName(op, names, res, map[int]*pluginsdk.Error{0: pluginsdk.ErrInvalidArgument})
				if len(batch) == 2 && applied[1] {
					st["GOOD_"+v.label] = want{plain, batch[1].Value.Reveal()}
				}
			}
		}
	}
	c.expect(st)

	kinds := []pluginsdk.Entry{entry("KIND_EMPTY", "", token("kind")), entry("KIND_OTHER", "other", token("kind"))}
	res := c.put(kinds, pluginsdk.Create)
	c.wantCode(`Put create with kind ""`, res[0].Err, pluginsdk.ErrInvalidArgument)
	c.wantCode(`Put create with kind "other"`, res[1].Err, pluginsdk.ErrInvalidArgument)

	for _, mode := range []pluginsdk.PutMode{0, 99} {
		res, err := c.b.Put(h.ctx, []pluginsdk.Entry{entry("MODE", secret, token("mode"))}, mode)
		h.noLeak("Put with an invalid mode", err)
		if err == nil && (len(res) != 1 || !errors.Is(res[0].Err, pluginsdk.ErrInvalidArgument)) {
			h.t.Errorf("Put with mode %d: got %d results (first error: %s), want invalid argument for the call or the name",
				int(mode), len(res), firstErr(h, res))
		} else if err != nil && !errors.Is(err, pluginsdk.ErrInvalidArgument) {
			h.t.Errorf("Put with mode %d: got %s, want invalid argument", int(mode), h.errText(err))
		}
	}
	c.expect(st)
}

// checkAccountsIsolated: two accounts of one backend never see each other's entries,
// even when one account's name is a prefix of the other's; a second client of an account
// sees that account's entries.
func checkAccountsIsolated(h *harness) {
	a := h.connect(h.account(""))
	b := h.connect(h.account("b"))
	stA := state{"SHARED": {secret, token("account-a-shared")}, "ONLY_A": {plain, token("account-a-only")}}
	a.mustPut([]pluginsdk.Entry{entry("SHARED", secret, stA["SHARED"].value), entry("ONLY_A", plain, stA["ONLY_A"].value)},
		pluginsdk.Create)
	stB := state{"SHARED": {plain, token("account-b-shared")}}
	b.mustPut([]pluginsdk.Entry{entry("SHARED", plain, stB["SHARED"].value)}, pluginsdk.Create)
	a.expect(stA)
	b.expect(stB)

	b.wantCode(`Get of "ONLY_A" in the other account`, b.get([]string{"ONLY_A"})[0].Err, pluginsdk.ErrNotFound)
	b.wantCode(`Delete of "ONLY_A" in the other account`, b.del([]string{"ONLY_A"})[0].Err, pluginsdk.ErrNotFound)
	res := b.put([]pluginsdk.Entry{entry("ONLY_A", plain, token("account-b-update"))}, pluginsdk.Update)
	b.wantCode(`Put update of "ONLY_A" in the other account`, res[0].Err, pluginsdk.ErrNotFound)
	b.mustDelete("SHARED")
	b.expect(state{})
	a.expect(stA)

	h.connect(a.account).expect(stA)
}

// checkBatchOf50: one call writes, updates and deletes 50 entries.
func checkBatchOf50(h *harness) {
	c := h.connect(h.account(""))
	const n = 50
	st := state{}
	entries := make([]pluginsdk.Entry, n)
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("BATCH_%02d", i)
		st[names[i]] = want{[]pluginsdk.Kind{secret, plain}[i%2], token(fmt.Sprintf("batch-%d", i))}
		entries[i] = entry(names[i], st[names[i]].kind, st[names[i]].value)
	}
	c.mustPut(entries, pluginsdk.Create)
	c.expect(st)
	for i := range entries {
		st[names[i]] = want{st[names[i]].kind, token(fmt.Sprintf("batch-%d-updated", i))}
		entries[i] = entry(names[i], st[names[i]].kind, st[names[i]].value)
	}
	c.mustPut(entries, pluginsdk.Update)
	c.expect(st)
	c.mustDelete(names...)
	c.expect(state{})
}

// writers opens cfg.Writers configured clients of account, one instance each.
func (h *harness) writers(account string) []*client {
	h.t.Helper()
	clients := make([]*client, h.cfg.Writers)
	for i := range clients {
		clients[i] = h.connect(account)
	}
	return clients
}

// together runs f(i) for every client at once: the goroutines start together after all
// exist. f must not call t.Fatal.
func together(clients []*client, f func(i int, c *client)) {
	atOnce(len(clients), func(i int) { f(i, clients[i]) })
}

// atOnce runs f(0) … f(n-1) in n goroutines released by one barrier, and waits for all.
// f must not call t.Fatal.
func atOnce(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// checkConcurrentWriters: separate clients of one account (as separate ast processes are)
// create distinct names at the same time; afterwards every name is there.
func checkConcurrentWriters(h *harness) {
	account := h.account("")
	clients := h.writers(account)
	const perWriter = 3
	st := state{}
	entries := make([][]pluginsdk.Entry, len(clients))
	for i := range clients {
		for j := range perWriter {
			name := fmt.Sprintf("W%02d_%d", i, j)
			st[name] = want{[]pluginsdk.Kind{secret, plain}[j%2], token(name)}
			entries[i] = append(entries[i], entry(name, st[name].kind, st[name].value))
			h.remember(st[name].value)
		}
	}
	together(clients, func(i int, c *client) {
		for _, e := range entries[i] {
			res, err := c.b.Put(h.ctx, []pluginsdk.Entry{e}, pluginsdk.Create)
			h.noLeak("Put create", err)
			switch {
			case err != nil:
				h.t.Errorf("writer %d: Put create of %q: the call failed: %s", i, e.Name, h.errText(err))
			case len(res) != 1:
				h.t.Errorf("writer %d: Put create of %q: %d results for 1 entry", i, e.Name, len(res))
			case res[0].Err != nil:
				h.t.Errorf("writer %d: Put create of %q: %s", i, e.Name, h.errText(res[0].Err))
			}
		}
	})
	h.connect(account).expect(st)
}

// checkCreateContention: separate clients create the same name at the same time: exactly
// one wins, every other gets ErrAlreadyExists, and the winner's value is stored.
func checkCreateContention(h *harness) {
	account := h.account("")
	clients := h.writers(account)
	st := state{}
	for round := range 2 {
		name := fmt.Sprintf("CONTENDED_%d", round)
		values := make([]string, len(clients))
		for i := range values {
			values[i] = token(fmt.Sprintf("contender-%d-%d", round, i))
		}
		h.remember(values...)
		errs := make([]error, len(clients))
		together(clients, func(i int, c *client) {
			res, err := c.b.Put(h.ctx, []pluginsdk.Entry{entry(name, secret, values[i])}, pluginsdk.Create)
			switch {
			case err != nil:
				errs[i] = err
			case len(res) != 1:
				errs[i] = fmt.Errorf("%d results for 1 entry", len(res))
			default:
				errs[i] = res[0].Err
			}
			h.noLeak("Put create", errs[i])
		})
		var winners []int
		for i, err := range errs {
			switch {
			case err == nil:
				winners = append(winners, i)
			case !errors.Is(err, pluginsdk.ErrAlreadyExists):
				h.t.Errorf("Put create of %q by %d writers at once: writer %d got %s, want already exists%s",
					name, len(clients), i, h.errText(err), codeHint(err, pluginsdk.ErrAlreadyExists))
			}
		}
		if len(winners) != 1 {
			h.t.Errorf("Put create of %q by %d writers at once: writers %v won, want exactly one winner: "+
				"Create must check and write in one step (a lock held across both, O_EXCL, a unique key, a check-and-set write)",
				name, len(clients), winners)
			continue
		}
		st[name] = want{secret, values[winners[0]]}
	}
	if h.t.Failed() {
		return // the store holds what the failures above describe
	}
	h.connect(account).expect(st)
}

// firstConfigureRounds is how often first_configure repeats its race: a store's first use
// races in a short window, which one round hits only sometimes.
const firstConfigureRounds = 5

// checkFirstConfigure: several instances (separate plugin processes under ast plugin test)
// start on one new store at once, as several ast commands do right after an account is
// added. In each round, behind barriers, every instance
//  1. configures the new store at once: every one must succeed (creating the store, its
//     key or its schema must be safe against a concurrent creator);
//  2. creates one name at once: exactly one wins, the others get ErrAlreadyExists;
//  3. creates a name of its own at once: all succeed;
//
// and a new instance then finds exactly what was written. A round proves that a store that
// did not exist a moment before comes up once, whole and shared, whoever starts first. A
// new store is a new account, in a new location too when Config.FreshStore gives one.
func checkFirstConfigure(h *harness) {
	n := min(h.cfg.Writers, 8)
	for round := 1; round <= firstConfigureRounds; round++ {
		what := fmt.Sprintf("first_configure round %d of %d (%d instances on one new store at once)", round, firstConfigureRounds, n)
		account := h.account(fmt.Sprintf("r%d", round))
		settings, store := h.settings(nil), ""
		if h.cfg.FreshStore != nil {
			settings, store = h.settings(h.cfg.FreshStore(h.t)), fmt.Sprintf("fresh-%d", round)
		}
		h.allowAccount(account)
		instances := make([]pluginsdk.Backend, n)
		for i := range instances {
			instances[i] = h.open()
		}

		errs := make([]error, n)
		atOnce(n, func(i int) { errs[i] = instances[i].Configure(h.ctx, account, settings) })
		clients := make([]*client, 0, n)
		for i, err := range errs {
			h.noLeak("Configure", err)
			if err != nil {
				h.t.Errorf("%s, step 1: Configure of instance %d failed: %s: the first Configure of a store must succeed "+
					"when several processes start together (create the store, its key or schema with O_EXCL or under a lock, "+
					"and take \"another process just created it\" as success)", what, i, h.errText(err))
				continue
			}
			info, err := instances[i].Info(h.ctx)
			if err != nil {
				h.t.Errorf("%s, step 1: Info after Configure of instance %d: %s", what, i, h.errText(err))
				continue
			}
			c := &client{h: h, b: instances[i], account: account, store: store, info: info}
			h.cleanupOnce(c)
			clients = append(clients, c)
		}
		if len(clients) < n {
			h.t.FailNow()
		}

		st := state{}
		name := "FIRST"
		values := make([]string, n)
		for i := range values {
			values[i] = token(fmt.Sprintf("first-%d-%d", round, i))
		}
		h.remember(values...)
		errs = make([]error, n)
		together(clients, func(i int, c *client) {
			errs[i] = putOne(c, entry(name, secret, values[i]), pluginsdk.Create)
		})
		var winners []int
		for i, err := range errs {
			switch {
			case err == nil:
				winners = append(winners, i)
			case !errors.Is(err, pluginsdk.ErrAlreadyExists):
				h.t.Errorf("%s, step 2: Put create of %q: instance %d got %s, want already exists%s",
					what, name, i, h.errText(err), codeHint(err, pluginsdk.ErrAlreadyExists))
			}
		}
		if len(winners) != 1 {
			h.t.Errorf("%s, step 2: Put create of %q by every instance: instances %v won, want exactly one: "+
				"a new store must serialise creates from its first write on (a lock or a unique key that exists before the first write)",
				what, name, winners)
			h.t.FailNow()
		}
		st[name] = want{secret, values[winners[0]]}

		own := make([]pluginsdk.Entry, n)
		for i := range own {
			own[i] = entry(fmt.Sprintf("OWN_%02d", i), plain, token(fmt.Sprintf("own-%d-%d", round, i)))
			st[own[i].Name] = want{plain, own[i].Value.Reveal()}
		}
		for _, e := range own {
			h.remember(e.Value.Reveal())
		}
		errs = make([]error, n)
		together(clients, func(i int, c *client) { errs[i] = putOne(c, own[i], pluginsdk.Create) })
		for i, err := range errs {
			if err != nil {
				h.t.Errorf("%s, step 3: Put create of %q by instance %d (each its own name, at once): %s: "+
					"writes of different names to a new store must all land", what, own[i].Name, i, h.errText(err))
			}
		}
		if h.t.Failed() {
			h.t.FailNow()
		}
		h.connectTo(h.open(), account, store, settings).expect(st)
		if h.t.Failed() {
			h.t.Errorf("%s: a new instance does not find what the round wrote: a write was lost or went to another store", what)
			h.t.FailNow()
		}
	}
}

// putOne writes one entry and returns its error: the call's or the name's.
func putOne(c *client, e pluginsdk.Entry, mode pluginsdk.PutMode) error {
	res, err := c.b.Put(c.h.ctx, []pluginsdk.Entry{e}, mode)
	switch {
	case err != nil:
	case len(res) != 1:
		err = fmt.Errorf("%d results for 1 entry", len(res))
	default:
		err = res[0].Err
	}
	c.h.noLeak("Put "+mode.String(), err)
	return err
}

// checkExternal (Config.External): entries ast did not write. The host refuses to
// overwrite or delete them without --force, knowing them from List's External, and takes
// @NAME#FIELD from Get's value, so:
//   - List (with and without values) lists them as secrets, External, never with a value;
//     an entry ast wrote is not External;
//   - List with Fields adds their field names, sorted, names only; an ast entry has none;
//   - Get answers the whole value (Config.External says which), External, kind secret,
//     and every field written is reachable for @NAME#FIELD (Entry.FieldSource, else the
//     value as a JSON object);
//   - a forced write (Put update) makes the entry ast's own (not External); a forced
//     Delete removes it;
//   - a binary secret (Config.ExternalBinary) is listed, and Get refuses it for that name
//     alone with ErrFailedPrecondition, naming no value.
func checkExternal(h *harness) {
	if h.cfg.External == nil {
		h.t.Logf("Config.External is nil: nothing checked")
		return
	}
	account := h.account("")
	c := h.connect(account)
	own := token("external-own")
	c.mustPut([]pluginsdk.Entry{entry("OWN", secret, own)}, pluginsdk.Create)
	fields := map[string]string{"username": token("ext-user"), "password": token("ext-pass"), "port": "5432"}
	withValue := map[string]string{"value": token("ext-value"), "other": token("ext-other")}
	h.remember(fields["username"], fields["password"], withValue["value"], withValue["other"])
	wholeJSON := h.cfg.External(h.t, account, "EXT_JSON", fields)
	wholeValue := h.cfg.External(h.t, account, "EXT_VALUE", withValue)
	h.remember(wholeJSON, wholeValue)
	names := []string{"EXT_JSON", "EXT_VALUE", "OWN"}
	if h.cfg.ExternalBinary != nil {
		h.cfg.ExternalBinary(h.t, account, "EXT_BINARY")
		names = []string{"EXT_BINARY", "EXT_JSON", "EXT_VALUE", "OWN"}
	}
	wantFields := map[string]string{"EXT_JSON": "password,port,username", "EXT_VALUE": "other,value"}

	for _, opts := range []pluginsdk.ListOptions{{}, {Values: true}, {Fields: true}, {Values: true, Fields: true}} {
		op := fmt.Sprintf("List(Values: %v, Fields: %v)", opts.Values, opts.Fields)
		entries, err := c.b.List(h.ctx, opts)
		h.noLeak(op, err)
		if err != nil {
			h.t.Fatalf("%s with entries ast did not write: %s", op, h.errText(err))
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name)
			switch {
			case !e.Value.IsZero() && e.Name != "OWN":
				h.t.Errorf("%s: external %q carries a value (%d bytes): an entry ast did not write is a secret", op, e.Name, e.Value.Len())
			case !e.Value.IsZero():
				h.t.Errorf("%s: secret %q carries a value (%d bytes)", op, e.Name, e.Value.Len())
			}
			if e.Kind != secret {
				h.t.Errorf("%s: %q has kind %q: an entry ast did not write reads as a secret", op, e.Name, e.Kind)
			}
			if ext := e.Name != "OWN"; e.External != ext {
				h.t.Errorf("%s: %q has External %v, want %v (the host refuses to overwrite or delete external entries without --force)", op, e.Name, e.External, ext)
			}
			for _, f := range e.Fields {
				if h.leaked(f) {
					h.t.Errorf("%s: a field name of %q is a value the check wrote: Fields are names only", op, e.Name)
				}
			}
			want := ""
			if opts.Fields {
				want = wantFields[e.Name]
			}
			if g := strings.Join(e.Fields, ","); g != want {
				h.t.Errorf("%s: %q has fields %q, want %q (names only, sorted, asked for with Fields, for external entries)", op, e.Name, g, want)
			}
		}
		if strings.Join(got, ",") != strings.Join(names, ",") {
			h.t.Errorf("%s: lists %s, want %s", op, quoteNames(got), quoteNames(names))
		}
	}

	res := c.get(names)
	for i, r := range res {
		name := names[i]
		var whole string
		switch name {
		case "EXT_BINARY":
			c.wantCode(`Get of binary "EXT_BINARY"`, r.Err, pluginsdk.ErrFailedPrecondition)
			continue
		case "EXT_JSON":
			whole = wholeJSON
		case "EXT_VALUE":
			whole = wholeValue
		case "OWN":
			whole = own
		}
		if r.Err != nil {
			h.t.Errorf("Get of %q: %s", name, h.errText(r.Err))
			continue
		}
		c.checkGetResult(name, want{secret, whole}, r)
		if ext := name != "OWN"; r.Entry.External != ext {
			h.t.Errorf("Get of %q: External is %v, want %v", name, r.Entry.External, ext)
		}
		// @NAME#FIELD reaches every field written: from FieldSource when set, else from
		// the value as a JSON object.
		written := map[string]map[string]string{"EXT_JSON": fields, "EXT_VALUE": withValue}[name]
		if written == nil {
			continue
		}
		from := r.Entry.Value
		if !r.Entry.FieldSource.IsZero() {
			from = r.Entry.FieldSource
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(from.Reveal()), &obj); err != nil {
			h.t.Errorf("Get of %q: neither FieldSource nor the value is a JSON object of its fields (%d bytes)", name, from.Len())
			continue
		}
		for k, v := range written {
			if got, ok := obj[k].(string); !ok || got != v {
				h.t.Errorf("Get of %q: field %q is not reachable as written (FieldSource, else the value, must hold every field)", name, k)
			}
		}
		if len(obj) != len(written) {
			h.t.Errorf("Get of %q: %d fields, want %d (%s)", name, len(obj), len(written), quoteNames(slices.Sorted(maps.Keys(written))))
		}
	}

	// What --force does: the write makes the entry ast's own; the delete removes it.
	forced := token("external-forced")
	c.mustPut([]pluginsdk.Entry{entry("EXT_JSON", secret, forced)}, pluginsdk.Update)
	c.mustDelete("EXT_VALUE")
	st := state{"EXT_JSON": {secret, forced}, "OWN": {secret, own}}
	if h.cfg.ExternalBinary != nil {
		c.mustDelete("EXT_BINARY")
	}
	for name, e := range c.expect(st) {
		if e.External {
			h.t.Errorf("List after a forced write: %q is still External", name)
		}
	}
	if r := c.get([]string{"EXT_JSON"})[0]; r.Err == nil && r.Entry.External {
		h.t.Errorf("Get after a forced write: \"EXT_JSON\" is still External")
	}
}
