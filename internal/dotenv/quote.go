package dotenv

import "strings"

// Quote writes value in the .env dialect of Parse, so that the line KEY=Quote(value)
// parses back to exactly value. value should be a valid entry value
// (pluginsdk.ValidateValue): text that is not UTF-8 or holds a NUL cannot be written in any
// form Parse accepts.
//
// The result is always one line, in the plainest form that holds the value:
//   - "" for the empty value (which Parse reads as blank);
//   - the value itself when it has only letters, digits and _ - . , / : @ % + = ^ ~;
//   - 'value' in single quotes (literal) when it has no ', no LF and no CR;
//   - otherwise "value" in double quotes, with \\, \", \$, \n and \r escaped (\$ keeps
//     a shell that sources the file from expanding it).
func Quote(value string) string {
	switch {
	case value == "":
		return `""`
	case isBare(value):
		return value
	case !strings.ContainsAny(value, "'\n\r"):
		return "'" + value + "'"
	}
	var b strings.Builder
	b.Grow(len(value) + 2 + len(value)/8)
	b.WriteByte('"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\', '"', '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// isBare reports whether value can be written without quotes and read back unchanged:
// none of its bytes is a space, quote, "#", backslash, "$" or line end.
func isBare(value string) bool {
	for i := 0; i < len(value); i++ {
		c := value[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("_-.,/:@%+=^~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
