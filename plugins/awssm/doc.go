// Package awssm is ast's AWS Secrets Manager backend (ast account add NAME --backend awssm).
//
// # Layout
//
// Every entry is one AWS secret named PREFIX/ACCOUNT/NAME (prefix "ast" unless set), its
// SecretString the value. Version IDs are chosen by ast and carry the entry's write count
// and the value's kind (see versionIDPrefix), so that List and Get need no extra calls,
// concurrent updates of the same version are detected, and the kind is bound to the value
// it describes: only a writer of the value chooses a version ID. A current version ast did
// not write (a rotation, the console) reads as a secret. The tags ast:kind (secret or
// plain) and ast:account are for people reading the console; ast never believes them.
//
// # Settings
//
//	region                the AWS region; else AWS_REGION or the profile's region
//	profile               a profile of ~/.aws/config; else AWS_PROFILE or the default
//	prefix                the first part of every secret name (default ast)
//	kms_key_id            the KMS key new secrets are encrypted with (default aws/secretsmanager)
//	endpoint              the Secrets Manager endpoint URL; else AWS_ENDPOINT_URL_SECRETS_MANAGER,
//	                      AWS_ENDPOINT_URL, or AWS's endpoint of the region
//	recovery_window_days  7 to 30: how long AWS keeps a deleted entry restorable (default 30);
//	                      0: delete at once, without recovery
//
// Credentials come only from the AWS SDK's default chain (environment, the shared files and
// profiles, SSO, web identity, container and instance roles), resolved at the first call:
// Configure makes no network call.
//
// # Calls
//
//   - List: ListSecrets filtered by the name prefix PREFIX/ACCOUNT/, 100 a page, reading
//     kinds, versions and times from the listing; with values, BatchGetSecretValue of the
//     plain variables only.
//   - Get: BatchGetSecretValue, 20 names a call, at most 4 calls at once; never ListSecrets.
//   - Put: CreateSecret (create); DescribeSecret, PutSecretValue and, when the kind changes,
//     TagResource (update). Delete: DeleteSecret.
//   - Writes run at most 8 at once and at most 40 a second per plugin (AWS allows 50).
//     Calls AWS throttles or fails (HTTP 429, 5xx) are made up to 6 times with jittered
//     exponential back-off, each retry after throttling logged at warn level as a line
//     starting "retrying"; a connection error is retried twice, so an unreachable endpoint
//     fails within seconds.
//
// # Secrets ast did not write
//
// The path setting points an account at a folder others write too (an RDS rotation, the
// console). A secret there whose current version ast did not write (its version ID is not
// one of ast's) is external: a secret, never listed with a value; Get answers its
// SecretString whole, from which the host takes @NAME#FIELD (a top-level key of a JSON
// object); a SecretBinary is a per-name ErrFailedPrecondition. List with Fields reads the
// values of external secrets (BatchGetSecretValue) for their key names. With Unnamed,
// List adds the folder's secrets whose names are not entry names (api.key, one segment of
// AWS's name characters) as external secrets with NeedsAlias; the aliases setting
// (ALIAS:name, no "/") makes them entries.
//
// # Deleting and creating again
//
// Delete schedules the secret's deletion with the recovery window: AWS keeps it restorable
// (aws secretsmanager restore-secret) and ast no longer sees it. A later create of the same
// name purges that deleted secret (ForceDeleteWithoutRecovery, addressed by its ARN) and
// creates a new one, waiting up to 30 seconds for AWS to finish the purge. The new entry
// starts at version 1 with a history of its own: no old value survives as a previous
// version of it.
//
// # IAM permissions
//
// On arn:aws:secretsmanager:REGION:AWS_ACCOUNT:secret:PREFIX/*: secretsmanager:GetSecretValue,
// DescribeSecret, CreateSecret, PutSecretValue, DeleteSecret, TagResource. On "*":
// secretsmanager:ListSecrets and secretsmanager:BatchGetSecretValue. With kms_key_id:
// kms:Decrypt and kms:GenerateDataKey on that key.
package awssm
