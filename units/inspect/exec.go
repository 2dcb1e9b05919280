package inspect

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Word is one argument of a command line: its value after quoting, escapes and variable
// expansion, the text it came from, and where that text is.
type Word struct {
	Value string `json:"value"`
	// Raw is the word as written (quotes and variables intact); --fix writes it back.
	Raw string `json:"raw,omitempty"`
	// Unresolved names the variables the word uses that no Environment= or EnvironmentFile=
	// defines; systemd would substitute an empty string for each.
	Unresolved []string `json:"unresolved,omitempty"`
	// Unbraced names $VAR references inside a longer word, which systemd passes on literally.
	Unbraced []string `json:"unbraced,omitempty"`
	// RunTime are the manifest $(VAR) references in the word whose values the kubelet knows
	// only when it starts the container; the Value keeps them as written.
	RunTime []RunTimeRef `json:"runTime,omitempty"`
	// FromEnv names the ETCD_* variable of the unit's environment the word stands for: etcd
	// reads a flag it was not given from that variable (see etcdEnvArgs). Such a word is not in
	// the command line, and --fix does not write it there.
	FromEnv string `json:"fromEnv,omitempty"`
	Origin  Origin `json:"origin"`
}

// Origin is where something was read: a file and line, a process, or standard input.
type Origin struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

func (o Origin) String() string {
	if o.Line > 0 {
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	}
	return o.File
}

// rawWord is a word as split from a command line before variable expansion.
type rawWord struct {
	value string // unquoted, unescaped
	raw   string // as written
	line  int    // 0-based line offset within the command line text
}

// SplitCommandLine splits a systemd ExecStart= value into words the way systemd does
// (extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE): whitespace separates words;
// single and double quotes group, anywhere in a word; C escapes (\n, \t, \\, \", \', \s, \xNN,
// \NNN, \uNNNN) are decoded inside and outside quotes; a backslash at the end of a line
// continues it. It does not expand variables or specifiers.
func SplitCommandLine(s string) ([]string, error) {
	rws, err := splitWords(s)
	if err != nil || len(rws) == 0 {
		return nil, err
	}
	out := make([]string, len(rws))
	for i, w := range rws {
		out[i] = w.value
	}
	return out, nil
}

func isSep(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func splitWords(s string) ([]rawWord, error) {
	var words []rawWord
	line := 0
	i := 0
	for {
		// Skip separators and line continuations.
		for i < len(s) {
			if isSep(s[i]) {
				if s[i] == '\n' {
					line++
				}
				i++
				continue
			}
			if s[i] == '\\' && i+1 < len(s) && s[i+1] == '\n' {
				i += 2
				line++
				continue
			}
			break
		}
		if i >= len(s) {
			return words, nil
		}
		start, startLine := i, line
		var b strings.Builder
		var quote byte
	word:
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\\':
				if i+1 >= len(s) {
					return nil, fmt.Errorf("column %d: a backslash ends the command line", i+1)
				}
				if s[i+1] == '\n' { // continuation inside a word: systemd turns it into a space
					if quote != 0 {
						b.WriteByte(' ')
					}
					i += 2
					line++
					if quote == 0 {
						break word
					}
					continue
				}
				r, n, err := unescape(s[i:])
				if err != nil {
					return nil, fmt.Errorf("column %d: %w", i+1, err)
				}
				b.WriteString(r)
				i += n
			case quote != 0:
				if c == quote {
					quote = 0
				} else {
					if c == '\n' {
						line++
					}
					b.WriteByte(c)
				}
				i++
			case c == '\'' || c == '"':
				quote = c
				i++
			case isSep(c):
				break word
			default:
				b.WriteByte(c)
				i++
			}
		}
		if quote != 0 {
			return nil, fmt.Errorf("column %d: unbalanced %c quote (systemd rejects the line)", start+1, quote)
		}
		words = append(words, rawWord{value: b.String(), raw: strings.TrimRight(s[start:i], "\\\n"), line: startLine})
	}
}

// unescape decodes the C escape at the start of s (s[0] == '\\') and returns the text and the
// number of bytes consumed.
func unescape(s string) (string, int, error) {
	c := s[1]
	switch c {
	case 'a':
		return "\a", 2, nil
	case 'b':
		return "\b", 2, nil
	case 'f':
		return "\f", 2, nil
	case 'n':
		return "\n", 2, nil
	case 'r':
		return "\r", 2, nil
	case 't':
		return "\t", 2, nil
	case 'v':
		return "\v", 2, nil
	case 's':
		return " ", 2, nil
	case '\\', '"', '\'', ' ', ';', '$', '%':
		return string(c), 2, nil
	case 'x':
		if len(s) < 4 {
			return "", 0, fmt.Errorf("short \\x escape")
		}
		n, err := strconv.ParseUint(s[2:4], 16, 8)
		if err != nil || n == 0 {
			return "", 0, fmt.Errorf("bad \\x escape %q", s[:4])
		}
		return string([]byte{byte(n)}), 4, nil
	case 'u', 'U':
		l := 4
		if c == 'U' {
			l = 8
		}
		if len(s) < 2+l {
			return "", 0, fmt.Errorf("short \\%c escape", c)
		}
		n, err := strconv.ParseUint(s[2:2+l], 16, 32)
		if err != nil || n == 0 || !utf8.ValidRune(rune(n)) {
			return "", 0, fmt.Errorf("bad \\%c escape %q", c, s[:2+l])
		}
		return string(rune(n)), 2 + l, nil
	case '0', '1', '2', '3':
		if len(s) < 4 {
			return "", 0, fmt.Errorf("short octal escape")
		}
		n, err := strconv.ParseUint(s[1:4], 8, 8)
		if err != nil || n == 0 {
			return "", 0, fmt.Errorf("bad octal escape %q", s[:4])
		}
		return string([]byte{byte(n)}), 4, nil
	}
	return "", 0, fmt.Errorf("unknown escape \\%c", c)
}

var (
	envName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	bracedVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\$`)
	bareVar   = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)`)
)

// ExecCommand is a parsed ExecStart= line.
type ExecCommand struct {
	// Prefixes are the special characters before the path (@, -, :, +, !).
	Prefixes string
	Argv     []Word
	// Extra holds the words after a lone ';' (a second command), which hardway does not run.
	Extra []Word
	// Dropped are the words that expanded to no argument at all: a $NAME standing alone whose
	// variable is not defined (Unresolved names it), or whose name is not a valid variable
	// name. Value is empty; Raw and Origin say where the word was.
	Dropped []Word
}

// ParseExec parses an ExecStart= value: prefixes, words, then systemd's environment
// substitution (unless the ':' prefix turns it off), as systemd's replace_env_argv does it
// (src/basic/env-util.c; systemd.service(5), "Command lines"):
//
//   - a word that starts with "$" (not "${" or "$$") is the variable named by the rest of the
//     word, replaced by its value split at whitespace, quotes removed: zero or more words. An
//     undefined variable, or a name that is not one (such as "$A-B"), gives zero words: the
//     word disappears from argv (recorded in ExecCommand.Dropped);
//   - inside any other word, ${NAME} is replaced by the value verbatim, always one word, and by
//     the empty string when undefined (recorded in Word.Unresolved); $$ is a literal $; a $NAME
//     without braces is passed on literally (recorded in Word.Unbraced).
//
// unit names the unit for the %n, %N and %p specifiers; origin is where the value starts.
func ParseExec(value string, env map[string]string, unit string, origin Origin) (*ExecCommand, error) {
	rws, err := splitWords(value)
	if err != nil {
		return nil, err
	}
	cmd := &ExecCommand{}
	if len(rws) == 0 {
		return cmd, nil
	}
	first := rws[0].value
	for len(first) > 0 && strings.ContainsRune("@-:+!", rune(first[0])) {
		cmd.Prefixes += first[:1]
		first = first[1:]
	}
	rws[0].value = first
	rws[0].raw = strings.TrimLeft(rws[0].raw, "@-:+!")
	if strings.Contains(cmd.Prefixes, "@") && len(rws) > 1 {
		// "@/path argv0 args": the second word is argv[0]; the binary is the first.
		rws = append(rws[:1], rws[2:]...)
	}
	expand := !strings.Contains(cmd.Prefixes, ":")
	target := &cmd.Argv
	for _, rw := range rws {
		if rw.raw == ";" {
			target = &cmd.Extra
			continue
		}
		o := Origin{File: origin.File}
		if origin.Line > 0 {
			o.Line = origin.Line + rw.line
		}
		v := specifiers(rw.value, unit)
		if !expand {
			*target = append(*target, Word{Value: v, Raw: rw.raw, Origin: o})
			continue
		}
		if len(v) > 1 && v[0] == '$' && v[1] != '{' && v[1] != '$' {
			name := v[1:]
			val, ok := env[name]
			if !ok || !envName.MatchString(name) {
				cmd.Dropped = append(cmd.Dropped, Word{Raw: rw.raw, Unresolved: []string{name}, Origin: o})
				continue
			}
			for _, f := range splitEnvValue(val) {
				*target = append(*target, Word{Value: f, Raw: rw.raw, Origin: o})
			}
			continue
		}
		w := Word{Raw: rw.raw, Origin: o}
		w.Value = bracedVar.ReplaceAllStringFunc(v, func(ref string) string {
			if ref == "$$" {
				return "$"
			}
			name := ref[2 : len(ref)-1]
			if val, ok := env[name]; ok {
				return val
			}
			w.Unresolved = append(w.Unresolved, name)
			return ""
		})
		for _, m := range bareVar.FindAllStringSubmatch(bracedVar.ReplaceAllString(v, ""), -1) {
			w.Unbraced = append(w.Unbraced, m[1])
		}
		*target = append(*target, w)
	}
	return cmd, nil
}

// splitEnvValue splits a variable's value the way systemd does for a $NAME standing alone
// (strv_split_full with EXTRACT_RELAX|EXTRACT_UNQUOTE): whitespace separates words, single and
// double quotes group and are removed, a backslash makes the next character literal, and an
// unterminated quote or trailing backslash is tolerated.
func splitEnvValue(s string) []string {
	var out []string
	var b strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
			in = true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case isSep(c):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

// specifiers resolves the unit-name specifiers systemd expands in ExecStart=; others (%h, %H,
// ...) depend on the host and are left as written.
func specifiers(s, unit string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	base := strings.TrimSuffix(unit, ".service")
	prefix := base
	if i := strings.Index(base, "@"); i >= 0 {
		prefix = base[:i]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '%':
			b.WriteByte('%')
		case 'n':
			b.WriteString(unit)
		case 'N':
			b.WriteString(base)
		case 'p':
			b.WriteString(prefix)
		default:
			b.WriteString(s[i : i+2])
		}
		i++
	}
	return b.String()
}
