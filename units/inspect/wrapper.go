package inspect

import (
	"fmt"
	"path"
	"strings"

	"github.com/hardway-dev/hardway/units/flags"
)

// Wrappers: a component is often started through another program, whose own arguments come
// first. unwrap follows the two common ones to the component's command line:
//
//   - go-runner (kube-log-runner), the ENTRYPOINT of the official Kubernetes server images
//     (kubernetes/release images/build/go-runner/Dockerfile; source
//     k8s.io/component-base/logs/kube-log-runner). It parses its own flags with Go's flag
//     package — --log-file (string), --also-stdout and --redirect-stderr (booleans) — which
//     stops at the first non-flag argument or after "--"; the rest is the command it runs.
//     Any other flag makes it exit ("flag provided but not defined"); no command, too ("not
//     enough arguments to run").
//   - a POSIX shell given a script with -c (sh, bash, dash, ash, busybox sh): the script is
//     split into simple commands (; && || | & and newlines separate them; quotes, backslashes,
//     comments and redirections as sh reads them), and the command that runs a known
//     component is taken, an exec'd one first; "$@" and $1... are the arguments after the
//     script. What the shell computes only at run time ($VAR, $(...), `...`) is kept as
//     written and reported.
//
// A wrapper that cannot be followed is reported plainly (input-wrapper) rather than inspected
// as if it were the component.

// shells are the programs whose -c script unwrap reads.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "busybox": true}

// goRunnerFlags are go-runner's flags and whether each is boolean.
var goRunnerFlags = map[string]bool{"log-file": false, "also-stdout": true, "redirect-stderr": true}

// unwrap returns the command line argv runs once its wrappers are followed, and the problems
// met. ok is false when argv is a wrapper that cannot be followed to a known component.
func unwrap(cat *flags.Catalogue, argv []Word) (out []Word, problems []Finding, ok bool) {
	for depth := 0; depth < 4 && len(argv) > 0; depth++ {
		base := path.Base(argv[0].Value)
		var next []Word
		var probs []Finding
		switch {
		case base == "go-runner" || base == "kube-log-runner":
			next, probs = unwrapGoRunner(argv)
		case shells[base]:
			if base == "busybox" {
				if len(argv) < 2 || !shells[argv[1].Value] || argv[1].Value == "busybox" {
					return argv, problems, true
				}
				argv = argv[1:]
			}
			var wrapped bool
			next, probs, wrapped = unwrapShell(cat, argv)
			if !wrapped {
				return argv, problems, true // a shell running a script file: not a wrapper form we read
			}
		default:
			return argv, problems, true
		}
		problems = append(problems, probs...)
		if next == nil {
			return argv, problems, false
		}
		argv = next
	}
	return argv, problems, true
}

// recognized reports whether argv runs a known component.
func recognized(cat *flags.Catalogue, argv []Word) bool {
	rest := make([]string, 0, len(argv)-1)
	for _, w := range argv[1:] {
		rest = append(rest, w.Value)
	}
	comp, _ := Recognize(cat, argv[0].Value, rest)
	return comp != ""
}

func wrapperProblem(o Origin, format string, a ...any) Finding {
	return Finding{ID: "input-wrapper", Message: fmt.Sprintf(format, a...), Origin: o}
}

// unwrapGoRunner skips go-runner's own flags, as Go's flag package parses them.
func unwrapGoRunner(argv []Word) ([]Word, []Finding) {
	name := path.Base(argv[0].Value)
	var probs []Finding
	i := 1
	for ; i < len(argv); i++ {
		a := argv[i].Value
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		n := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		n, _, hasValue := strings.Cut(n, "=")
		isBool, known := goRunnerFlags[n]
		if !known {
			probs = append(probs, wrapperProblem(argv[i].Origin, "%s has no flag %s: it exits with \"flag provided but not defined\" before starting anything (its flags are --log-file, --also-stdout, --redirect-stderr, then the command, optionally after --)", name, a))
			return nil, probs
		}
		if !isBool && !hasValue {
			i++ // the value is the next argument
			if i >= len(argv) {
				probs = append(probs, wrapperProblem(argv[i-1].Origin, "%s: %s needs a value, and no command follows", name, a))
				return nil, probs
			}
		}
	}
	if i >= len(argv) {
		probs = append(probs, wrapperProblem(argv[0].Origin, "%s is given no command to run: it exits with \"not enough arguments to run\"", name))
		return nil, probs
	}
	return argv[i:], probs
}

// unwrapShell reads "sh [options] -c script [$0 [args...]]". wrapped is false when argv is
// not that form (a shell running a script file, or an interactive one).
func unwrapShell(cat *flags.Catalogue, argv []Word) (next []Word, probs []Finding, wrapped bool) {
	shell := path.Base(argv[0].Value)
	ci := -1
	for i := 1; i < len(argv); i++ {
		a := argv[i].Value
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		if !strings.HasPrefix(a, "--") && strings.Contains(a, "c") { // -c, -ec, -xc ...
			ci = i
			break
		}
	}
	if ci < 0 {
		return nil, nil, false
	}
	if ci+1 >= len(argv) {
		return nil, []Finding{wrapperProblem(argv[ci].Origin, "%s -c is given no script", shell)}, true
	}
	script := argv[ci+1]
	positional := argv[ci+2:] // $0, $1, ...
	text, kubeRefs := hideKubeRefs(script)
	cmds, err := splitShell(text)
	if err != nil {
		return nil, []Finding{wrapperProblem(script.Origin, "the %s -c script cannot be read (%v); give the component's command line directly", shell, err)}, true
	}
	best, bestExec := -1, false
	for i, c := range cmds {
		words, isExec := commandWords(c)
		if len(words) == 0 {
			continue
		}
		argv := make([]Word, len(words))
		for j, w := range words {
			v, _ := restoreKubeRefs(w.text, kubeRefs)
			argv[j] = Word{Value: v}
		}
		if argv, _, ok := unwrap(cat, argv); !ok || !recognized(cat, argv) {
			continue
		}
		if best < 0 || (isExec && !bestExec) {
			best, bestExec = i, isExec
		}
	}
	if best < 0 {
		return nil, []Finding{wrapperProblem(script.Origin, "the %s -c script runs no component hardway knows (%s); its command line cannot be inspected from here: give it directly", shell, abbreviate(script.Value, 80))}, true
	}
	words, _ := commandWords(cmds[best])
	for _, w := range words {
		switch {
		case w.text == "$@" || w.text == "$*":
			if len(positional) > 1 {
				next = append(next, positional[1:]...)
			}
			continue
		case len(w.text) == 2 && w.text[0] == '$' && w.text[1] >= '0' && w.text[1] <= '9':
			if n := int(w.text[1] - '0'); n < len(positional) {
				next = append(next, positional[n])
			}
			continue
		}
		value, refs := restoreKubeRefs(w.text, kubeRefs)
		raw, _ := restoreKubeRefs(w.raw, kubeRefs)
		if w.dynamic {
			probs = append(probs, Finding{ID: "input-wrapper-runtime", Origin: script.Origin, Message: fmt.Sprintf("%q in the %s -c script is computed by the shell at run time; it is inspected as written", raw, shell)})
		}
		next = append(next, Word{Value: value, Raw: raw, RunTime: refs, Origin: script.Origin})
	}
	return next, probs, true
}

// hideKubeRefs replaces the manifest $(VAR) references of a -c script that the kubelet expands
// before the shell starts (script.RunTime: fieldRef, ConfigMap, envFrom values) with marks the
// shell splitter reads as plain text: they are not command substitution, and the shell never sees
// them. restoreKubeRefs puts them back and returns the references a word holds, so the words keep
// their run-time kind.
func hideKubeRefs(script Word) (string, []RunTimeRef) {
	s := script.Value
	var refs []RunTimeRef
	for _, r := range script.RunTime {
		ref := "$(" + r.Var + ")"
		if !strings.Contains(s, ref) {
			continue
		}
		s = strings.ReplaceAll(s, ref, kubeRefMark(len(refs)))
		refs = append(refs, r)
	}
	return s, refs
}

func restoreKubeRefs(s string, refs []RunTimeRef) (string, []RunTimeRef) {
	var used []RunTimeRef
	for i, r := range refs {
		if m := kubeRefMark(i); strings.Contains(s, m) {
			s = strings.ReplaceAll(s, m, "$("+r.Var+")")
			used = append(used, r)
		}
	}
	return s, used
}

// kubeRefMark is the i-th hidden reference: control characters no script holds, which the
// splitter keeps inside a word.
func kubeRefMark(i int) string { return fmt.Sprintf("\x01%d\x01", i) }

// commandWords drops what precedes the program in a simple command: shell keywords that
// can start a command in a list (then, do, else, !, {), variable assignments, and exec.
func commandWords(c []shellWord) (words []shellWord, isExec bool) {
	for len(c) > 0 {
		w := c[0]
		switch {
		case !w.quoted && (w.text == "then" || w.text == "do" || w.text == "else" || w.text == "!" || w.text == "{"):
		case !w.quoted && w.text == "exec":
			isExec = true
		case !w.quoted && isAssignment(w.text):
		default:
			return c, isExec
		}
		c = c[1:]
	}
	return nil, isExec
}

func isAssignment(s string) bool {
	k, _, ok := strings.Cut(s, "=")
	return ok && envName.MatchString(k)
}

func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// shellWord is one word of a shell command: its text after quote removal, as written, whether
// any part was quoted, and whether the shell would expand part of it at run time.
type shellWord struct {
	text, raw       string
	quoted, dynamic bool
}

// splitShell splits a POSIX shell script into simple commands: words separated by blanks;
// ; & | && || ( ) and newlines end a command; '...' is literal; in "..." a backslash escapes
// only $ ` " \ and newline; outside quotes a backslash makes the next character literal (and
// backslash-newline joins lines); # at the start of a word comments to the end of the line;
// redirections ([n]> [n]>> [n]< [n]>& [n]<& &> with their target) are dropped. $NAME,
// ${...}, $(...) and `...` are kept as written and mark the word dynamic.
func splitShell(s string) ([][]shellWord, error) {
	var cmds [][]shellWord
	var cur []shellWord
	var b strings.Builder
	var w shellWord
	inWord, redirect := false, false
	start := 0
	endWord := func(i int) {
		if !inWord {
			return
		}
		w.text, w.raw = b.String(), s[start:i]
		if redirect {
			redirect = false // the target of a redirection: not an argument
		} else {
			cur = append(cur, w)
		}
		b.Reset()
		w, inWord = shellWord{}, false
	}
	endCmd := func() {
		if len(cur) > 0 {
			cmds = append(cmds, cur)
		}
		cur = nil
	}
	begin := func(i int) {
		if !inWord {
			inWord, start = true, i
		}
	}
	// dollar copies a $ expansion starting at s[i] into the word and returns its end.
	dollar := func(i int) (int, error) {
		w.dynamic = true
		j := i + 1
		switch {
		case j < len(s) && (s[j] == '(' || s[j] == '{'):
			open, closer := s[j], byte(')')
			if open == '{' {
				closer = '}'
			}
			depth := 0
			for ; j < len(s); j++ {
				if s[j] == open {
					depth++
				} else if s[j] == closer {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if j >= len(s) {
				return 0, fmt.Errorf("unterminated $%c", open)
			}
			j++
		case j < len(s) && strings.IndexByte("@*#?-$!0123456789", s[j]) >= 0:
			j++
		default:
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if j == i+1 {
				w.dynamic = false // a lone $ is literal
			}
		}
		b.WriteString(s[i:j])
		return j, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) && s[i+1] == '\n' {
				i += 2
				continue
			}
			begin(i)
			w.quoted = true
			if i+1 < len(s) {
				b.WriteByte(s[i+1])
			}
			i += 2
		case c == '\'':
			begin(i)
			w.quoted = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' quote")
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			begin(i)
			w.quoted = true
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated \" quote")
				}
				if s[i] == '"' {
					i++
					break
				}
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0:
					if s[i+1] != '\n' {
						b.WriteByte(s[i+1])
					}
					i += 2
				case s[i] == '$':
					j, err := dollar(i)
					if err != nil {
						return nil, err
					}
					i = j
				case s[i] == '`':
					j := strings.IndexByte(s[i+1:], '`')
					if j < 0 {
						return nil, fmt.Errorf("unterminated ` quote")
					}
					w.dynamic = true
					b.WriteString(s[i : i+j+2])
					i += j + 2
				default:
					b.WriteByte(s[i])
					i++
				}
			}
		case c == '$':
			begin(i)
			j, err := dollar(i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '`':
			begin(i)
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ` quote")
			}
			w.dynamic = true
			b.WriteString(s[i : i+j+2])
			i += j + 2
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '<' || c == '>' || (c == '&' && i+1 < len(s) && s[i+1] == '>'):
			// A redirection; a word of digits just before it is its file descriptor.
			if inWord && !w.quoted && isDigits(b.String()) {
				b.Reset()
				w, inWord = shellWord{}, false
			} else {
				endWord(i)
			}
			j := i + 1
			for j < len(s) && (s[j] == '>' || s[j] == '<' || s[j] == '&' || s[j] == '|') {
				j++
			}
			i = j
			redirect = true
			if j < len(s) && s[j] == '-' { // >&- closes a descriptor: no target
				i++
				redirect = false
			} else if strings.Contains(s[i-1:j], "&") && j < len(s) && isDigitByte(s[j]) {
				for i < len(s) && isDigitByte(s[i]) { // >&2: the target is a descriptor
					i++
				}
				redirect = false
			}
		case c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '\n':
			endWord(i)
			if redirect {
				return nil, fmt.Errorf("a redirection without a target")
			}
			endCmd()
			i++
		case c == ' ' || c == '\t' || c == '\r':
			endWord(i)
			i++
		default:
			begin(i)
			b.WriteByte(c)
			i++
		}
	}
	endWord(len(s))
	if redirect {
		return nil, fmt.Errorf("a redirection without a target")
	}
	endCmd()
	return cmds, nil
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigitByte(s[i]) {
			return false
		}
	}
	return true
}
