package awssm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"google.golang.org/grpc/codes"

	"github.com/ast-cli/ast/pluginsdk"
)

// purgeWait bounds how long a Create waits for AWS to finish purging a deleted secret of
// the same name (the purge is asynchronous; it usually takes seconds).
const purgeWait = 30 * time.Second

// secretName returns the AWS secret name of entry name: PREFIX/ACCOUNT/NAME.
// An alias (the aliases setting) stands for a secret whose name is not an entry name.
func (c *client) secretName(name string) string {
	if n, ok := c.aliases[name]; ok {
		return c.prefix + n
	}
	return c.prefix + name
}

// entryName returns the entry name of an AWS secret name, and false when the secret is
// not an entry of this account: another account whose name starts alike (acct2 beside
// acct, or a different case: AWS's name filter ignores case), or a deeper path.
func (c *client) entryName(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, c.prefix)
	if !ok {
		return "", false
	}
	if alias, aliased := c.aliasOf[rest]; aliased {
		return alias, true
	}
	if _, shadowed := c.aliases[rest]; shadowed || pluginsdk.ValidateName(rest) != nil {
		return "", false // an alias stands in front of it, or it is no entry name
	}
	return rest, true
}

// unnamed returns the rest of an AWS secret name in the account's folder that is not an
// entry name but one segment an alias can reach (db-creds, api.key), and true; false for
// anything else (an entry name, a deeper path, another account's secret).
func (c *client) unnamed(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, c.prefix)
	if !ok || strings.Contains(rest, "/") || !prefixPattern.MatchString(rest) || pluginsdk.ValidateName(rest) == nil {
		return "", false
	}
	if _, shadowed := c.aliases[rest]; shadowed {
		return "", false
	}
	if _, aliased := c.aliasOf[rest]; aliased {
		return "", false
	}
	return rest, true
}

// kindOf returns an entry's kind: the kind recorded in the ID of its current version,
// which only a writer of the value can choose (see versionIDPrefix); secret for a version
// ast did not write (a rotation, the console), whatever its ast:kind tag says: a tag is
// set by TagResource alone, without access to the value.
func kindOf(v versions) pluginsdk.Kind {
	if v.kind != "" {
		return v.kind
	}
	return pluginsdk.KindSecret
}

func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func (c *client) tags(k pluginsdk.Kind) []types.Tag {
	return []types.Tag{
		{Key: aws.String(tagKind), Value: aws.String(string(k))},
		{Key: aws.String(tagAccount), Value: aws.String(c.account)},
	}
}

func (c *client) list(ctx context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	in := &secretsmanager.ListSecretsInput{
		Filters:                []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{c.prefix}}},
		MaxResults:             aws.Int32(listPageSize),
		IncludePlannedDeletion: aws.Bool(false),
	}
	var entries []pluginsdk.Entry
	current := map[string]string{} // entry name → its current version ID, for plain values
	pages := secretsmanager.NewListSecretsPaginator(c.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, c.toError(opList, "", err)
		}
		for _, s := range page.SecretList {
			name, ok := c.entryName(aws.ToString(s.Name))
			unnamed := false
			if !ok && opts.Unnamed {
				name, unnamed = c.unnamed(aws.ToString(s.Name))
				ok = unnamed
			}
			if !ok || s.DeletedDate != nil {
				continue
			}
			v := readVersions(s.SecretVersionsToStages)
			e := pluginsdk.Entry{Name: name, Kind: kindOf(v), Version: v.number,
				CreatedAt: aws.ToTime(s.CreatedDate), UpdatedAt: aws.ToTime(s.LastChangedDate),
				External: v.kind == ""}
			if unnamed {
				// ast never writes such a name: an external secret, whatever its version ID.
				e.NeedsAlias, e.External, e.Kind = true, true, pluginsdk.KindSecret
			}
			if e.UpdatedAt.IsZero() {
				e.UpdatedAt = e.CreatedAt
			}
			entries = append(entries, e)
			current[name] = v.current
		}
	}
	slices.SortFunc(entries, func(a, b pluginsdk.Entry) int { return strings.Compare(a.Name, b.Name) })
	if !opts.Values && !opts.Fields {
		return entries, nil
	}

	var wanted []string
	for _, e := range entries {
		if opts.Values && e.Kind == pluginsdk.KindPlain || opts.Fields && e.External {
			wanted = append(wanted, e.Name)
		}
	}
	values, err := c.fetch(ctx, wanted)
	if err != nil {
		return nil, err
	}
	kept := entries[:0]
	for _, e := range entries {
		if opts.Fields && e.External {
			f := values[e.Name]
			if errors.Is(f.err, pluginsdk.ErrNotFound) {
				continue // deleted since ListSecrets answered
			}
			if f.err == nil {
				e.Fields = jsonKeys(f.value)
			}
		}
		if opts.Values && e.Kind == pluginsdk.KindPlain {
			f := values[e.Name]
			switch {
			case errors.Is(f.err, pluginsdk.ErrNotFound):
				continue // deleted since ListSecrets answered
			case f.err != nil:
				return nil, f.err
			}
			// The value is shown only when it is the version listed, or a version ast wrote
			// as plain: a value written as a secret since the listing stays hidden.
			_, k, ours := parseVersionID(f.versionID)
			if f.versionID == current[e.Name] || (ours && k == pluginsdk.KindPlain) {
				e.Value = pluginsdk.NewValue(f.value)
			}
		}
		kept = append(kept, e)
	}
	return kept, nil
}

// jsonKeys returns the top-level keys of a JSON object value, sorted; nil when the value
// is not a JSON object (it has no fields).
func jsonKeys(value string) []string {
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(value), &obj) != nil || obj == nil {
		return nil
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fetched is the current version of one entry read by BatchGetSecretValue, or its error.
type fetched struct {
	value     string
	versionID string
	updated   time.Time
	err       error
}

// fetch reads the current values of the named entries (valid, distinct names) with
// BatchGetSecretValue, batchGetMax names a call, readWorkers calls at once. Per-name
// failures are in the map; the error is a failure of a whole call.
func (c *client) fetch(ctx context.Context, names []string) (map[string]fetched, error) {
	out := make(map[string]fetched, len(names))
	chunks := slices.Collect(slices.Chunk(names, batchGetMax))
	var mu sync.Mutex
	errs, _ := runBatch(ctx, singles(len(chunks)), readWorkers, func(ctx context.Context, i int) error {
		ids := make([]string, len(chunks[i]))
		asked := make(map[string]string, len(chunks[i])) // secret name → the name asked for
		for j, n := range chunks[i] {
			ids[j] = c.secretName(n)
			asked[ids[j]] = n
		}
		in := &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids}
		for {
			page, err := c.api.BatchGetSecretValue(ctx, in)
			if err != nil {
				return c.toError(opBatchGet, "", err)
			}
			mu.Lock()
			for _, v := range page.SecretValues {
				name, ok := asked[aws.ToString(v.Name)]
				if !ok {
					continue
				}
				f := fetched{versionID: aws.ToString(v.VersionId), updated: aws.ToTime(v.CreatedDate)}
				if v.SecretString == nil {
					f.err = pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
						"entry %q: secret %s holds binary data, not text", name, aws.ToString(v.Name))
				} else {
					f.value = *v.SecretString
				}
				out[name] = f
			}
			for _, e := range page.Errors {
				name, ok := asked[aws.ToString(e.SecretId)]
				if !ok {
					continue
				}
				out[name] = fetched{err: c.valueError(name, aws.ToString(e.ErrorCode), aws.ToString(e.Message))}
			}
			mu.Unlock()
			if page.NextToken == nil {
				return nil
			}
			in.NextToken = page.NextToken
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			out[n] = fetched{err: pluginsdk.Errorf(pluginsdk.ErrInternal,
				"AWS returned neither a value nor an error for entry %q", n)}
		}
	}
	return out, nil
}

// valueError maps a per-secret error of BatchGetSecretValue. A secret scheduled for
// deletion answers InvalidRequestException: for ast it does not exist.
func (c *client) valueError(name, code, msg string) error {
	if code == codeNotFound || code == codeInvalidRequest {
		return pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
	}
	return c.apiError("GetSecretValue", name, fmt.Sprintf("GetSecretValue of entry %q", name),
		&smithy.GenericAPIError{Code: code, Message: msg}, false)
}

func (c *client) get(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	results := make([]pluginsdk.Result, len(names))
	var distinct []string
	seen := map[string]bool{}
	for i, n := range names {
		results[i].Entry.Name = n
		if err := pluginsdk.ValidateName(n); err != nil {
			results[i].Err = err
		} else if !seen[n] {
			seen[n] = true
			distinct = append(distinct, n)
		}
	}
	values, err := c.fetch(ctx, distinct)
	if err != nil {
		return nil, err
	}
	for i := range results {
		if results[i].Err != nil {
			continue
		}
		f := values[names[i]]
		if f.err != nil {
			results[i].Err = f.err
			continue
		}
		n, k, ours := parseVersionID(f.versionID)
		if !ours {
			n, k = 1, pluginsdk.KindSecret // written outside ast: a secret (see kindOf)
		}
		results[i].Entry = pluginsdk.Entry{Name: names[i], Kind: k, Value: pluginsdk.NewValue(f.value),
			Version: n, UpdatedAt: f.updated, External: !ours}
	}
	return results, nil
}

// validateEntry checks what a Put is given; errors are per-name ErrInvalidArgument.
func validateEntry(e pluginsdk.Entry) error {
	if err := pluginsdk.ValidateName(e.Name); err != nil {
		return err
	}
	if !e.Kind.Valid() {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "entry %q: unknown kind %q (want secret or plain)", e.Name, e.Kind)
	}
	if err := pluginsdk.ValidateValue(e.Value); err != nil {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "entry %q: %v", e.Name, err)
	}
	return nil
}

func (c *client) putAll(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	results := make([]pluginsdk.Result, len(entries))
	started := make([]bool, len(entries)) // each index is set by one goroutine and read after runBatch
	errs, stop := runBatch(ctx, byName(len(entries), func(i int) string { return entries[i].Name }), writeWorkers, func(ctx context.Context, i int) error {
		started[i] = true
		if err := validateEntry(entries[i]); err != nil {
			return err
		}
		written, err := c.put(ctx, entries[i], mode)
		results[i].Entry = written
		report(ctx, i, results[i], entries[i].Name, err)
		return err
	})
	reportNotStarted(ctx, started, errs, func(i int) string { return entries[i].Name })
	return finish(results, errs, stop, func(i int) string { return entries[i].Name })
}

func (c *client) deleteAll(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	results := make([]pluginsdk.Result, len(names))
	started := make([]bool, len(names))
	errs, stop := runBatch(ctx, byName(len(names), func(i int) string { return names[i] }), writeWorkers, func(ctx context.Context, i int) error {
		started[i] = true
		if err := pluginsdk.ValidateName(names[i]); err != nil {
			return err
		}
		var err error
		results[i].Note, err = c.delete(ctx, names[i])
		report(ctx, i, results[i], names[i], err)
		return err
	})
	reportNotStarted(ctx, started, errs, func(i int) string { return names[i] })
	return finish(results, errs, stop, func(i int) string { return names[i] })
}

// reportNotStarted reports the items a stopped batch never started (runBatch gave them the
// error that stopped it) as ErrNotAttempted, and gives them that error in errs as well.
func reportNotStarted(ctx context.Context, started []bool, errs []error, name func(int) string) {
	for i := range started {
		if !started[i] && errs[i] != nil {
			errs[i] = pluginsdk.Errorf(pluginsdk.ErrNotAttempted, "not attempted: the batch stopped at an earlier error: %v", errs[i])
			pluginsdk.Report(ctx, i, pluginsdk.Result{Entry: pluginsdk.Entry{Name: name(i)}, Err: errs[i]})
		}
	}
}

// report reports item i's result r (of entry name, failed with err) to the host when its
// outcome is certain: written, or refused for that name alone with nothing written. An
// error that may hide a write (a timeout, a lost connection) or that stopped the batch
// is left to the final results, or, when the call fails, unknown to the host.
func report(ctx context.Context, i int, r pluginsdk.Result, name string, err error) {
	switch pluginsdk.CodeOf(err) {
	case codes.OK, codes.InvalidArgument, codes.AlreadyExists, codes.NotFound, codes.FailedPrecondition, codes.PermissionDenied:
	default:
		return
	}
	if err != nil && stopsBatch(err) {
		return
	}
	r.Entry.Name, r.Err = name, err
	pluginsdk.Report(ctx, i, r)
}

// finish fills in the names and errors of a write batch. A batch stopped by an error every
// name would meet (see stopsBatch) before anything was written fails as a whole.
func finish(results []pluginsdk.Result, errs []error, stop error, name func(int) string) ([]pluginsdk.Result, error) {
	wrote := false
	for i := range results {
		results[i].Entry.Name = name(i)
		results[i].Err = errs[i]
		if errs[i] != nil {
			results[i].Note = ""
		}
		wrote = wrote || errs[i] == nil
	}
	if stop != nil && !wrote {
		return nil, stop
	}
	return results, nil
}

// put writes one valid entry. An Upsert that races with a create or a delete of the same
// name tries again, a few times.
func (c *client) put(ctx context.Context, e pluginsdk.Entry, mode pluginsdk.PutMode) (pluginsdk.Entry, error) {
	if mode == pluginsdk.Create {
		return c.create(ctx, e)
	}
	for range 3 {
		d, err := c.describe(ctx, e.Name)
		if err != nil {
			return pluginsdk.Entry{}, err
		}
		live := d != nil && d.DeletedDate == nil
		switch {
		case live:
			written, err := c.update(ctx, e, d)
			if mode == pluginsdk.Upsert && errors.Is(err, pluginsdk.ErrNotFound) {
				continue // deleted meanwhile: create it
			}
			return written, err
		case mode == pluginsdk.Update:
			return pluginsdk.Entry{}, pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", e.Name)
		default:
			written, err := c.create(ctx, e)
			if errors.Is(err, pluginsdk.ErrAlreadyExists) {
				continue // created meanwhile: update it
			}
			return written, err
		}
	}
	return pluginsdk.Entry{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
		"entry %q kept being created and deleted by other writers while it was written; try again", e.Name)
}

// describe returns the secret of entry name, scheduled for deletion or not, or nil when
// there is none.
func (c *client) describe(ctx context.Context, name string) (*secretsmanager.DescribeSecretOutput, error) {
	d, err := c.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(c.secretName(name))})
	if apiCode(err) == codeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, c.toError(opDescribe, name, err)
	}
	return d, nil
}

// create creates the secret of entry e with CreateSecret: version 1, tagged with kind and
// account. When the name belongs to a secret in its recovery window (deleted by ast or
// anyone else), that secret is purged (DeleteSecret ForceDeleteWithoutRecovery, by ARN so
// that a secret created meanwhile is never touched) and the create is retried until AWS
// has finished purging, for at most purgeWait. Of concurrent creates of one name exactly
// one succeeds; the others get ErrAlreadyExists.
func (c *client) create(ctx context.Context, e pluginsdk.Entry) (pluginsdk.Entry, error) {
	in := &secretsmanager.CreateSecretInput{
		Name:         aws.String(c.secretName(e.Name)),
		SecretString: aws.String(e.Value.Reveal()),
		Tags:         c.tags(e.Kind),
	}
	if c.set.kmsKeyID != "" {
		in.KmsKeyId = aws.String(c.set.kmsKeyID)
	}
	deadline := time.Now().Add(purgeWait)
	wait := 200 * time.Millisecond
	purged := ""
	for try := 0; ; try++ {
		if try > 0 && time.Now().After(deadline) {
			return pluginsdk.Entry{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
				"entry %q: AWS is still purging a deleted secret of this name; try again in a minute", e.Name)
		}
		in.ClientRequestToken = aws.String(versionID(1, e.Kind, randomTag()))
		_, err := c.api.CreateSecret(ctx, in)
		if err == nil {
			return pluginsdk.Entry{Name: e.Name, Kind: e.Kind, Version: 1}, nil
		}
		// AWS answers InvalidRequestException for a name scheduled for deletion, moto
		// ResourceExistsException: DescribeSecret tells which case this is.
		if code := apiCode(err); code != codeExists && code != codeInvalidRequest {
			return pluginsdk.Entry{}, c.toWriteError(opCreate, e.Name, err, e.Value.Reveal())
		}
		d, derr := c.describe(ctx, e.Name)
		switch {
		case derr != nil:
			return pluginsdk.Entry{}, derr
		case d == nil && (purged != "" || apiCode(err) == codeExists):
			// AWS is finishing a purge, or the secret went away just now: create again.
		case d == nil:
			return pluginsdk.Entry{}, c.toWriteError(opCreate, e.Name, err, e.Value.Reveal())
		case d.DeletedDate == nil:
			return pluginsdk.Entry{}, pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", e.Name)
		case aws.ToString(d.ARN) != purged:
			c.log.Debug("purging a deleted secret to create its name again", "secret", aws.ToString(d.Name))
			_, perr := c.api.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
				SecretId: d.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
			if perr != nil && apiCode(perr) != codeNotFound {
				return pluginsdk.Entry{}, c.toError(opDelete, e.Name, perr)
			}
			purged = aws.ToString(d.ARN)
			continue
		}
		pluginsdk.Heartbeat(ctx)
		select {
		case <-ctx.Done():
			return pluginsdk.Entry{}, c.toError(opCreate, e.Name, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// update writes e's value as a new current version of the live secret d, then retags it
// when its kind or account tag differs. The version ID is derived from the version being
// replaced (see versionIDPrefix): when another writer replaced it first, AWS refuses the
// write and the entry gets ErrFailedPrecondition.
func (c *client) update(ctx context.Context, e pluginsdk.Entry, d *secretsmanager.DescribeSecretOutput) (pluginsdk.Entry, error) {
	v := readVersions(d.VersionIdsToStages)
	_, err := c.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           d.ARN, // this very secret, not one created under the name meanwhile
		SecretString:       aws.String(e.Value.Reveal()),
		ClientRequestToken: aws.String(versionID(v.next, e.Kind, derivedTag(v.current))),
	})
	switch code := apiCode(err); {
	case err == nil:
	case code == codeExists:
		return pluginsdk.Entry{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"entry %q was changed by another writer at the same time; this write was not applied: try again", e.Name)
	case code == codeNotFound:
		return pluginsdk.Entry{}, pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", e.Name)
	case code == codeInvalidRequest:
		if now, derr := c.describe(ctx, e.Name); derr == nil && (now == nil || now.DeletedDate != nil ||
			aws.ToString(now.ARN) != aws.ToString(d.ARN)) {
			return pluginsdk.Entry{}, pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", e.Name)
		}
		return pluginsdk.Entry{}, c.toWriteError(opPut, e.Name, err, e.Value.Reveal())
	default:
		return pluginsdk.Entry{}, c.toWriteError(opPut, e.Name, err, e.Value.Reveal())
	}
	if tagValue(d.Tags, tagKind) != string(e.Kind) || tagValue(d.Tags, tagAccount) != c.account {
		// The kind that counts is in the version ID; the tag is for humans, so a failure
		// to retag does not fail the write.
		if _, terr := c.api.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: d.ARN, Tags: c.tags(e.Kind)}); terr != nil {
			c.log.Warn("could not update the tags of " + aws.ToString(d.Name) + ": " + c.toError(opTag, e.Name, terr).Error())
		}
	}
	return pluginsdk.Entry{Name: e.Name, Kind: e.Kind, Version: v.next}, nil
}

// delete deletes the secret of entry name: scheduled for deletion after the recovery
// window, or at once (by ARN, after a DescribeSecret, since AWS answers success for a
// forced delete of a name that does not exist) when the window is 0. A scheduled deletion
// returns the note for the user: "scheduled for deletion, restorable until DATE (recovery
// window N days)".
func (c *client) delete(ctx context.Context, name string) (note string, err error) {
	notFound := pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
	if c.set.recoveryWindowDays == 0 {
		d, err := c.describe(ctx, name)
		if err != nil {
			return "", err
		}
		if d == nil || d.DeletedDate != nil {
			return "", notFound
		}
		_, err = c.api.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: d.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
		if err != nil && apiCode(err) != codeNotFound {
			return "", c.toError(opDelete, name, err)
		}
		return "", nil
	}
	out, err := c.api.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
		SecretId:             aws.String(c.secretName(name)),
		RecoveryWindowInDays: aws.Int64(int64(c.set.recoveryWindowDays)),
	})
	switch apiCode(err) {
	case "":
		if err != nil {
			return "", c.toError(opDelete, name, err)
		}
		return deletionNote(out.DeletionDate, c.set.recoveryWindowDays), nil
	case codeNotFound:
		return "", notFound
	case codeInvalidRequest: // already scheduled for deletion, by AWS's and moto's words
		if d, derr := c.describe(ctx, name); derr == nil && (d == nil || d.DeletedDate != nil) {
			return "", notFound
		}
	}
	return "", c.toError(opDelete, name, err)
}

// deletionNote is the note of a deletion scheduled for when (AWS's DeletionDate; now plus
// the window when AWS did not say) with a recovery window of days.
func deletionNote(when *time.Time, days int) string {
	t := time.Now().AddDate(0, 0, days)
	if when != nil && !when.IsZero() {
		t = *when
	}
	unit := "days"
	if days == 1 {
		unit = "day"
	}
	return fmt.Sprintf("scheduled for deletion, restorable until %s (recovery window %d %s)", t.UTC().Format("2006-01-02"), days, unit)
}

// runBatch runs fn(ctx, i) for every item i of groups on at most workers goroutines and
// returns each item's error. The items of one group (the indices of one name given twice)
// run in order on one goroutine, so a batch behaves as if its items ran one by one. When an
// item fails with an error every other item would meet as well (see stopsBatch), no
// further item starts: those get that error, which is returned as stop.
func runBatch(ctx context.Context, groups [][]int, workers int, fn func(ctx context.Context, i int) error) (errs []error, stop error) {
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	errs = make([]error, n)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	run := func(i int) {
		mu.Lock()
		stopped := stop
		mu.Unlock()
		if stopped != nil {
			errs[i] = stopped
			return
		}
		err := fn(ctx, i)
		mu.Lock()
		switch {
		case err != nil && stop != nil && errors.Is(err, pluginsdk.ErrUnavailable):
			err = stop // canceled because another item stopped the batch
		case err != nil && stop == nil && stopsBatch(err):
			stop = err
			cancel(err)
		}
		mu.Unlock()
		errs[i] = err
	}
	for range min(workers, len(groups)) {
		wg.Go(func() {
			for {
				mu.Lock()
				g := next
				next++
				mu.Unlock()
				if g >= len(groups) {
					return
				}
				for _, i := range groups[g] {
					run(i)
				}
			}
		})
	}
	wg.Wait()
	return errs, stop
}

// singles returns the groups of n items that run independently.
func singles(n int) [][]int {
	groups := make([][]int, n)
	for i := range groups {
		groups[i] = []int{i}
	}
	return groups
}

// byName groups the indices 0..n-1 by name(i), in order of first appearance.
func byName(n int, name func(int) string) [][]int {
	var groups [][]int
	at := map[string]int{}
	for i := range n {
		if g, ok := at[name(i)]; ok {
			groups[g] = append(groups[g], i)
			continue
		}
		at[name(i)] = len(groups)
		groups = append(groups, []int{i})
	}
	return groups
}
