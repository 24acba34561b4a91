package hashicorp

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"strconv"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
)

// The data key of the value, and the custom_metadata keys of the kind label (see the
// package documentation).
const (
	valueKey            = "value"
	labelKind           = "ast_kind"
	labelAccount        = "ast_account"
	labelKindVersion    = "ast_kind_version"
	labelKindCreatedAt  = "ast_kind_time"
	maxCreateAttempts   = 3
	changedConcurrently = "entry %q changed concurrently: another writer changed or deleted it while this one wrote; run the command again"
)

// Paths of an entry, and the policy paths that grant capabilities on all of the account's
// entries.
func (c *config) dataPath(name string) string     { return c.mount + "/data/" + c.folder + name }
func (c *config) metadataPath(name string) string { return c.mount + "/metadata/" + c.folder + name }
func (c *config) listPath() string                { return c.mount + "/metadata/" + c.folder }
func (c *config) dataPolicy() string              { return c.mount + "/data/" + c.folder + "*" }
func (c *config) metadataPolicy() string          { return c.mount + "/metadata/" + c.folder + "*" }

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

// kindOf reads the kind label: plain only when the label says plain and describes
// exactly this version (number and creation time); secret otherwise, the safe default.
func kindOf(custom map[string]string, v versionInfo) pluginsdk.Kind {
	if custom[labelKind] != string(pluginsdk.KindPlain) || custom[labelKindVersion] != strconv.FormatInt(v.Version, 10) {
		return pluginsdk.KindSecret
	}
	t, err := time.Parse(time.RFC3339Nano, custom[labelKindCreatedAt])
	if err != nil || !t.Equal(v.CreatedTime) {
		return pluginsdk.KindSecret
	}
	return pluginsdk.KindPlain
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

// writeData writes a new version with check-and-set: cas 0 writes only a name without a
// current version, cas N only over version N. Errors: errCASMismatch.
func (c *config) writeData(ctx context.Context, name string, value pluginsdk.Value, cas int64) (versionInfo, error) {
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
			"data":    map[string]string{valueKey: value.Reveal()},
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

// get reads one entry with its value.
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
	value, ok := d.Data[valueKey].(string)
	if !ok {
		return pluginsdk.Entry{Name: name}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"%s in Vault at %s has no text field %q: it was not written by ast (rewrite it with ast secrets update %s)",
			c.dataPath(name), c.address, valueKey, name)
	}
	return pluginsdk.Entry{
		Name:      name,
		Kind:      kindOf(d.Metadata.CustomMetadata, d.Metadata),
		Value:     pluginsdk.NewValue(value),
		Version:   d.Metadata.Version,
		UpdatedAt: d.Metadata.CreatedTime,
	}, nil
}

// listed reads the metadata of one listed name; ok is false when it holds no entry (a
// folder of someone else's, a deleted secret, one removed since the LIST).
func (c *config) listed(ctx context.Context, name string, values bool) (e pluginsdk.Entry, ok bool, err error) {
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
	e = pluginsdk.Entry{
		Name:      name,
		Kind:      kindOf(md.CustomMetadata, cur),
		Version:   cur.Version,
		CreatedAt: md.CreatedTime,
		UpdatedAt: cur.CreatedTime,
	}
	if e.Kind == pluginsdk.KindPlain && values {
		// The version the label describes, not the latest: a secret written since must
		// not be read as this plain value.
		d, err := c.readData(ctx, name, cur.Version)
		if errors.Is(err, errNoEntry) {
			return e, false, nil
		}
		if err != nil {
			return e, false, err
		}
		if v, isText := d.Data[valueKey].(string); isText {
			e.Value = pluginsdk.NewValue(v)
		}
	}
	return e, true, nil
}

// put writes one entry with mode and then its kind label.
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
			return out, err
		}
		return out, pluginsdk.Errorf(codeOrInternal(err),
			"entry %q was written (version %d) but its kind label was not, so it reads as a secret until it is written again: %v",
			e.Name, v.Version, err)
	}
	return out, nil
}

// create writes a name that has no current version: check-and-set 0, or, when only
// deleted versions remain (vault kv delete), check-and-set on the deleted current version.
func (c *config) create(ctx context.Context, e pluginsdk.Entry) (versionInfo, time.Time, error) {
	for range maxCreateAttempts {
		v, err := c.writeData(ctx, e.Name, e.Value, 0)
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
		v, err = c.writeData(ctx, e.Name, e.Value, md.CurrentVersion)
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
	v, err := c.writeData(ctx, e.Name, e.Value, md.CurrentVersion)
	if errors.Is(err, errCASMismatch) {
		return versionInfo{}, time.Time{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, changedConcurrently, e.Name)
	}
	return v, md.CreatedTime, err
}

// upsert creates or writes over: check-and-set 0 first (one request for a new name), then
// on the current version. A writer that keeps losing gets ErrFailedPrecondition.
func (c *config) upsert(ctx context.Context, e pluginsdk.Entry) (versionInfo, time.Time, error) {
	for range maxCreateAttempts {
		v, err := c.writeData(ctx, e.Name, e.Value, 0)
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
		v, err = c.writeData(ctx, e.Name, e.Value, md.CurrentVersion)
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

func codeOrInternal(err error) *pluginsdk.Error {
	var e *pluginsdk.Error
	if errors.As(err, &e) {
		return e
	}
	return pluginsdk.ErrInternal
}
