package cli

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// chunks is a terminalInput that returns its chunks one read at a time, then nothing.
type chunks struct {
	list    [][]byte
	flushed bool
}

func (c *chunks) read(time.Duration) ([]byte, error) {
	if len(c.list) == 0 {
		return nil, nil
	}
	b := c.list[0]
	c.list = c.list[1:]
	return b, nil
}
func (c *chunks) flush() { c.flushed = true }

func TestReadAnswer(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
		err    error
	}{
		{"typed", []string{"abc", "\r"}, "abc", nil},
		{"enter as LF", []string{"abc\n"}, "abc", nil},
		{"backspace", []string{"abx\x7fc\r"}, "abc", nil},
		{"backspace on a multibyte rune", []string{"aé\x7fb\r"}, "ab", nil},
		{"ctrl-u", []string{"wrong\x15right\r"}, "right", nil},
		{"arrow keys ignored", []string{"a\x1b[Db\x1bOA\r"}, "ab", nil},
		{"bracketed paste of 3 lines", []string{"\x1b[200~l1\rl2\rl3\x1b[201~", "\r"}, "l1\nl2\nl3", nil},
		{"bracketed paste CRLF", []string{"\x1b[200~l1\r\nl2\n\x1b[201~\r"}, "l1\nl2\n", nil},
		{"paste markers split across reads", []string{"\x1b[20", "0~l1\rl2\x1b[2", "01~\r"}, "l1\nl2", nil},
		{"unbracketed paste in one read", []string{"l1\rl2\rl3\r"}, "", errMultiLinePaste},
		{"unbracketed paste in two reads", []string{"l1\r", "l2\r"}, "", errMultiLinePaste},
		{"stray ctrl-d after enter", []string{"v\r\x04"}, "v", nil},
		{"ctrl-c", []string{"ab\x03"}, "", errCancelled},
		{"ctrl-d on empty line", []string{"\x04"}, "", errCancelled},
		{"ctrl-d mid-line ignored", []string{"a\x04b\r"}, "ab", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &chunks{}
			for _, c := range tc.chunks {
				in.list = append(in.list, []byte(c))
			}
			got, err := readAnswer(context.Background(), in, io.Discard, false)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if string(got) != tc.want {
				t.Errorf("answer of %d bytes, want %d", len(got), len(tc.want)) // never the answer itself
			}
			if err == nil && !in.flushed {
				t.Error("pending input was not flushed")
			}
		})
	}
}

func TestTrimSingleLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v", "v"}, {"v\n", "v"}, {"v\r\n", "v"}, {"v\n\n", "v\n\n"},
		{"a\nb\n", "a\nb\n"}, {"a\nb", "a\nb"}, {"", ""}, {"\n", ""},
	}
	for _, tc := range tests {
		if got := string(trimSingleLine([]byte(tc.in))); got != tc.want {
			t.Errorf("trimSingleLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReadAnswerCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := readAnswer(ctx, &chunks{}, io.Discard, false); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
