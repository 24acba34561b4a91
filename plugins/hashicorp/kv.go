package hashicorp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
)

// The data keys of an entry in ast's layout, and the custom_metadata keys of the kind
// hint (see the package documentation).
const (
	valueKey            = "value"    // data: the value
	kindKey             = "ast_kind" // data: the kind, beside the value it describes
	labelKind           = "ast_kind"
	labelAccount        = "ast_account"
	labelKindVersion    = "ast_kind_version"
	labelKindCreatedAt  = "ast_kind_time"
	maxCreateAttempts   = 3
	changedConcurrently = "entry %q changed concurrently: another writer changed or deleted it while this one wrote; run the command again"
)

// Paths of an entry, and the policy paths that grant capabilities on all of the account's
// entries.
func (c *config) dataPath(name string) string {
	return c.mount + "/data/" + c.folder + c.vaultName(name)
}
func (c *config) metadataPath(name string) string {
	return c.mount + "/metadata/" + c.folder + c.vaultName(name)
}

// vaultName is the name of entry name in Vault: its alias's target, else the name.
func (c *config) vaultName(name string) string {
	if n, ok := c.aliases[name]; ok {
		return n
	}
	return name
}
func (c *config) listPath() string       { return c.mount + "/metadata/" + c.folder }
func (c *config) dataPolicy() string     { return c.mount + "/data/" + c.folder + "*" }
func (c *config) metadataPolicy() string { return c.mount + "/metadata/" + c.folder + "*" }

// versionInfo is the metadata of one version, as the data endpoint returns it (the
// metadata endpoint leaves out version and custom_metadata).
type versionInfo struct {
	Version        int64             `json:"version"`
	CreatedTime    time.Time         `json:"created_time"`
	DeletionTime   string            `json:"deletion_time"` // "" or RFC 3339; may lie in the future (delete_version_after)
	Destroyed      bool              `json:"destroyed"`
	CustomMetadata map[string]string `json:"custom_metadata"`
}

// live reports whether the version holds a value now.
func (v versionInfo) live(now time.Time) bool {
	if v.Version < 1 || v.Destroyed {
		return false
	}
	if v.DeletionTime == "" {
		return true
	}
	t, err := time.Parse(time.RFC3339Nano, v.DeletionTime)
	return err == nil && t.After(now)
}

// secretMetadata is the answer of the metadata endpoint.
type secretMetadata struct {
	CreatedTime    time.Time              `json:"created_time"`
	CurrentVersion int64                  `json:"current_version"`
	CustomMetadata map[string]string      `json:"custom_metadata"`
	Versions       map[string]versionInfo `json:"versions"`
}

// current returns the current version and whether it holds a value: a secret whose
// current version was deleted or destroyed is no entry.
func (m secretMetadata) current() (versionInfo, bool) {
	v, ok := m.Versions[strconv.FormatInt(m.CurrentVersion, 10)]
	v.Version = m.CurrentVersion
	return v, ok && v.live(time.Now())
}

// secretData is the answer of the data endpoint.
type secretData struct {
	Data     map[string]any `json:"data"`
	Metadata versionInfo    `json:"metadata"`
}

// layout reads a version's data: value and kind, and ours true, when the data is in ast's
// layout — exactly the keys "value" (text) and "ast_kind" ("secret" or "plain"). The kind
// is proof, since only a writer of the value can set it: a version in any other shape was
// not written by ast (vault kv put, a rotation job) and reads as a secret.
func layout(data map[string]any) (value string, kind pluginsdk.Kind, ours bool) {
	if len(data) != 2 {
		return "", "", false
	}
	v, ok := data[valueKey].(string)
	k, kok := data[kindKey].(string)
	if !ok || !kok || !pluginsdk.Kind(k).Valid() {
		return "", "", false
	}
	return v, pluginsdk.Kind(k), true
}

// hintOf reads the kind label of custom_metadata, which List shows without reading values.
// It is a hint, not proof: whoever may write the metadata may write it. It says plain only
// when the label says plain and describes exactly this version (number and creation
// time); secret otherwise. fresh is true when the label describes this version at all.
func hintOf(custom map[string]string, v versionInfo) (kind pluginsdk.Kind, fresh bool) {
	if custom[labelKindVersion] != strconv.FormatInt(v.Version, 10) {
		return pluginsdk.KindSecret, false
	}
	t, err := time.Parse(time.RFC3339Nano, custom[labelKindCreatedAt])
	if err != nil || !t.Equal(v.CreatedTime) || !pluginsdk.Kind(custom[labelKind]).Valid() {
		return pluginsdk.KindSecret, false
	}
	return pluginsdk.Kind(custom[labelKind]), true
}

// readData reads an entry's latest version (version 0) or a given one. Errors: errNoEntry
// when there is no such version or it was deleted.
func (c *config) readData(ctx context.Context, name string, version int64) (secretData, error) {
	r := request{method: "GET", path: c.dataPath(name), need: "read", policyPath: c.dataPolicy()}
	if version > 0 {
		r.query = url.Values{"version": {strconv.FormatInt(version, 10)}}
	}
	var out envelope[secretData]
	err := c.send(ctx, r, &out)
	return out.Data, err
}

// readMetadata reads an entry's metadata. Errors: errNoEntry.
func (c *config) readMetadata(ctx context.Context, name string) (secretMetadata, error) {
	var out envelope[secretMetadata]
	err := c.send(ctx, request{method: "GET", path: c.metadataPath(name), need: "read", policyPath: c.metadataPolicy()}, &out)
	return out.Data, err
}

// writeData writes a new version in ast's layout (value and kind) with check-and-set: cas 0
// writes only a name without a current version, cas N only over version N.
// Errors: errCASMismatch.
func (c *config) writeData(ctx context.Context, e pluginsdk.Entry, cas int64) (versionInfo, error) {
	name, value := e.Name, e.Value
	// Vault checks "create" for a name without versions and "update" for one with versions;
	// a check-and-set 0 write may meet either.
	need := "update"
	if cas == 0 {
		need = "create"
	}
	var out envelope[versionInfo]
	err := c.send(ctx, request{
		method: "POST", path: c.dataPath(name), need: need, policyPath: c.dataPolicy(),
		body: map[string]any{
			"data":    map[string]string{valueKey: value.Reveal(), kindKey: string(e.Kind)},
			"options": map[string]any{"cas": cas},
		},
		secrets: []string{value.Reveal()},
	}, &out)
	if err != nil {
		return versionInfo{}, err
	}
	if out.Data.Version < 1 {
		// A KV v1 mount takes the same request and stores it as is, answering nothing.
		return versionInfo{}, callLevel(pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"mount %s/ of Vault at %s did not answer a KV version 2 write with a version: it is not KV v2 (vault kv enable-versioning %s/)",
			c.mount, c.address, c.mount))
	}
	return out.Data, nil
}

// writeLabel writes the kind label of version v into the custom_metadata, keeping the
// other keys of custom (the custom_metadata the write returned). Only custom_metadata is
// sent, so max_versions and the other settings of the secret stay as they are.
func (c *config) writeLabel(ctx context.Context, name string, kind pluginsdk.Kind, v versionInfo, custom map[string]string) error {
	m := maps.Clone(custom)
	if m == nil {
		m = map[string]string{}
	}
	m[labelKind] = string(kind)
	m[labelAccount] = c.account
	m[labelKindVersion] = strconv.FormatInt(v.Version, 10)
	m[labelKindCreatedAt] = v.CreatedTime.UTC().Format(time.RFC3339Nano)
	return c.send(ctx, request{
		method: "POST", path: c.metadataPath(name), need: "update", policyPath: c.metadataPolicy(),
		body: map[string]any{"custom_metadata": m},
	}, nil)
}

// get reads one entry with its value. The kind is the one in the data (see layout); a
// version ast did not write is a secret whose value is its "value" key when that is text,
// else its data as a JSON object.
func (c *config) get(ctx context.Context, name string) (pluginsdk.Entry, error) {
	if err := pluginsdk.ValidateName(name); err != nil {
		return pluginsdk.Entry{Name: name}, err
	}
	d, err := c.readData(ctx, name, 0)
	if errors.Is(err, errNoEntry) {
		return pluginsdk.Entry{Name: name}, c.notFound(name)
	}
	if err != nil {
		return pluginsdk.Entry{Name: name}, err
	}
	value, kind, ours := layout(d.Data)
	var fields string
	if !ours {
		kind = pluginsdk.KindSecret
		if value, err = wholeValue(d.Data); err != nil {
			return pluginsdk.Entry{Name: name}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
				"%s in Vault at %s: %v", c.dataPath(name), c.address, err)
		}
		if fields, err = fieldObject(d.Data); err != nil {
			return pluginsdk.Entry{Name: name}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
				"%s in Vault at %s: %v", c.dataPath(name), c.address, err)
		}
	}
	return pluginsdk.Entry{
		Name:      name,
		Kind:      kind,
		Value:     pluginsdk.NewValue(value),
		Version:   d.Metadata.Version,
		UpdatedAt: d.Metadata.CreatedTime,
		External:  !ours,
		// The fields of a secret ast did not write are its data keys, also when its
		// whole value is the "value" key: @NAME#other reaches the others.
		FieldSource: pluginsdk.NewValue(fields),
	}, nil
}

// fieldObject is the data of a version ast did not write as a JSON object, without the
// kind key (never a field), for @NAME#FIELD. The error never quotes the data.
func fieldObject(data map[string]any) (string, error) {
	m := make(map[string]any, len(data))
	for k, v := range data {
		if k != kindKey {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", errors.New("its data cannot be written as JSON")
	}
	return string(b), nil
}

// fieldNames returns the data keys of a version ast did not write, sorted, without the
// kind key (never shown as a field).
func fieldNames(data map[string]any) []string {
	names := make([]string, 0, len(data))
	for k := range data {
		if k != kindKey {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// wholeValue is the value of a version ast did not write: its "value" key when that is
// text, else the whole data as a JSON object. The error never quotes the data.
func wholeValue(data map[string]any) (string, error) {
	if v, ok := data[valueKey].(string); ok {
		return v, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return "", errors.New("its data cannot be written as JSON")
	}
	return string(b), nil
}

// listed reads the metadata of one listed name; ok is false when it holds no entry (a
// folder of someone else's, a deleted secret, one removed since the LIST). The kind is the
// metadata's hint (see hintOf) unless values are asked for: then the current version's data
// is read, unless the hint is a fresh "secret" (which can only hide a value), and its
// kind, proven by the data, replaces the hint. A value is set only after that proof.
func (c *config) listed(ctx context.Context, name string, opts pluginsdk.ListOptions) (e pluginsdk.Entry, ok bool, err error) {
	md, err := c.readMetadata(ctx, name)
	if errors.Is(err, errNoEntry) {
		return e, false, nil
	}
	if err != nil {
		return e, false, err
	}
	cur, live := md.current()
	if !live {
		return e, false, nil
	}
	hint, fresh := hintOf(md.CustomMetadata, cur)
	e = pluginsdk.Entry{
		Name:      name,
		Kind:      hint,
		Version:   cur.Version,
		CreatedAt: md.CreatedTime,
		UpdatedAt: cur.CreatedTime,
		External:  !fresh, // a hint too: ast labels every version it writes
	}
	readValues := opts.Values && !(fresh && hint == pluginsdk.KindSecret)
	readFields := opts.Fields && !fresh
	if !readValues && !readFields {
		return e, true, nil
	}
	// The version listed, not the latest: a value written since must not be shown under
	// this version's kind.
	d, err := c.readData(ctx, name, cur.Version)
	if errors.Is(err, errNoEntry) {
		return e, false, nil
	}
	if err != nil {
		return e, false, err
	}
	v, kind, ours := layout(d.Data)
	e.Kind, e.External = pluginsdk.KindSecret, !ours
	switch {
	case ours:
		e.Kind = kind
		if kind == pluginsdk.KindPlain && opts.Values {
			e.Value = pluginsdk.NewValue(v)
		}
	case opts.Fields:
		e.Fields = fieldNames(d.Data)
	}
	return e, true, nil
}

// put writes one entry with mode (value and kind in the data) and then the kind hint in
// the custom_metadata. A hint that cannot be written is a warning, not a failure: the
// entry is written.
func (c *config) put(ctx context.Context, e pluginsdk.Entry, mode pluginsdk.PutMode) (pluginsdk.Entry, error) {
	out := pluginsdk.Entry{Name: e.Name, Kind: e.Kind}
	if err := pluginsdk.ValidateName(e.Name); err != nil {
		return out, err
	}
	if !e.Kind.Valid() {
		return out, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "entry %q: kind %q is neither %q nor %q",
			e.Name, e.Kind, pluginsdk.KindSecret, pluginsdk.KindPlain)
	}
	if err := pluginsdk.ValidateValue(e.Value); err != nil {
		return out, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "entry %q: %v", e.Name, err)
	}
	var (
		v       versionInfo
		created time.Time
		err     error
	)
	switch mode {
	case pluginsdk.Create:
		v, created, err = c.create(ctx, e)
	case pluginsdk.Update:
		v, created, err = c.update(ctx, e)
	default:
		v, created, err = c.upsert(ctx, e)
	}
	if err != nil {
		return out, err
	}
	out.Version, out.CreatedAt, out.UpdatedAt = v.Version, created, v.CreatedTime
	if out.CreatedAt.IsZero() {
		out.CreatedAt = v.CreatedTime
	}
	if err := c.writeLabel(ctx, e.Name, e.Kind, v, v.CustomMetadata); err != nil {
		if isCallLevel(err) {
			// The entry is written (its kind is in the data): the host is told so, and the
			// batch stops.
			return out, &writtenThenStopped{stop: err}
		}
		// The kind is in the data already; only List's hint is missing.
		c.log.Warn(fmt.Sprintf("entry %q was written (version %d) but the kind hint in its custom_metadata was not (%v): "+
			"secrets list shows it as a secret until it is written again; list --values and references read the kind from the data",
			e.Name, v.Version, err))
	}
	return out, nil
}

// writtenThenStopped is the error of a put whose entry was written before a call-level
// error (stop) stopped it (at the kind hint): the batch stops, and the name is reported
// as written.
type writtenThenStopped struct {
	stop error
}

func (e *writtenThenStopped) Error() string { return e.stop.Error() }
func (e *writtenThenStopped) Unwrap() error { return e.stop }

// create writes a name that has no current version: check-and-set 0, or, when only
// deleted versions remain (vault kv delete), check-and-set on the deleted current version.
func (c *config) create(ctx context.Context, e pluginsdk.Entry) (versionInfo, time.Time, error) {
	for range maxCreateAttempts {
		v, err := c.writeData(ctx, e, 0)
		if !errors.Is(err, errCASMismatch) {
			return v, time.Time{}, err
		}
		md, err := c.readMetadata(ctx, e.Name)
		if errors.Is(err, errNoEntry) {
			continue // deleted since the write: try again
		}
		if err != nil {
			return versionInfo{}, time.Time{}, err
		}
		if _, live := md.current(); live {
			return versionInfo{}, time.Time{}, pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", e.Name)
		}
		v, err = c.writeData(ctx, e, md.CurrentVersion)
		if errors.Is(err, errCASMismatch) {
			continue
		}
		return v, md.CreatedTime, err
	}
	return versionInfo{}, time.Time{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, changedConcurrently, e.Name)
}

// update writes over the current version with check-and-set on it.
func (c *config) update(ctx context.Context, e pluginsdk.Entry) (versionInfo, time.Time, error) {
	md, err := c.readMetadata(ctx, e.Name)
	if errors.Is(err, errNoEntry) {
		return versionInfo{}, time.Time{}, c.notFound(e.Name)
	}
	if err != nil {
		return versionInfo{}, time.Time{}, err
	}
	if _, live := md.current(); !live {
		return versionInfo{}, time.Time{}, c.notFound(e.Name)
	}
	v, err := c.writeData(ctx, e, md.CurrentVersion)
	if errors.Is(err, errCASMismatch) {
		return versionInfo{}, time.Time{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, changedConcurrently, e.Name)
	}
	return v, md.CreatedTime, err
}

// upsert creates or writes over: check-and-set 0 first (one request for a new name), then
// on the current version. A writer that keeps losing gets ErrFailedPrecondition.
func (c *config) upsert(ctx context.Context, e pluginsdk.Entry) (versionInfo, time.Time, error) {
	for range maxCreateAttempts {
		v, err := c.writeData(ctx, e, 0)
		if !errors.Is(err, errCASMismatch) {
			return v, time.Time{}, err
		}
		md, err := c.readMetadata(ctx, e.Name)
		if errors.Is(err, errNoEntry) {
			continue
		}
		if err != nil {
			return versionInfo{}, time.Time{}, err
		}
		v, err = c.writeData(ctx, e, md.CurrentVersion)
		if errors.Is(err, errCASMismatch) {
			continue
		}
		return v, md.CreatedTime, err
	}
	return versionInfo{}, time.Time{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, changedConcurrently, e.Name)
}

// remove deletes an entry: its metadata and every version.
func (c *config) remove(ctx context.Context, name string) (pluginsdk.Entry, error) {
	out := pluginsdk.Entry{Name: name}
	if err := pluginsdk.ValidateName(name); err != nil {
		return out, err
	}
	md, err := c.readMetadata(ctx, name)
	if errors.Is(err, errNoEntry) {
		return out, c.notFound(name)
	}
	if err != nil {
		return out, err
	}
	if _, live := md.current(); !live {
		return out, c.notFound(name)
	}
	err = c.send(ctx, request{method: "DELETE", path: c.metadataPath(name), need: "delete", policyPath: c.metadataPolicy()}, nil)
	return out, err
}

func (c *config) notFound(name string) error {
	return pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found (Vault at %s, %s)", name, c.address, c.dataPath(name))
}
