package pluginsdk

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
)

// Code is a backend error code. Codes cross the wire as gRPC status codes.
type Code = codes.Code

// The error codes of the backend contract. Each is a sentinel: test with errors.Is.
//
//   - ErrNotFound: the name has no entry (Update, Delete, Get of a missing name).
//   - ErrAlreadyExists: Create of a name that has an entry.
//   - ErrInvalidArgument: a bad name, value, kind, mode or setting.
//   - ErrPermissionDenied: the backend refused the credentials for this operation.
//   - ErrUnavailable: the backend cannot be reached, or stayed throttled after retries.
//   - ErrFailedPrecondition: the backend is not in a state to serve (not configured, a
//     sealed Vault, a damaged store, a concurrent change lost a check-and-set).
//   - ErrInternal: anything else; a bug.
//   - ErrNotAttempted: a Put or Delete stopped (at a call-level error, or a cancellation)
//     before it tried this name: certainly not written or deleted. A backend that stops a
//     batch midway reports the names it never started with it; the host sets it on the
//     names of the parts of a split batch it never sent.
//   - ErrOutcomeUnknown: set by the host side, never by a backend: a Put or Delete failed
//     (the plugin died, went silent, the user pressed Ctrl-C) before the backend reported
//     this name's outcome, so it is not known whether the name was written or deleted.
var (
	ErrNotFound           = &Error{Code: codes.NotFound, Message: "not found"}
	ErrAlreadyExists      = &Error{Code: codes.AlreadyExists, Message: "already exists"}
	ErrInvalidArgument    = &Error{Code: codes.InvalidArgument, Message: "invalid argument"}
	ErrPermissionDenied   = &Error{Code: codes.PermissionDenied, Message: "permission denied"}
	ErrUnavailable        = &Error{Code: codes.Unavailable, Message: "unavailable"}
	ErrFailedPrecondition = &Error{Code: codes.FailedPrecondition, Message: "failed precondition"}
	ErrInternal           = &Error{Code: codes.Internal, Message: "internal error"}
	ErrNotAttempted       = &Error{Code: codes.Canceled, Message: "not attempted"}
	ErrOutcomeUnknown     = &Error{Code: codes.Aborted, Message: "outcome unknown"}
)

// Error is a backend error: a code and a message for humans. The message never contains
// an entry's value.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNotFound) true for every *Error with that code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Errorf returns an *Error with sentinel's code and a formatted message. Never format a
// Value's text into it (a Value formats as a redaction marker anyway).
func Errorf(sentinel *Error, format string, args ...any) error {
	return &Error{Code: sentinel.Code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err: the code of the first *Error in its chain, codes.OK for
// nil, codes.Unknown otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return codes.OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return codes.Unknown
}
