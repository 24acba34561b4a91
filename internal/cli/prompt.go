package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"
	"unicode/utf8"
)

// Bracketed paste (xterm, and every common terminal since): once enabled with
// pasteOn, the terminal wraps pasted text in pasteStart … pasteEnd, so a paste of
// several lines is told apart from lines typed and ended with Enter.
const (
	pasteOn    = "\x1b[?2004h"
	pasteOff   = "\x1b[?2004l"
	pasteStart = "\x1b[200~"
	pasteEnd   = "\x1b[201~"
)

// errMultiLinePaste is a prompt answer of several lines that the terminal did not
// bracket: the lines after the first were drained (never left for the shell) and the
// value refused.
var errMultiLinePaste = usageErrorf("the pasted value has more than one line and this terminal does not mark pastes; " +
	"nothing was stored and the rest of the paste was discarded. Give a multi-line value with --value-file FILE, " +
	"or on standard input (ast secrets set NAME < FILE)")

// lineEditor turns the bytes a terminal in raw mode sends into one answer: typed
// characters, Backspace, Ctrl-U, Enter, Ctrl-C, Ctrl-D on an empty line, and bracketed
// pastes (taken whole, line breaks included). Other escape sequences (arrow keys) are
// ignored. Echo, when visible, goes to echo; a hidden answer echoes nothing.
type lineEditor struct {
	echo    io.Writer
	visible bool

	value   []byte
	pending []byte // the start of an escape sequence split across reads
	inPaste bool
	done    bool
	err     error
	// rest is what followed Enter in the same read: the lines of an unbracketed paste.
	rest []byte
}

// feed consumes one read's bytes. It returns true when the answer is complete (done, or
// err set).
func (e *lineEditor) feed(chunk []byte) bool {
	buf := append(e.pending, chunk...)
	e.pending = nil
	for i := 0; i < len(buf); {
		rest := buf[i:]
		if e.inPaste {
			j := bytes.Index(rest, []byte(pasteEnd))
			if j < 0 {
				// Keep a possible split pasteEnd for the next read.
				keep := partialSuffix(rest, pasteEnd)
				e.addPaste(rest[:len(rest)-keep])
				e.pending = append([]byte(nil), rest[len(rest)-keep:]...)
				return false
			}
			e.addPaste(rest[:j])
			e.inPaste = false
			i += j + len(pasteEnd)
			continue
		}
		c := rest[0]
		switch {
		case c == 0x1b:
			if bytes.HasPrefix(rest, []byte(pasteStart)) {
				e.inPaste = true
				i += len(pasteStart)
				continue
			}
			n, complete := escapeLen(rest)
			if !complete {
				e.pending = append([]byte(nil), rest...)
				return false
			}
			i += n
			continue
		case c == '\r' || c == '\n':
			e.done = true
			i++
			if c == '\r' && i < len(buf) && buf[i] == '\n' {
				i++
			}
			e.rest = append([]byte(nil), buf[i:]...)
			e.write("\r\n")
			return true
		case c == 0x03: // Ctrl-C
			e.err = errCancelled
			e.write("\r\n")
			return true
		case c == 0x04: // Ctrl-D: end of input on an empty line, else ignored
			if len(e.value) == 0 {
				e.err = errCancelled
				e.write("\r\n")
				return true
			}
		case c == 0x7f || c == 0x08: // Backspace
			if len(e.value) > 0 {
				_, size := utf8.DecodeLastRune(e.value)
				e.value = e.value[:len(e.value)-size]
				e.write("\b \b")
			}
		case c == 0x15: // Ctrl-U
			for len(e.value) > 0 {
				_, size := utf8.DecodeLastRune(e.value)
				e.value = e.value[:len(e.value)-size]
				e.write("\b \b")
			}
		case c < 0x20: // other control characters (Tab included) are taken as typed
			e.value = append(e.value, c)
		default:
			e.value = append(e.value, c)
			e.write(string(c))
		}
		i++
	}
	return false
}

// addPaste appends pasted text: terminals send a pasted line break as CR (or CR LF);
// it is stored as LF, as the text was copied.
func (e *lineEditor) addPaste(p []byte) {
	p = bytes.ReplaceAll(p, []byte("\r\n"), []byte("\n"))
	p = bytes.ReplaceAll(p, []byte("\r"), []byte("\n"))
	e.value = append(e.value, p...)
	if e.visible {
		e.write(string(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))))
	}
}

func (e *lineEditor) write(s string) {
	if e.visible || s == "\r\n" {
		io.WriteString(e.echo, s)
	}
}

// escapeLen returns the length of the escape sequence at the start of b (ESC [ params
// final, ESC O x, or ESC x) and whether b holds all of it.
func escapeLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '[':
		for i := 2; i < len(b); i++ {
			if b[i] >= 0x40 && b[i] <= 0x7e {
				return i + 1, true
			}
		}
		return 0, false
	case 'O':
		if len(b) < 3 {
			return 0, false
		}
		return 3, true
	}
	return 2, true
}

// partialSuffix returns the length of the longest suffix of b that is a proper prefix
// of marker.
func partialSuffix(b []byte, marker string) int {
	for n := min(len(b), len(marker)-1); n > 0; n-- {
		if bytes.HasSuffix(b, []byte(marker[:n])) {
			return n
		}
	}
	return 0
}

// terminalInput is the raw side of a terminal: read returns what is there within wait
// (nothing, and no error, when nothing came), or an error; flush discards unread input.
type terminalInput interface {
	read(wait time.Duration) ([]byte, error)
	flush()
}

// drainQuiet is how long input must stay quiet after Enter before the answer counts as
// typed rather than pasted; drainMax bounds the draining of a long unbracketed paste.
const (
	drainQuiet = 80 * time.Millisecond
	drainMax   = 3 * time.Second
	readStep   = 100 * time.Millisecond
)

// readAnswer runs a lineEditor over in until the answer is complete or ctx ends. After
// Enter, input that follows at once (an unbracketed multi-line paste) is read and
// discarded until the terminal is quiet, and the answer refused (errMultiLinePaste):
// those lines must never reach the shell.
func readAnswer(ctx context.Context, in terminalInput, echo io.Writer, visible bool) ([]byte, error) {
	e := &lineEditor{echo: echo, visible: visible}
	for {
		if err := ctx.Err(); err != nil {
			io.WriteString(echo, "\r\n")
			return nil, err
		}
		chunk, err := in.read(readStep)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errCancelled
			}
			return nil, err
		}
		if len(chunk) > 0 && e.feed(chunk) {
			break
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	pasted := hasText(e.rest)
	deadline := time.Now().Add(drainMax)
	for time.Now().Before(deadline) {
		chunk, err := in.read(drainQuiet)
		if err != nil || len(chunk) == 0 {
			break
		}
		pasted = pasted || hasText(chunk)
	}
	in.flush()
	if pasted {
		return nil, errMultiLinePaste
	}
	return e.value, nil
}

// hasText reports whether b holds a printable character: what follows Enter is the rest
// of a paste only then (a stray Ctrl-D or Enter is not).
func hasText(b []byte) bool {
	for _, c := range b {
		if c >= 0x20 && c != 0x7f {
			return true
		}
	}
	return false
}
