package dotenv

// Example is a .env file that shows the dialect; HelpText includes it, and the tests check
// that it parses as HelpText says.
const Example = `# Comments start with "#"; blank lines are ignored.
export APP_ENV=production          # "export " is optional
REGION = eu-central-1              # spaces or tabs around "=" are fine
DB_PASSWORD=pa55#w0rd$1            # a "#" inside a word is part of the value
API_TOKEN='tok\n$HOME'             # single quotes: everything is literal
GREETING="Hello,\n\"world\""       # double quotes: \n \r \t \" \\ \$ are escapes
TLS_KEY="-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
-----END PRIVATE KEY-----"         # quoted values may span lines
UNUSED=                            # a blank value: skipped and reported
`

// HelpText describes the .env dialect of Parse for users: "ast secrets import --help" and
// the README show it. It follows DESIGN.md "The .env import rules".
const HelpText = `A .env file holds one KEY=value per line:

` + Example + `
Keys
  - A key is a name: ASCII letters, digits and underscores, not starting with a
    digit, at most 128 bytes, case-sensitive. Any other key is an error that
    suggests a valid name (spring.datasource.url: did you mean SPRING_DATASOURCE_URL?).
  - "export " before a key is ignored. A line that is not blank, a comment or
    KEY=value is an error.
  - A key defined twice: the last definition wins, with a warning naming both lines.

Values
  - Unquoted: trimmed; a "#" after a space or tab starts a comment, a "#" inside a
    word is part of the value. Backslashes are kept as written.
  - 'single-quoted' and ` + "`backtick-quoted`" + ` values are literal: no escapes at all.
  - "double-quoted" values know the escapes \n (line feed), \r (carriage return),
    \t (tab), \" \\ and \$; any other backslash is kept ("C:\dir" is C:\dir).
  - After a closing quote only spaces and a "#" comment may follow: 'I'"'"'m' is an
    error, write "I'm" instead.
  - A quoted value may span lines (PEM keys, JSON); its line breaks are kept, as LF
    even in a file with CRLF line ends. A quote that is never closed is an error that
    names the line where it opened.
  - No interpolation: $VAR and ${VAR} are kept as written.
  - Blank values (KEY=, KEY="", KEY='') are skipped and reported by name.
  - A value is at most 64 KiB of text and holds no NUL byte.

The file is UTF-8 (a leading byte order mark is ignored) with LF or CRLF line ends.
Every problem of the file is reported with its line, and a file with any problem
imports nothing.
`
